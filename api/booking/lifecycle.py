"""The status machine: which moves a reservation may make, and what each does. One table, one place.

    pending ──approve──> confirmed ──seat──> seated ──complete──> completed
       │                    │
       ├──reject──> rejected├──no_show──> no_show
       └──cancel──> cancelled <──cancel──┘

Every move is `apply(...)` on a reservation row the caller has locked (`FOR UPDATE`) inside its
transaction: it checks the move against `TRANSITIONS` (anything else is 409
`INVALID_TRANSITION` with the current status), sets the status, makes the table follow the
status (rejected, cancelled and no-show free it at once; seated keeps it; completed frees
what is left of the stay) and writes the audit row. Changes that are not moves (a new time,
party or table) are recorded with `record(...)`.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from api.accounts.models import Role, User
from api.booking import allocation
from api.booking.models import (
    ACTIVE_STATUSES,
    MAX_CLAIM,
    Reservation,
    ReservationEvent,
    ReservationStatus,
    TableOccupancy,
)
from api.db import atomic, get_settings
from api.errors import Conflict, ErrorCode, NotFound
from api.extensions import db
from api.outbox import service as outbox_service
from api.restaurants.models import DiningTable, Restaurant


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SEAT = "seat"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    CANCEL = "cancel"


S = ReservationStatus

# (current status, action) -> new status. Every move not listed is refused.
TRANSITIONS: dict[tuple[ReservationStatus, Action], ReservationStatus] = {
    (S.PENDING, Action.APPROVE): S.CONFIRMED,
    (S.PENDING, Action.REJECT): S.REJECTED,
    (S.PENDING, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.SEAT): S.SEATED,
    (S.CONFIRMED, Action.NO_SHOW): S.NO_SHOW,
    (S.CONFIRMED, Action.CANCEL): S.CANCELLED,
    (S.SEATED, Action.COMPLETE): S.COMPLETED,
}

# Statuses that give the table back the moment they are reached.
_FREES_TABLE = frozenset({S.REJECTED, S.CANCELLED, S.NO_SHOW})


@dataclass(frozen=True)
class Actor:
    """Who made a move: a signed-in user in the role they acted in, the worker, or a manage link."""

    role: str
    user_id: uuid.UUID | None = None

    @classmethod
    def of(cls, user: User, *, reservation: Reservation | None = None) -> Actor:
        """A user; on their own reservation they act as its guest, whatever their role."""
        if reservation is not None and reservation.user_id == user.id:
            return cls("guest", user.id)
        return cls("guest" if user.role == Role.CUSTOMER else str(user.role), user.id)


# Outbox message kind queued with every audit row: {reservation_id, event_id} (api.booking.notifications).
RESERVATION_EVENT = "reservation.event"

# Outbox message kind queued when a status gives a table back: {restaurant_id, service_date}
# (the waitlist offers it: api.booking.waitlist).
TABLE_FREED = "table.freed"

SYSTEM = Actor("system")
MANAGE_LINK = Actor("link")


def allowed(status: str, action: Action) -> bool:
    return (ReservationStatus(status), action) in TRANSITIONS


def ensure_allowed(reservation: Reservation, action: Action) -> ReservationStatus:
    """The status `action` leads to from the reservation's current one.

    :raise 409 INVALID_TRANSITION: the move is not in `TRANSITIONS` (details: the current status).
    """
    before = ReservationStatus(reservation.status)
    after = TRANSITIONS.get((before, action))
    if after is None:
        raise Conflict(
            ErrorCode.INVALID_TRANSITION,
            f"A {before.value} reservation cannot be {_past(action)}.",
            details={"status": before.value, "action": action.value},
        )
    return after


def apply(
    reservation: Reservation,
    action: Action,
    *,
    actor: Actor,
    now: datetime,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ReservationStatus:
    """Move a locked reservation by `action`; returns the status it left.

    :raise 409 INVALID_TRANSITION: the move is not in `TRANSITIONS` from the current status.
    """
    before = ReservationStatus(reservation.status)
    after = ensure_allowed(reservation, action)
    reservation.status = after
    if after == S.CANCELLED:
        reservation.cancelled_at = now
    if after in _FREES_TABLE:
        allocation.release_reservation_claims(reservation_id=reservation.id)
        outbox_service.enqueue(
            TABLE_FREED, restaurant_id=reservation.restaurant_id, service_date=reservation.service_date
        )
    elif after == S.COMPLETED:
        _end_claims_at(reservation.id, now)
    record(reservation, action=action.value, actor=actor, now=now, from_status=before, reason=reason, details=details)
    return before


def record(
    reservation: Reservation,
    *,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ReservationEvent:
    """Write one audit row for `reservation` as it now stands, and queue the emails it calls for."""
    event = ReservationEvent(
        reservation_id=reservation.id,
        at=now,
        actor_id=actor.user_id,
        actor_role=actor.role,
        action=action,
        from_status=from_status,
        to_status=reservation.status,
        reason=reason,
        details=details or {},
    )
    db.session.add(event)
    db.session.flush()  # the event's id, for the outbox message
    outbox_service.enqueue(RESERVATION_EVENT, reservation_id=reservation.id, event_id=event.id)
    return event


def history(reservation_id: uuid.UUID) -> list[ReservationEvent]:
    """A reservation's audit rows, oldest first."""
    return list(
        db.session.scalars(
            select(ReservationEvent)
            .where(ReservationEvent.reservation_id == reservation_id)
            .order_by(ReservationEvent.at, ReservationEvent.id)
        )
    )


def _end_claims_at(reservation_id: uuid.UUID, now: datetime) -> None:
    """A party that leaves early gives back the rest of its stay; a stay already over is left as it was."""
    db.session.execute(
        update(TableOccupancy)
        .where(
            TableOccupancy.reservation_id == reservation_id,
            TableOccupancy.starts_at < now,
            TableOccupancy.ends_at > now,
        )
        .values(ends_at=now)
    )


def _past(action: Action) -> str:
    return {
        Action.APPROVE: "approved",
        Action.REJECT: "rejected",
        Action.SEAT: "seated",
        Action.COMPLETE: "completed",
        Action.NO_SHOW: "marked a no-show",
        Action.CANCEL: "cancelled",
    }[action]


# --- what staff do on the floor (api/booking/staff_routes.py) -----------------------------------

# Outbox message kind of the guest's reminder: {reservation_id}; its email is api.booking.notifications'.
RESERVATION_REMINDER = "reservation.reminder"
# A moved booking's audit reason when an overstaying party keeps its table.
MOVED_BY_OVERSTAY = "moved: previous party overstayed"
# Rows a no-show run handles at most (the next run, a minute later, takes the rest).
_JOB_BATCH = 500


@dataclass(frozen=True)
class Moved:
    """A later booking moved to another table so that an overstaying party could keep its own."""

    reservation_id: uuid.UUID
    confirmation_code: str
    from_table_number: int
    to_table_number: int


@dataclass(frozen=True)
class Extended:
    reservation_id: uuid.UUID
    ends_at: datetime
    moved: list[Moved]


def _not_found() -> NotFound:
    return NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No such reservation.")


def _locked_for_staff(*, actor: User, reservation_id: uuid.UUID) -> Reservation:
    """The reservation locked `FOR UPDATE`, if `actor` manages its restaurant; 404 otherwise (ids cannot be probed)."""
    reservation = db.session.scalar(
        select(Reservation)
        .where(Reservation.id == reservation_id)
        .options(joinedload(Reservation.restaurant))
        .with_for_update(of=Reservation)
        .execution_options(populate_existing=True)
    )
    if reservation is None or not can_manage(actor, reservation.restaurant_id):
        raise _not_found()
    return reservation


def can_manage(actor: User, restaurant_id: uuid.UUID) -> bool:
    """Admins manage every restaurant, staff their own."""
    return actor.role == Role.ADMIN or (actor.role == Role.STAFF and actor.restaurant_id == restaurant_id)


def read_history(*, actor: User, reservation_id: uuid.UUID) -> tuple[Reservation, list[ReservationEvent]]:
    """A reservation's audit trail, for its guest (the signed-in owner) and the restaurant's staff.

    :raise 404 RESERVATION_NOT_FOUND: none, or neither the caller's booking nor their restaurant's.
    """
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None or not (
        (reservation.user_id is not None and reservation.user_id == actor.id)
        or can_manage(actor, reservation.restaurant_id)
    ):
        raise _not_found()
    return reservation, history(reservation.id)


def seat_reservation(*, actor: User, reservation_id: uuid.UUID, now: datetime, reason: str = "") -> uuid.UUID:
    """Seat a confirmed party: from `EARLY_SEATING_MINUTES` before its start until its stay ends.

    An early party's claim on the table starts when it sits down, so nobody else may be on it then.

    :raise 404 RESERVATION_NOT_FOUND: :raise 409 INVALID_TRANSITION: not confirmed.
    :raise 409 OUTSIDE_TIME_WINDOW: too early, or the stay is over.
    :raise 409 BOOKINGS_AFFECTED: an early party's table is still taken (details.bookings).
    """
    with atomic():
        reservation = _locked_for_staff(actor=actor, reservation_id=reservation_id)
        ensure_allowed(reservation, Action.SEAT)
        earliest = reservation.starts_at - timedelta(minutes=get_settings().early_seating_minutes)
        if not earliest <= now < reservation.ends_at:
            raise _outside_window(Action.SEAT, earliest=earliest, latest=reservation.ends_at, now=now)
        details: dict[str, Any] = {}
        if now < reservation.starts_at:
            _claim_earlier(reservation, now=now)
            details["seatedEarlyMinutes"] = int((reservation.starts_at - now).total_seconds() // 60)
        apply(
            reservation,
            Action.SEAT,
            actor=Actor.of(actor, reservation=reservation),
            now=now,
            reason=reason,
            details=details,
        )
        return reservation.id


def complete_reservation(*, actor: User, reservation_id: uuid.UUID, now: datetime, reason: str = "") -> uuid.UUID:
    """A seated party has left: completed, and the rest of its stay freed.

    :raise 404 RESERVATION_NOT_FOUND: :raise 409 INVALID_TRANSITION: not seated.
    """
    with atomic():
        reservation = _locked_for_staff(actor=actor, reservation_id=reservation_id)
        apply(reservation, Action.COMPLETE, actor=Actor.of(actor, reservation=reservation), now=now, reason=reason)
        return reservation.id


def mark_no_show(*, actor: User, reservation_id: uuid.UUID, now: datetime, reason: str = "") -> uuid.UUID:
    """A confirmed party did not come: a no-show (not before its start), and its table freed at once.

    :raise 404 RESERVATION_NOT_FOUND: :raise 409 INVALID_TRANSITION: not confirmed.
    :raise 409 OUTSIDE_TIME_WINDOW: the reservation has not started yet.
    """
    with atomic():
        reservation = _locked_for_staff(actor=actor, reservation_id=reservation_id)
        ensure_allowed(reservation, Action.NO_SHOW)
        if now < reservation.starts_at:
            raise _outside_window(Action.NO_SHOW, earliest=reservation.starts_at, latest=None, now=now)
        apply(reservation, Action.NO_SHOW, actor=Actor.of(actor, reservation=reservation), now=now, reason=reason)
        return reservation.id


def extend_stay(*, actor: User, reservation_id: uuid.UUID, minutes: int, now: datetime) -> Extended:
    """A seated party stays `minutes` longer and keeps its table.

    Under the service-day lock(s), each later booking on the table that the longer stay overlaps
    is moved to the best other free table that seats it (audited as a `change`); if one cannot
    be moved (no table free, a hold, a seated party), nothing changes.

    :raise 404 RESERVATION_NOT_FOUND: :raise 409 INVALID_TRANSITION: not seated.
    :raise 409 BOOKINGS_AFFECTED: bookings that could not be moved (details.bookings).
    """
    with atomic():
        reservation = _locked_for_staff(actor=actor, reservation_id=reservation_id)
        if reservation.status != S.SEATED:
            raise Conflict(
                ErrorCode.INVALID_TRANSITION,
                f"A {reservation.status} reservation cannot be extended; only a seated party can.",
                details={"status": reservation.status, "action": "extend"},
            )
        restaurant = reservation.restaurant
        old_end = reservation.ends_at
        new_end = old_end + timedelta(minutes=minutes)
        _lock_days(restaurant, reservation.starts_at, new_end)
        allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
        acting = Actor.of(actor, reservation=reservation)
        moved: list[Moved] = []
        stuck: list[dict[str, Any]] = []
        for claim in _claims_in_the_way(reservation, start=old_end, end=new_end, now=now):
            later = db.session.get(Reservation, claim.reservation_id) if claim.reservation_id else None
            if later is None or later.status not in ACTIVE_STATUSES:
                stuck.append(_describe_claim(claim, later))
                continue
            target = allocation.pick_table(
                restaurant=restaurant,
                stay=allocation.Stay(claim.starts_at, claim.ends_at),
                party_size=later.party_size,
                now=now,
            )
            if target is None:
                stuck.append(_describe_claim(claim, later))
                continue
            moved.append(_move(later, target, actor=acting, now=now))
        if stuck:
            raise Conflict(
                ErrorCode.BOOKINGS_AFFECTED,
                f"{len(stuck)} later booking(s) on this table could not be moved; the stay was not extended.",
                details={"bookings": stuck},
            )
        with allocation.race_lost_on_claim_collision():
            db.session.execute(
                update(TableOccupancy)
                .where(TableOccupancy.reservation_id == reservation.id, TableOccupancy.ends_at == old_end)
                .values(ends_at=new_end)
            )
        reservation.ends_at = new_end
        record(
            reservation,
            action="extend",
            actor=acting,
            now=now,
            from_status=reservation.status,
            details={"endsAt": [old_end.isoformat(), new_end.isoformat()]},
        )
        return Extended(reservation_id=reservation.id, ends_at=new_end, moved=moved)


def _lock_days(restaurant: Restaurant, start: datetime, end: datetime) -> None:
    """The service-day lock of every local day from `start` to `end`, in date (sorted key) order."""
    zone = ZoneInfo(restaurant.timezone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for offset in range((last - first).days + 1):
        allocation.lock_service_day(restaurant, first + timedelta(days=offset))


def _claims_in_the_way(
    reservation: Reservation, *, start: datetime, end: datetime, now: datetime
) -> list[TableOccupancy]:
    """Other live claims on the reservation's table that overlap `[start, end)`, earliest first."""
    return list(
        db.session.scalars(
            select(TableOccupancy)
            .where(
                TableOccupancy.table_id == reservation.table_id,
                TableOccupancy.reservation_id.is_distinct_from(reservation.id),
                TableOccupancy.starts_at > start - MAX_CLAIM,
                TableOccupancy.starts_at < end,
                TableOccupancy.ends_at > start,
                allocation.live_claim(now),
            )
            .order_by(TableOccupancy.starts_at, TableOccupancy.id)
        )
    )


def _describe_claim(claim: TableOccupancy, reservation: Reservation | None) -> dict[str, Any]:
    if reservation is None:
        return {"holdId": str(claim.hold_id), "startsAt": claim.starts_at.isoformat()}
    return {
        "id": str(reservation.id),
        "confirmationCode": reservation.confirmation_code,
        "startsAt": reservation.starts_at.isoformat(),
        "date": reservation.service_date.isoformat(),
        "partySize": reservation.party_size,
        "status": reservation.status,
    }


def _move(reservation: Reservation, table: DiningTable, *, actor: Actor, now: datetime) -> Moved:
    """Put a later booking's claim and reservation on `table` (free for its stay: the caller checked, locked)."""
    old_table = reservation.table
    with allocation.race_lost_on_claim_collision():
        db.session.execute(
            update(TableOccupancy)
            .where(TableOccupancy.reservation_id == reservation.id)
            .values(table_id=table.id, table_key=table.occupancy_key)
        )
    reservation.table_id = table.id
    db.session.flush()
    db.session.refresh(reservation, ["table"])
    record(
        reservation,
        action="change",
        actor=actor,
        now=now,
        from_status=reservation.status,
        reason=MOVED_BY_OVERSTAY,
        details={"tableId": [str(old_table.id), str(table.id)], "tableNumber": [old_table.number, table.number]},
    )
    return Moved(
        reservation_id=reservation.id,
        confirmation_code=reservation.confirmation_code,
        from_table_number=old_table.number,
        to_table_number=table.number,
    )


def _claim_earlier(reservation: Reservation, *, now: datetime) -> None:
    """Start an early party's claim now, under the service-day lock, if nobody else is on the table until its start.

    :raise 409 BOOKINGS_AFFECTED: the table is still taken (the previous party, a hold).
    """
    _lock_days(reservation.restaurant, now, reservation.starts_at)
    in_the_way = _claims_in_the_way(reservation, start=now, end=reservation.starts_at, now=now)
    if in_the_way:
        raise Conflict(
            ErrorCode.BOOKINGS_AFFECTED,
            "The table is still taken before this reservation's start; seat the party at its time.",
            details={
                "bookings": [
                    _describe_claim(c, db.session.get(Reservation, c.reservation_id) if c.reservation_id else None)
                    for c in in_the_way
                ]
            },
        )
    with allocation.race_lost_on_claim_collision():
        db.session.execute(
            update(TableOccupancy)
            .where(TableOccupancy.reservation_id == reservation.id, TableOccupancy.starts_at == reservation.starts_at)
            .values(starts_at=now)
        )


def _outside_window(action: Action, *, earliest: datetime, latest: datetime | None, now: datetime) -> Conflict:
    return Conflict(
        ErrorCode.OUTSIDE_TIME_WINDOW,
        f"A reservation cannot be {_past(action)} at this time.",
        details={
            "action": action.value,
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat() if latest else None,
            "now": now.isoformat(),
        },
    )


# --- automation the worker runs (every LIFECYCLE_JOBS_EVERY_SECONDS; docs/lifecycle.md) ----------


def complete_finished_reservations(now: datetime) -> int:
    """Complete seated reservations whose stay has ended (idempotent). Returns how many."""
    with atomic():
        finished = list(
            db.session.scalars(
                select(Reservation)
                .where(Reservation.status == S.SEATED, Reservation.ends_at <= now)
                .with_for_update(skip_locked=True)
            )
        )
        for reservation in finished:
            apply(reservation, Action.COMPLETE, actor=SYSTEM, now=now, reason="the stay ended")
    return len(finished)


def mark_no_shows(now: datetime) -> int:
    """Mark confirmed reservations not seated `NO_SHOW_AFTER_MINUTES` after their start (idempotent).

    `SKIP LOCKED`: a row a member of staff is seating right now is left alone; the status is
    re-read under the lock, so a party seated meanwhile is never marked.
    """
    minutes = get_settings().no_show_after_minutes
    with atomic():
        late = list(
            db.session.scalars(
                select(Reservation)
                .where(Reservation.status == S.CONFIRMED, Reservation.starts_at <= now - timedelta(minutes=minutes))
                .order_by(Reservation.starts_at)
                .limit(_JOB_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for reservation in late:
            apply(
                reservation, Action.NO_SHOW, actor=SYSTEM, now=now, reason=f"not seated {minutes} min after the start"
            )
    return len(late)


def queue_reminders(now: datetime) -> int:
    """Queue `reservation.reminder` for confirmed reservations starting within `REMINDER_HOURS_BEFORE`.

    Each reservation is reminded once: `reminder_sent_at` is claimed by one `UPDATE … WHERE
    reminder_sent_at IS NULL RETURNING id` (a concurrent run re-checks the WHERE after the row
    lock and gets nothing), and the messages are queued in the same transaction. A booking made
    inside the window gets no reminder: its confirmation has just told the guest.
    """
    window = timedelta(hours=get_settings().reminder_hours_before)
    with atomic():
        claimed = db.session.scalars(
            update(Reservation)
            .where(
                Reservation.status == S.CONFIRMED,
                Reservation.reminder_sent_at.is_(None),
                Reservation.starts_at > now,
                Reservation.starts_at <= now + window,
                Reservation.created_at <= Reservation.starts_at - window,
            )
            .values(reminder_sent_at=now)
            .returning(Reservation.id)
            .execution_options(synchronize_session=False)
        ).all()
        for reservation_id in claimed:
            outbox_service.enqueue(RESERVATION_REMINDER, reservation_id=reservation_id)
    return len(claimed)
