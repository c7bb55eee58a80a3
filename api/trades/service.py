"""Trades: propose, answer, withdraw, and the swap itself.

Accepting swaps the two bookings' times and tables in one transaction: both service days are
locked in date order (the order every allocation takes them in, so nobody deadlocks), then both
reservation rows in id order; each booking is re-checked against the proposal's snapshot and each
party against the other's table; the claims are replaced through the occupancy constraint. Each
party keeps its own length of stay at its new time, so a longer stay that would run into the next
booking on its new table fails the constraint and nothing changes (409 TRADE_CONFLICT). Deposits
and frozen refund policies stay on their reservation rows, i.e. with their payers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from api.accounts.models import Role, User
from api.booking import allocation, lifecycle
from api.booking.models import Reservation, ReservationStatus
from api.db import atomic
from api.errors import Conflict, ErrorCode, Forbidden, NotFound
from api.extensions import db
from api.outbox import service as outbox_service
from api.restaurants.models import DiningTable
from api.trades.models import Trade, TradeStatus

# Outbox kind: {trade_id, event} with event one of proposed, accepted, rejected, withdrawn.
TRADE_EVENT = "trade.event"
OPEN_TRADE_CONSTRAINT = "uq_trades_open_pair"


@dataclass(frozen=True)
class TradeLists:
    sent: list[Trade]
    received: list[Trade]


def propose(
    *, actor: User, requester_reservation_id: uuid.UUID, target_reservation_id: uuid.UUID, message: str, now: datetime
) -> Trade:
    """Offer the caller's reservation for another guest's at the same restaurant.

    :raise 404 RESERVATION_NOT_FOUND: the offered booking is not the caller's, or the other does not exist.
    :raise 409 TRADE_NOT_POSSIBLE: not two confirmed future bookings of two signed-up guests at one restaurant.
    :raise 409 TRADE_EXISTS: the same proposal is already open.
    """
    with atomic():
        mine = db.session.get(Reservation, requester_reservation_id)
        theirs = db.session.get(Reservation, target_reservation_id)
        if mine is None or mine.user_id != actor.id or theirs is None:
            raise NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No such reservation.")
        _ensure_tradeable(mine, theirs, now=now)
        trade = Trade(
            restaurant_id=mine.restaurant_id,
            requester_id=actor.id,
            target_id=theirs.user_id,
            requester_reservation_id=mine.id,
            target_reservation_id=theirs.id,
            message=message,
            requester_starts_at=mine.starts_at,
            requester_table_id=mine.table_id,
            requester_party_size=mine.party_size,
            target_starts_at=theirs.starts_at,
            target_table_id=theirs.table_id,
            target_party_size=theirs.party_size,
            expires_at=min(mine.starts_at, theirs.starts_at),
            created_at=now,
        )
        db.session.add(trade)
        try:
            db.session.flush()
        except IntegrityError as err:
            if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == OPEN_TRADE_CONSTRAINT:
                raise Conflict(ErrorCode.TRADE_EXISTS, "You have already proposed this trade.") from err
            raise
        outbox_service.enqueue(TRADE_EVENT, trade_id=trade.id, event="proposed")
    return trade


def list_trades(*, actor: User) -> TradeLists:
    """The caller's proposals, sent and received, newest first."""
    query = select(Trade).options(*_LOAD_BOOKINGS).order_by(Trade.created_at.desc(), Trade.id)
    return TradeLists(
        sent=list(db.session.scalars(query.where(Trade.requester_id == actor.id))),
        received=list(db.session.scalars(query.where(Trade.target_id == actor.id))),
    )


def get_trade(*, actor: User, trade_id: uuid.UUID) -> Trade:
    """One trade, for the two guests in it and admins.

    :raise 404 TRADE_NOT_FOUND:
    """
    return _visible(actor, trade_id, for_update=False)


def respond(*, actor: User, trade_id: uuid.UUID, action: str, response_message: str, now: datetime) -> Trade:
    """The target accepts or rejects; the requester withdraws.

    :raise 404 TRADE_NOT_FOUND:
    :raise 403 FORBIDDEN: the action is the other guest's to take.
    :raise 409 TRADE_CLOSED: already answered, withdrawn or expired.
    :raise 409 TRADE_STALE: a booking changed or was cancelled since the proposal.
    :raise 409 TRADE_NOT_POSSIBLE: a party does not fit the other's table.
    :raise 409 TRADE_CONFLICT: a party's stay at its new time would overlap the next booking on its new table.
    """
    with atomic():
        trade = _visible(actor, trade_id, for_update=True)
        if trade.status != TradeStatus.PENDING or trade.expires_at <= now:
            raise Conflict(ErrorCode.TRADE_CLOSED, f"This trade is {shown_status(trade, now)}.")
        answering = actor.id == (trade.requester_id if action == "withdraw" else trade.target_id)
        if not answering:
            raise Forbidden(
                ErrorCode.FORBIDDEN,
                "Only the guest who proposed a trade can withdraw it."
                if action == "withdraw"
                else "Only the guest the trade was offered to can answer it.",
            )
        if action == "accept":
            _swap(trade, actor=actor, now=now)
        trade.status = {
            "accept": TradeStatus.ACCEPTED,
            "reject": TradeStatus.REJECTED,
            "withdraw": TradeStatus.WITHDRAWN,
        }[action]
        trade.response_message = response_message
        trade.decided_at = now
        outbox_service.enqueue(TRADE_EVENT, trade_id=trade.id, event=str(trade.status))
    return trade


def expire_trades(now: datetime) -> int:
    """Periodic job: close pending trades whose earlier booking has started. Returns how many."""
    with atomic():
        result = db.session.execute(
            update(Trade)
            .where(Trade.status == TradeStatus.PENDING, Trade.expires_at <= now)
            .values(status=TradeStatus.EXPIRED, decided_at=now)
        )
    return result.rowcount or 0


# --- the swap -------------------------------------------------------------------------------------


def _swap(trade: Trade, *, actor: User, now: datetime) -> None:
    first, second = trade.requester_reservation, trade.target_reservation
    restaurant = first.restaurant
    allocation.lock_service_days(restaurant, [first.service_date, second.service_date])
    # The rows in id order, read again after the locks: a change or cancellation that committed
    # meanwhile is seen, and one still running is waited for.
    locked = {
        r.id: r
        for r in db.session.scalars(
            select(Reservation)
            .where(Reservation.id.in_([first.id, second.id]))
            .order_by(Reservation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    mine, theirs = locked[trade.requester_reservation_id], locked[trade.target_reservation_id]
    if (
        not (_as_proposed(mine, trade, "requester") and _as_proposed(theirs, trade, "target"))
        or min(mine.starts_at, theirs.starts_at) <= now
    ):
        raise Conflict(
            ErrorCode.TRADE_STALE,
            "One of the bookings changed or was cancelled since this trade was proposed.",
        )
    tables = {
        t.id: t
        for t in db.session.scalars(select(DiningTable).where(DiningTable.id.in_([mine.table_id, theirs.table_id])))
    }
    for party, table in ((mine, tables[theirs.table_id]), (theirs, tables[mine.table_id])):
        if not table.min_seats <= party.party_size <= table.max_seats:
            raise Conflict(
                ErrorCode.TRADE_NOT_POSSIBLE,
                f"Table {table.number} does not seat a party of {party.party_size}.",
            )
    moves = [
        (
            mine,
            tables[theirs.table_id],
            allocation.Stay(theirs.starts_at, theirs.starts_at + (mine.ends_at - mine.starts_at)),
            theirs.service_date,
        ),
        (
            theirs,
            tables[mine.table_id],
            allocation.Stay(mine.starts_at, mine.starts_at + (theirs.ends_at - theirs.starts_at)),
            mine.service_date,
        ),
    ]
    for reservation, _table, _stay, _day in moves:
        allocation.release_reservation_claims(reservation_id=reservation.id)
    for reservation, table, stay, service_date in moves:
        try:
            allocation.insert_claims(restaurant_id=restaurant.id, table=table, stay=stay, reservation_id=reservation.id)
        except Conflict as err:
            raise Conflict(
                ErrorCode.TRADE_CONFLICT,
                f"The party of {reservation.party_size} would overlap the next booking on table {table.number}.",
            ) from err
        details = {
            "startsAt": [reservation.starts_at.isoformat(), stay.starts_at.isoformat()],
            "tableNumber": [tables[reservation.table_id].number, table.number],
            "tradeId": str(trade.id),
        }
        reservation.starts_at, reservation.ends_at = stay.starts_at, stay.ends_at
        reservation.service_date, reservation.table_id = service_date, table.id
        reservation.modified_at, reservation.reminder_sent_at = now, None  # remind of the new time
        lifecycle.record(
            reservation,
            action="trade",
            actor=lifecycle.Actor.of(actor),
            now=now,
            from_status=reservation.status,
            reason="swapped with another guest's booking",
            details=details,
        )
    # Other open proposals on either booking were made on terms that no longer hold.
    db.session.execute(
        update(Trade)
        .where(
            Trade.status == TradeStatus.PENDING,
            Trade.id != trade.id,
            or_(
                Trade.requester_reservation_id.in_([mine.id, theirs.id]),
                Trade.target_reservation_id.in_([mine.id, theirs.id]),
            ),
        )
        .values(status=TradeStatus.EXPIRED, decided_at=now)
    )


def _as_proposed(reservation: Reservation, trade: Trade, side: str) -> bool:
    return (
        reservation.status == ReservationStatus.CONFIRMED
        and reservation.starts_at == getattr(trade, f"{side}_starts_at")
        and reservation.table_id == getattr(trade, f"{side}_table_id")
        and reservation.party_size == getattr(trade, f"{side}_party_size")
    )


# --- rules and access -----------------------------------------------------------------------------


def _ensure_tradeable(mine: Reservation, theirs: Reservation, *, now: datetime) -> None:
    reason = None
    if mine.id == theirs.id:
        reason = "A booking cannot be traded for itself."
    elif theirs.user_id is None or theirs.user_id == mine.user_id:
        reason = "Trades are between two guests with accounts."
    elif mine.restaurant_id != theirs.restaurant_id:
        reason = "Both bookings must be at the same restaurant."
    elif mine.status != ReservationStatus.CONFIRMED or theirs.status != ReservationStatus.CONFIRMED:
        reason = "Only confirmed bookings can be traded."
    elif min(mine.starts_at, theirs.starts_at) <= now:
        reason = "Only bookings that have not started can be traded."
    if reason is not None:
        raise Conflict(ErrorCode.TRADE_NOT_POSSIBLE, reason)


_LOAD_BOOKINGS = (
    joinedload(Trade.requester_reservation).joinedload(Reservation.table),
    joinedload(Trade.target_reservation).joinedload(Reservation.table),
)


def _visible(actor: User, trade_id: uuid.UUID, *, for_update: bool) -> Trade:
    query = select(Trade).where(Trade.id == trade_id)
    # Locked for an answer (the bookings are read after the day locks); loaded whole for a read.
    query = query.with_for_update() if for_update else query.options(*_LOAD_BOOKINGS)
    trade = db.session.scalar(query.execution_options(populate_existing=True))
    if trade is None or (actor.id not in (trade.requester_id, trade.target_id) and actor.role != Role.ADMIN):
        raise NotFound(ErrorCode.TRADE_NOT_FOUND, "No such trade.")
    return trade


def shown_status(trade: Trade, now: datetime) -> str:
    """A pending trade past its expiry is expired, whether or not the periodic job has marked it yet."""
    return TradeStatus.EXPIRED if trade.status == TradeStatus.PENDING and trade.expires_at <= now else trade.status
