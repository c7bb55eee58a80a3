"""Changing a reservation: its date, time, party size or special requests, all or nothing.

One use case, `change_reservation`, serves the app's and staff's `PATCH /api/reservations/<id>`
(and the guest's manage link). Rules (docs/changes.md):

- only a `pending` or `confirmed` reservation changes (else 409 INVALID_TRANSITION); never after
  its start, and a guest not within `MODIFY_CUTOFF_MINUTES` of it (409 TOO_LATE_TO_CHANGE); staff
  and admins are exempt from the cutoff, not from the start;
- the new time and party follow the booking rules: the slot grid and bookable time (422
  BAD_TIME), the party limits (422 BAD_GUESTS), one booking per guest (409 DUPLICATE_BOOKING,
  the booking itself excluded);
- the move is atomic: the guest's lock (when the start moves), then the service days involved,
  old and new, in sorted key order, then the reservation row. Its own claim is set aside, the same
  table is kept when it seats the new party and is free for the new stay, else the best free
  table is taken (`allocation.pick_table`), and the new claim is inserted under the same
  exclusion constraint as any booking. If the new time cannot be had, the transaction rolls back
  and NOTHING changes (409 FULLY_BOOKED, RACE_LOST);
- a party-size change changes the deposit (the per-person rate frozen at booking). The
  difference is recorded as a `DepositAdjustment` in the change's own transaction and settled
  after commit with gateway keys derived from that row (`deposit:{adjustment}:1`,
  `refund:{payment}:change:{adjustment}`), so a retry, a crash or the reconciler moves it once.
  An increase is authorised on the deposit's saved payment method BEFORE the change commits (a
  decline is 402 PAYMENT_DECLINED and nothing changes; no saved method is 402
  PAYMENT_METHOD_REQUIRED), then captured after; a decrease is refunded after commit;
- every change writes one audit row, `lifecycle.record(action="change", details={field: [old,
  new]})`, whose outbox message tells the guest. A request that changes nothing writes nothing
  (a retry of an applied change is a no-op).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import joinedload

from api import faults
from api.accounts.authz import ensure_acting_for
from api.accounts.models import Role, User
from api.booking import allocation, cancellation, deposits, lifecycle, rules
from api.booking.holds import check_accepts_reservations, check_party_size
from api.booking.models import (
    ACTIVE_STATUSES,
    AdjustmentStatus,
    Customer,
    DepositAdjustment,
    Reservation,
    TableOccupancy,
)
from api.booking.slots import Slot, check_bookable, slot_at, slot_from_local, zone_of
from api.db import AdvisoryLock, LockSpace, advisory_xact_locks, atomic, get_settings, lock_key
from api.errors import AppError, Conflict, ErrorCode, NotFound, PaymentRequired
from api.extensions import db
from api.payments import service as payments_service
from api.payments.models import CAPTURED_STATUSES, PaymentStatus
from api.restaurants.models import DiningTable, Restaurant

logger = logging.getLogger("api.booking.changes")

# The steps a crash test may break (api/faults.py): after the increase is authorised, after the
# change committed, after the difference was settled.
FAULT_POINTS = ("change_after_authorize", "change_after_commit", "change_after_settle")

# Roles that may change a booking inside the guest's cutoff (until its start).
_CUTOFF_EXEMPT = frozenset({str(Role.STAFF), str(Role.ADMIN)})
_KEY_NAMESPACE = uuid.UUID("6b1f0c2e-8f4a-4c1e-9d55-0c1a2b3c4d5e")
# A change waits for the service days it found; if the booking moved meanwhile it looks again.
_ATTEMPTS = 3


@dataclass(frozen=True)
class ReservationChange:
    """What to change; None leaves a field as it is. A date alone keeps the local time, and vice versa."""

    service_date: date | None = None
    wall_time: time | None = None
    party_size: int | None = None
    special_requests: str | None = None


Guard = Callable[[Reservation], None]


def _anyone(reservation: Reservation) -> None:
    return None


@dataclass(frozen=True)
class _Plan:
    adjustment_id: uuid.UUID
    difference_cents: int
    payment_method: str | None
    currency: str


class _Moved(Exception):
    """The reservation moved to another day while we waited for the locks of the old one."""


# --- the use case -----------------------------------------------------------------------------


def change_reservation(
    *,
    reservation_id: uuid.UUID,
    actor: lifecycle.Actor,
    requested: ReservationChange,
    now: datetime,
    guard: Guard = _anyone,
) -> Reservation:
    """Change the reservation's date, time, party size or requests (see the module docstring).

    `guard(reservation)` raises when the caller may not touch it (the routes' access check).

    :raise 402 PAYMENT_DECLINED, PAYMENT_METHOD_REQUIRED: a larger deposit could not be authorised.
    :raise 404 RESERVATION_NOT_FOUND: none, or the guard refused it.
    :raise 409 INVALID_TRANSITION: not pending or confirmed.
    :raise 409 TOO_LATE_TO_CHANGE: started, or a guest within the cutoff.
    :raise 409 FULLY_BOOKED, RACE_LOST, DUPLICATE_BOOKING: the new time or party cannot be had.
    :raise 422 BAD_TIME, BAD_GUESTS:
    :raise 503 LOCK_TIMEOUT, PAYMENT_GATEWAY_ERROR:
    """
    plan = _plan(reservation_id=reservation_id, actor=actor, requested=requested, now=now, guard=guard)
    payment_id = None
    if plan.difference_cents > 0:
        payment_id = _authorize_increase(plan, now)
        faults.inject("change_after_authorize")
    try:
        adjustment_id = _apply(
            reservation_id=reservation_id, actor=actor, requested=requested, now=now, guard=guard, plan=plan
        )
    except AppError:
        if payment_id is not None:
            _release_unused(plan.adjustment_id, payment_id, now)
        raise
    if payment_id is not None and adjustment_id is None:
        _release_unused(plan.adjustment_id, payment_id, now)
    faults.inject("change_after_commit")
    # This change's difference, and any an earlier attempt left owed (a retry after a crash finishes it).
    for owed in _pending_adjustments(reservation_id):
        try:
            settle_adjustment(adjustment_id=owed, now=now)
        except AppError as err:
            # The change stands and the difference is owed; the reconciler finishes it.
            logger.warning(
                "deposit difference deferred to the reconciler", extra={"adjustment_id": str(owed), "code": err.code}
            )
    if adjustment_id is not None:
        faults.inject("change_after_settle")
    return _reload(reservation_id)


def _pending_adjustments(reservation_id: uuid.UUID) -> list[uuid.UUID]:
    with atomic():
        return list(
            db.session.scalars(
                select(DepositAdjustment.id)
                .where(
                    DepositAdjustment.reservation_id == reservation_id,
                    DepositAdjustment.status == AdjustmentStatus.PENDING,
                )
                .order_by(DepositAdjustment.created_at)
            )
        )


def change_for_user(
    *,
    reservation_id: uuid.UUID,
    user: User,
    user_id: uuid.UUID | str | None,
    requested: ReservationChange,
    now: datetime,
) -> Reservation:
    """`PATCH /api/reservations/<id>`: the guest changes their own booking, staff their restaurant's.

    `userId` ("current_user", the caller's id, or absent) must be the caller unless staff; a
    booking that is not the caller's (nor their restaurant's) is 404, so ids cannot be probed.
    :raise 403 USER_MISMATCH: and everything `change_reservation` raises.
    """
    guest_id = ensure_acting_for(user_id, user) if user_id is not None else None
    guard = access_guard(user, guest_id)
    with atomic():
        peek = db.session.get(Reservation, reservation_id)
        if peek is None:
            raise _not_found()
        guard(peek)
        actor = lifecycle.Actor.of(user, reservation=peek)
    return change_reservation(reservation_id=reservation_id, actor=actor, requested=requested, now=now, guard=guard)


def access_guard(user: User, guest_id: uuid.UUID | None) -> Guard:
    """Customers reach their own bookings; staff their restaurant's; admins all (404 otherwise)."""

    def guard(reservation: Reservation) -> None:
        own = reservation.user_id == user.id
        if guest_id is not None and reservation.user_id != guest_id:
            raise _not_found()
        if own:
            return
        if user.role == Role.CUSTOMER or not cancellation.manages(user, reservation.restaurant_id):
            raise _not_found()

    return guard


# --- step 1: what the change will cost (no locks, nothing written) ----------------------------


def _plan(
    *, reservation_id: uuid.UUID, actor: lifecycle.Actor, requested: ReservationChange, now: datetime, guard: Guard
) -> _Plan:
    with atomic():
        reservation = _load(reservation_id, for_update=False)
        guard(reservation)
        _check_changeable(reservation, actor, now)
        party = requested.party_size if requested.party_size is not None else reservation.party_size
        difference = _deposit_for(reservation, party) - reservation.deposit_cents
        # Deterministic: a double-click or a retry of the same change from the same version of the
        # booking drives the same payment (one authorisation), and the same adjustment row.
        adjustment_id = uuid.uuid5(
            _KEY_NAMESPACE, f"{reservation.id}:{reservation.updated_at.isoformat()}:{reservation.party_size}:{party}"
        )
        method = None
        if difference > 0:
            saved = payments_service.find_live_payment(subject_id=reservation.hold_id) if reservation.hold_id else None
            if saved is None:
                raise PaymentRequired(
                    ErrorCode.PAYMENT_METHOD_REQUIRED,
                    "A larger party needs a larger deposit, and this booking has no saved card to charge; "
                    "book again for the larger party instead.",
                    details={"differenceCents": difference},
                )
            method = saved.payment_method
        return _Plan(
            adjustment_id=adjustment_id,
            difference_cents=difference,
            payment_method=method,
            currency=reservation.restaurant.currency,
        )


def _authorize_increase(plan: _Plan, now: datetime) -> uuid.UUID:
    """Hold the extra deposit on the saved card before anything changes. 402 PAYMENT_DECLINED: nothing changed."""
    payment = payments_service.start_payment(
        subject_id=plan.adjustment_id,
        amount_cents=plan.difference_cents,
        currency=plan.currency,
        payment_method=plan.payment_method or "",
        now=now,
    )
    payments_service.authorize_payment(payment_id=payment.id, now=now)
    return payment.id


def _release_unused(adjustment_id: uuid.UUID, payment_id: uuid.UUID, now: datetime) -> None:
    """Void an authorised increase that no committed change uses (a twin request's change may)."""
    with atomic():
        used = db.session.scalar(select(exists().where(DepositAdjustment.id == adjustment_id)))
    if used:
        return
    try:
        payments_service.void_payment(payment_id=payment_id, now=now)
    except AppError as err:
        logger.warning("void deferred to the reconciler", extra={"payment_id": str(payment_id), "code": err.code})


# --- step 2: the change, in one transaction ---------------------------------------------------


def _apply(
    *,
    reservation_id: uuid.UUID,
    actor: lifecycle.Actor,
    requested: ReservationChange,
    now: datetime,
    guard: Guard,
    plan: _Plan,
) -> uuid.UUID | None:
    """Lock, check, move, record. Returns the adjustment's id when money is owed, else None."""
    for _ in range(_ATTEMPTS):
        try:
            with atomic():
                return _apply_locked(
                    reservation_id=reservation_id, actor=actor, requested=requested, now=now, guard=guard, plan=plan
                )
        except _Moved:
            continue
    raise Conflict(ErrorCode.RACE_LOST, "This booking was changed a moment ago; please try again.")


def _apply_locked(
    *,
    reservation_id: uuid.UUID,
    actor: lifecycle.Actor,
    requested: ReservationChange,
    now: datetime,
    guard: Guard,
    plan: _Plan,
) -> uuid.UUID | None:
    peek = _load(reservation_id, for_update=False)
    restaurant = peek.restaurant
    guard(peek)
    slot = _target_slot(peek, requested)
    email = _guest_email(peek)
    days = {peek.service_date} | ({slot.service_date} if slot is not None else set())
    if slot is not None or requested.party_size is not None:  # requests alone need only the row lock
        _lock(restaurant, days, guest_email=email if slot is not None else None)

    reservation = _load(reservation_id, for_update=True)
    if reservation.service_date not in days:
        raise _Moved()
    guard(reservation)
    _check_changeable(reservation, actor, now)
    if slot is None or slot.starts_at == reservation.starts_at:
        slot = slot_at(reservation.starts_at, zone_of(restaurant))
    party = requested.party_size if requested.party_size is not None else reservation.party_size
    requests = requested.special_requests if requested.special_requests is not None else reservation.special_requests
    moves = slot.starts_at != reservation.starts_at
    regrows = party != reservation.party_size
    if not (moves or regrows or requests != reservation.special_requests):
        return None  # already as asked: a retry, or a double-click's twin that lost the row lock
    difference = _deposit_for(reservation, party) - reservation.deposit_cents
    if difference != plan.difference_cents:
        # The booking changed between our plan and our lock: what we authorised no longer fits.
        raise Conflict(ErrorCode.RACE_LOST, "This booking was changed a moment ago; please try again.")

    changes: dict[str, list[Any]] = {}
    if moves or regrows:
        if regrows:
            check_party_size(restaurant, party)
        if moves:
            check_accepts_reservations(restaurant)
            check_bookable(restaurant, slot, now=now)
            if email:
                rules.check_no_duplicate(
                    email=email, starts_at=slot.starts_at, now=now, exclude_reservation_id=reservation.id
                )
        stay = allocation.Stay.for_party(restaurant, slot, party)
        table = _reclaim(reservation, restaurant, stay, party, now)
        tz = zone_of(restaurant)
        old_local = reservation.starts_at.astimezone(tz)
        new_local = slot.local_start
        if old_local.date() != new_local.date():
            changes["date"] = [old_local.date().isoformat(), new_local.date().isoformat()]
        if old_local.strftime("%H:%M") != new_local.strftime("%H:%M"):
            changes["time"] = [old_local.strftime("%H:%M"), new_local.strftime("%H:%M")]
        if regrows:
            changes["partySize"] = [reservation.party_size, party]
        if table.id != reservation.table_id:
            changes["table"] = [_table_number(reservation.table_id), table.number]
        reservation.table_id = table.id
        if stay.starts_at != reservation.starts_at:
            reservation.reminder_sent_at = None  # the guest is reminded of the new time
        reservation.starts_at, reservation.ends_at = stay.starts_at, stay.ends_at
        reservation.service_date = slot.service_date
        reservation.party_size = party
    if requests != reservation.special_requests:
        changes["specialRequests"] = [reservation.special_requests, requests]
        reservation.special_requests = requests

    if not changes:
        return None  # nothing to do: a retry of a change already made
    refunds: list[list[str | int]] = []
    if difference > 0:
        _check_increase_authorised(plan.adjustment_id)
    elif difference < 0:
        refunds = _plan_refunds(reservation, -difference)
    if difference:
        changes["depositAmountCents"] = [reservation.deposit_cents, reservation.deposit_cents + difference]
        reservation.deposit_cents += difference
    reservation.modified_at = now
    event = lifecycle.record(
        reservation, action="change", actor=actor, now=now, from_status=reservation.status, details=changes
    )
    if not difference:
        return None
    db.session.add(
        DepositAdjustment(
            id=plan.adjustment_id,
            reservation_id=reservation.id,
            event_id=event.id,
            amount_cents=difference,
            status=AdjustmentStatus.PENDING,
            refunds=refunds,
            created_at=now,
        )
    )
    db.session.flush()
    return plan.adjustment_id


def _lock(restaurant: Restaurant, days: set[date], *, guest_email: str | None) -> None:
    """Lock order as everywhere: guest, schedule (shared), service days (sorted by key)."""
    if get_settings().disable_allocation_lock:
        return  # test-only: the negative control proves the exclusion constraint holds alone
    if guest_email:
        rules.lock_guest(guest_email)
    day_locks = sorted(
        (AdvisoryLock(LockSpace.SERVICE_DAY, (restaurant.id, day)) for day in days),
        key=lambda lock: lock_key(lock.space, *lock.parts),
    )
    advisory_xact_locks(AdvisoryLock(LockSpace.SCHEDULE, (restaurant.id,), shared=True), *day_locks)


def _reclaim(
    reservation: Reservation, restaurant: Restaurant, stay: allocation.Stay, party: int, now: datetime
) -> DiningTable:
    """Set the booking's own claim aside and claim the new stay: its own table if it fits and is free, else the best."""
    allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
    allocation.release_reservation_claims(reservation_id=reservation.id)
    current = db.session.get(DiningTable, reservation.table_id)
    table: DiningTable | None = None
    if (
        current is not None
        and current.is_active
        and current.min_seats <= party <= current.max_seats
        and _table_free(current.id, stay, now)
    ):
        table = current
    else:
        table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=party, now=now)
    if table is None:
        local = stay.starts_at.astimezone(zone_of(restaurant))
        raise Conflict(
            ErrorCode.FULLY_BOOKED,
            f"No table for {party} is free at {local.strftime('%H:%M')} on {local.date().isoformat()}; "
            "your booking is unchanged.",
            details={"date": local.date().isoformat(), "time": local.strftime("%H:%M"), "partySize": party},
        )
    allocation.insert_claims(restaurant_id=restaurant.id, table=table, stay=stay, reservation_id=reservation.id)
    return table


def _table_free(table_id: uuid.UUID, stay: allocation.Stay, now: datetime) -> bool:
    return not db.session.scalar(
        select(
            exists().where(
                TableOccupancy.table_id == table_id,
                TableOccupancy.starts_at < stay.ends_at,
                TableOccupancy.ends_at > stay.starts_at,
                allocation.live_claim(now),
            )
        )
    )


def _check_changeable(reservation: Reservation, actor: lifecycle.Actor, now: datetime) -> None:
    if reservation.status not in ACTIVE_STATUSES:
        raise Conflict(
            ErrorCode.INVALID_TRANSITION,
            f"A {reservation.status} reservation cannot be changed.",
            details={"status": reservation.status, "action": "change"},
        )
    cutoff = 0 if actor.role in _CUTOFF_EXEMPT else max(0, int(get_settings().modify_cutoff_minutes))
    if now >= reservation.starts_at - timedelta(minutes=cutoff):
        raise Conflict(
            ErrorCode.TOO_LATE_TO_CHANGE,
            "This booking can no longer be changed online"
            + (f" (changes close {cutoff} minutes before the start)." if cutoff else " (it has started)."),
            details={"cutoffMinutes": cutoff, "startsAt": reservation.starts_at.isoformat()},
        )


def _target_slot(reservation: Reservation, requested: ReservationChange) -> Slot | None:
    """The slot asked for (a date alone keeps the local time, a time alone the local date), or None."""
    if requested.service_date is None and requested.wall_time is None:
        return None
    restaurant = reservation.restaurant
    tz = zone_of(restaurant)
    local = reservation.starts_at.astimezone(tz)
    day = requested.service_date or local.date()
    wall = requested.wall_time or local.time().replace(tzinfo=None)
    return slot_from_local(day, wall, tz=tz, slot_minutes=restaurant.slot_minutes)


def _deposit_for(reservation: Reservation, party: int) -> int:
    """The deposit for `party` at the per-person rate frozen when the booking was made."""
    if party == reservation.party_size:
        return reservation.deposit_cents
    if not reservation.deposit_cents or not reservation.party_size:
        return 0
    return reservation.deposit_cents // reservation.party_size * party


def _check_increase_authorised(adjustment_id: uuid.UUID) -> None:
    payment = payments_service.find_live_payment(subject_id=adjustment_id)
    if payment is None or payment.status not in (PaymentStatus.AUTHORIZED, *CAPTURED_STATUSES):
        raise Conflict(
            ErrorCode.PAYMENT_IN_PROGRESS,
            "The larger deposit is not authorised (any more); please try again.",
            details={"paymentId": str(payment.id) if payment else None},
        )


def _plan_refunds(reservation: Reservation, cents: int) -> list[list[str | int]]:
    """Which payments give back `cents`, fixed now: the newest money first (`deposits.newest_first`)."""
    return [
        [str(payment.id), take] for payment, take in deposits.newest_first(deposits.payments_for(reservation), cents)
    ]


# --- step 3: settling the difference (after commit; the reconciler runs the same) -------------


def settle_adjustment(*, adjustment_id: uuid.UUID, now: datetime, report: Any = None) -> str:
    """Charge or refund a change's deposit difference, once (idempotent; gateway outside any transaction).

    An increase: its authorised payment (`subject_id` = the adjustment) is captured. A decrease:
    each planned refund is made with reason `change:{adjustment}`; a deposit not yet captured
    waits for the reconciler to capture it first. Returns what was done.
    """
    with atomic():
        adjustment = db.session.get(DepositAdjustment, adjustment_id, populate_existing=True)
        if adjustment is None or adjustment.status == AdjustmentStatus.SETTLED:
            return "none"
        amount = adjustment.amount_cents
        refunds = [(uuid.UUID(str(pid)), int(cents)) for pid, cents in adjustment.refunds or []]
        increase = payments_service.find_live_payment(subject_id=adjustment_id) if amount > 0 else None
        increase_id = increase.id if increase is not None else None
        increase_status = PaymentStatus(increase.status) if increase is not None else None
    outcome = "none"
    if amount > 0:
        if increase_id is None:
            raise Conflict(ErrorCode.PAYMENT_STATE_CONFLICT, "The larger deposit's payment is gone.")
        if increase_status == PaymentStatus.PENDING:
            payments_service.sync_payment(payment_id=increase_id, now=now)
        payments_service.capture_payment(payment_id=increase_id, now=now)
        _count(report, "captured")
        outcome = "captured"
    else:
        for payment_id, cents in refunds:
            with atomic():
                status = PaymentStatus(payments_service.get_payment(payment_id=payment_id).status)
            if status not in CAPTURED_STATUSES:
                return "waiting"  # the deposit itself is not captured yet: the reconciler captures it first
            payments_service.refund_payment(
                payment_id=payment_id, amount_cents=cents, reason_key=f"change:{adjustment_id}", now=now
            )
        _count(report, "refunded")
        outcome = "refunded"
    with atomic():
        db.session.execute(
            update(DepositAdjustment)
            .where(DepositAdjustment.id == adjustment_id, DepositAdjustment.status == AdjustmentStatus.PENDING)
            .values(status=AdjustmentStatus.SETTLED, settled_at=now)
        )
    return outcome


def unsettled_adjustments(*, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    """Deposit differences recorded before `cutoff` and not settled yet (the reconciler's queue)."""
    return list(
        db.session.scalars(
            select(DepositAdjustment.id)
            .where(DepositAdjustment.status == AdjustmentStatus.PENDING, DepositAdjustment.created_at < cutoff)
            .order_by(DepositAdjustment.created_at)
            .limit(limit)
        )
    )


def is_adjustment(subject_id: uuid.UUID) -> bool:
    """True when a payment's subject is a recorded deposit difference (not a hold)."""
    return bool(db.session.scalar(select(exists().where(DepositAdjustment.id == subject_id))))


def _count(report: Any, name: str) -> None:
    if report is not None:
        setattr(report, name, getattr(report, name) + 1)


# --- helpers ----------------------------------------------------------------------------------


def _load(reservation_id: uuid.UUID, *, for_update: bool) -> Reservation:
    query = select(Reservation).where(Reservation.id == reservation_id).options(joinedload(Reservation.restaurant))
    if for_update:
        query = query.with_for_update(of=Reservation)
    reservation = db.session.scalar(query.execution_options(populate_existing=True))
    if reservation is None:
        raise _not_found()
    return reservation


def _reload(reservation_id: uuid.UUID) -> Reservation:
    with atomic():
        return _load(reservation_id, for_update=False)


def _guest_email(reservation: Reservation) -> str | None:
    if reservation.user_id is not None:
        return db.session.scalar(select(User.email).where(User.id == reservation.user_id))
    if reservation.customer_id is not None:
        return db.session.scalar(select(Customer.email).where(Customer.id == reservation.customer_id))
    return None


def _table_number(table_id: uuid.UUID) -> int | None:
    return db.session.scalar(select(DiningTable.number).where(DiningTable.id == table_id))


def _not_found() -> NotFound:
    return NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No such reservation.")
