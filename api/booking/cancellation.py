"""Cancelling app reservations with the tiered deposit refund, and the user's reservation lists.

The refund follows the policy frozen on the reservation when it was booked
(`reservation.refund_policy`, e.g. 24 h -> 100 %, 4 h -> 50 %, else 0), measured in elapsed
time from the service's `now` to the reservation's start instant: "24 hours before" is 24 real
hours, also across a daylight-saving change. Amounts are integer cents, rounded down.

The cancellation commits first (status, refund owed, the table freed at once, the email queued);
the refund is then asked of the gateway with a key derived from the reservation id
(`cancel:<reservation id>`), so asking twice refunds once. If the gateway is down, the answer
still reports the refund owed and the reconciler (`unsettled_cancellations`) finishes it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from api.accounts.authz import ensure_acting_for, ensure_can_manage_restaurant
from api.accounts.models import Role, User
from api.booking import deposits, lifecycle
from api.booking.models import ACTIVE_STATUSES, DepositAdjustment, Reservation, ReservationStatus
from api.db import atomic
from api.errors import AppError, Conflict, ErrorCode, Forbidden, NotFound
from api.extensions import db
from api.payments import service as payments_service
from api.payments.models import CAPTURED_STATUSES, Payment, PaymentRefund, PaymentStatus, RefundStatus

logger = logging.getLogger("api.booking.cancellation")

_TERMINAL = (
    ReservationStatus.CANCELLED,
    ReservationStatus.COMPLETED,
    ReservationStatus.NO_SHOW,
    ReservationStatus.REJECTED,
)
# Ended before they began, with the deposit owed back as `refund_cents`: a cancellation (by its
# policy) or a rejected primetime request (whole; api/booking/approvals.py). One refund path for both.
REFUNDABLE_STATUSES = (ReservationStatus.CANCELLED, ReservationStatus.REJECTED)


# --- the refund arithmetic (pure) -------------------------------------------------------------


def refund_percent(policy: Iterable[Mapping[str, Any]], *, starts_at: datetime, now: datetime) -> int:
    """The percentage of the deposit refunded when cancelling at `now`.

    Tiers are checked from the longest notice down; a tier applies when at least
    `minHoursBefore` hours remain (exactly 24 h before still gets the 24 h tier).
    """
    notice = starts_at - now
    for tier in sorted(policy, key=lambda t: float(t["minHoursBefore"]), reverse=True):
        if notice >= timedelta(hours=float(tier["minHoursBefore"])):
            return int(tier["percent"])
    return 0


def refund_cents_for(deposit_cents: int, percent: int) -> int:
    """`percent` of the deposit in whole cents, rounded down."""
    return deposit_cents * percent // 100


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundQuote:
    reservation_id: uuid.UUID
    cancellable: bool
    deposit_cents: int
    refund_percent: int
    refund_cents: int
    hours_until_start: float


@dataclass(frozen=True)
class Cancelled:
    reservation_id: uuid.UUID
    refund_percent: int
    refund_cents: int
    message: str
    success: bool = True


# --- access -----------------------------------------------------------------------------------


def manages(actor: User, restaurant_id: uuid.UUID) -> bool:
    """Admins manage every restaurant, staff their own."""
    try:
        ensure_can_manage_restaurant(actor, restaurant_id)
    except Forbidden:
        return False
    return True


def _visible_reservation(
    *, actor: User, reservation_id: uuid.UUID, guest_id: uuid.UUID | None, for_update: bool
) -> Reservation:
    """The reservation if the caller may act on it; 404 otherwise (ids cannot be probed)."""
    query = select(Reservation).where(Reservation.id == reservation_id).options(joinedload(Reservation.restaurant))
    if for_update:
        query = query.with_for_update(of=Reservation)
    reservation = db.session.scalar(query.execution_options(populate_existing=True))
    if reservation is None:
        raise _not_found()
    own = reservation.user_id == actor.id
    if actor.role == Role.CUSTOMER and not own:
        raise _not_found()
    if actor.role != Role.CUSTOMER and not own and not manages(actor, reservation.restaurant_id):
        raise _not_found()
    if guest_id is not None and reservation.user_id != guest_id:
        raise _not_found()
    return reservation


def _not_found() -> NotFound:
    return NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No such reservation.")


# --- lists ------------------------------------------------------------------------------------


def list_user_reservations(*, actor: User, user_id: uuid.UUID | str, when: str, now: datetime) -> list[Reservation]:
    """The user's upcoming (not started, pending/confirmed; soonest first) or past reservations
    (started, or cancelled/completed/no-show; latest first). Staff see their restaurant's only.

    :raise 403 USER_MISMATCH:
    """
    guest_id = ensure_acting_for(user_id, actor)
    query = select(Reservation).options(joinedload(Reservation.restaurant)).where(Reservation.user_id == guest_id)
    if guest_id != actor.id and actor.role == Role.STAFF:
        query = query.where(Reservation.restaurant_id == actor.restaurant_id)
    if when == "past":
        # Parenthesised, unlike seed 000's SQL, so only this user's rows are ever listed.
        query = query.where(or_(Reservation.starts_at <= now, Reservation.status.in_(_TERMINAL))).order_by(
            Reservation.starts_at.desc(), Reservation.id
        )
    else:
        query = query.where(Reservation.starts_at > now, Reservation.status.in_(ACTIVE_STATUSES)).order_by(
            Reservation.starts_at.asc(), Reservation.id
        )
    return list(db.session.scalars(query))


# --- quote and cancel -------------------------------------------------------------------------


def get_guest_reservation(*, actor: User, reservation_id: uuid.UUID, user_id: uuid.UUID | str | None) -> Reservation:
    """The guest's own reservation (the app's `GET /reservations/<id>?userId=`); staff see their restaurant's.

    :raise 403 USER_MISMATCH: :raise 404 RESERVATION_NOT_FOUND: someone else's, or none.
    """
    guest_id = ensure_acting_for(user_id, actor)
    return _visible_reservation(actor=actor, reservation_id=reservation_id, guest_id=guest_id, for_update=False)


def quote_refund(*, actor: User, reservation_id: uuid.UUID, now: datetime) -> RefundQuote:
    """What cancelling now would refund, by the reservation's frozen policy.

    :raise 404 RESERVATION_NOT_FOUND:
    """
    reservation = _visible_reservation(actor=actor, reservation_id=reservation_id, guest_id=None, for_update=False)
    cancellable = reservation.status in ACTIVE_STATUSES
    percent = (
        refund_percent(reservation.refund_policy or [], starts_at=reservation.starts_at, now=now)
        if cancellable and reservation.deposit_cents
        else 0
    )
    return RefundQuote(
        reservation_id=reservation.id,
        cancellable=cancellable,
        deposit_cents=reservation.deposit_cents,
        refund_percent=percent,
        refund_cents=refund_cents_for(reservation.deposit_cents, percent),
        hours_until_start=round((reservation.starts_at - now) / timedelta(hours=1), 2),
    )


def cancel_reservation(
    *, actor: User, reservation_id: uuid.UUID, user_id: uuid.UUID | str | None, now: datetime, reason: str = ""
) -> Cancelled:
    """Cancel a pending or confirmed reservation, free its table at once and refund by its policy.

    Customers cancel their own; staff their restaurant's; admins any.

    :raise 403 USER_MISMATCH: `userId` is not the caller (and the caller is not staff).
    :raise 404 RESERVATION_NOT_FOUND: none, or not the caller's to cancel.
    :raise 409 ALREADY_CANCELLED:
    :raise 409 INVALID_TRANSITION: the reservation is seated, completed, rejected or a no-show.
    """
    guest_id = ensure_acting_for(user_id, actor) if user_id is not None else None
    with atomic():
        reservation = _visible_reservation(
            actor=actor, reservation_id=reservation_id, guest_id=guest_id, for_update=True
        )
        result = cancel_locked(
            reservation, actor=lifecycle.Actor.of(actor, reservation=reservation), now=now, reason=reason
        )
    settle_refund_after_cancel(reservation_id=result.reservation_id, now=now)
    return result


def cancel_locked(reservation: Reservation, *, actor: lifecycle.Actor, now: datetime, reason: str = "") -> Cancelled:
    """Cancel a reservation the caller locked (`FOR UPDATE`, inside its transaction) and owe its refund.

    The refund follows the reservation's frozen policy; the money moves after the caller commits
    (`settle_refund_after_cancel`). Used by the signed-in cancel and the guest's manage link.

    :raise 409 ALREADY_CANCELLED:
    :raise 409 INVALID_TRANSITION: the reservation is seated, completed, rejected or a no-show.
    """
    if reservation.status == ReservationStatus.CANCELLED:
        raise Conflict(ErrorCode.ALREADY_CANCELLED, "This reservation is already cancelled.")
    percent = refund_percent(reservation.refund_policy or [], starts_at=reservation.starts_at, now=now)
    if not reservation.deposit_cents:
        percent = 0
    lifecycle.apply(reservation, lifecycle.Action.CANCEL, actor=actor, now=now, reason=reason)
    reservation.refund_cents = refund_cents_for(reservation.deposit_cents, percent)
    return Cancelled(
        reservation_id=reservation.id,
        refund_percent=percent,
        refund_cents=reservation.refund_cents,
        message=_message(percent, reservation.refund_policy or [], reservation.deposit_cents),
    )


def settle_refund_after_cancel(*, reservation_id: uuid.UUID, now: datetime) -> None:
    """After the cancellation committed: refund now if the gateway answers, else leave it to the reconciler."""
    try:
        settle_refund(reservation_id=reservation_id, now=now)
    except AppError as err:
        # The cancellation stands and the refund is owed; the reconciler retries it.
        logger.warning(
            "refund deferred to the reconciler", extra={"reservation_id": str(reservation_id), "code": err.code}
        )


def _message(percent: int, policy: Iterable[Mapping[str, Any]], deposit_cents: int) -> str:
    if not deposit_cents:
        return "Reservation cancelled."
    if percent >= 100:
        return "Reservation cancelled. Full refund will be processed in 3-5 business days."
    if percent > 0:
        return f"Reservation cancelled. {percent}% refund will be processed in 3-5 business days."
    thresholds = [float(t["minHoursBefore"]) for t in policy if int(t["percent"]) > 0]
    if thresholds:
        return f"Reservation cancelled. No refund available (less than {min(thresholds):g} hours notice)."
    return "Reservation cancelled. This restaurant's deposit is not refundable."


# --- settling the money -----------------------------------------------------------------------


def settle_refund(*, reservation_id: uuid.UUID, now: datetime, report: Any = None) -> str:
    """Make the deposit of a cancelled or rejected reservation match its refund (idempotent; gateway outside
    any transaction).

    The refund is split over the deposit's payments, newest money first (`deposits`): the
    checkout's, and one per party-size increase. For each: an authorisation not yet captured is
    voided when all of it goes back, else captured and its share refunded with the key
    `cancel:<reservation id>`.
    """
    with atomic():
        reservation = db.session.get(Reservation, reservation_id, populate_existing=True)
        if reservation is None or reservation.status not in REFUNDABLE_STATUSES or reservation.hold_id is None:
            return "none"
        held = deposits.payments_for(reservation)
        shares = {payment.id: cents for payment, cents in deposits.newest_first(held, reservation.refund_cents)}
        steps = [(h.payment.id, PaymentStatus(h.payment.status), h.payment.amount_cents) for h in held]
    outcome = "none"
    for payment_id, status, amount_cents in steps:
        done = _settle_payment(
            reservation_id=reservation_id,
            payment_id=payment_id,
            status=status,
            amount_cents=amount_cents,
            share_cents=shares.get(payment_id, 0),
            now=now,
            report=report,
        )
        outcome = done if done != "none" else outcome
    return outcome


def _settle_payment(
    *,
    reservation_id: uuid.UUID,
    payment_id: uuid.UUID,
    status: PaymentStatus,
    amount_cents: int,
    share_cents: int,
    now: datetime,
    report: Any,
) -> str:
    if status == PaymentStatus.PENDING:
        status = PaymentStatus(payments_service.sync_payment(payment_id=payment_id, now=now).status)
    if status == PaymentStatus.AUTHORIZED:
        if share_cents >= amount_cents:
            payments_service.void_payment(payment_id=payment_id, now=now)
            _count(report, "voided")
            return "voided"
        payments_service.capture_payment(payment_id=payment_id, now=now)
        _count(report, "captured")
        status = PaymentStatus.CAPTURED
    if share_cents > 0 and status in CAPTURED_STATUSES:
        refund = payments_service.refund_payment(
            payment_id=payment_id,
            amount_cents=min(share_cents, amount_cents),
            reason_key=f"cancel:{reservation_id}",
            now=now,
        )
        if refund.status == RefundStatus.SUCCEEDED:
            _count(report, "refunded")
        return "refunded"
    return "none"


def _count(report: Any, name: str) -> None:
    if report is not None:
        setattr(report, name, getattr(report, name) + 1)


def unsettled_cancellations(*, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    """Cancelled or rejected reservations whose deposit (any of its payments) is still held, or whose refund
    did not go through."""
    refund_done = exists().where(
        PaymentRefund.payment_id == Payment.id,
        PaymentRefund.reason_key == "cancel:" + Reservation.id.cast(String),
        PaymentRefund.status.in_((RefundStatus.SUCCEEDED, RefundStatus.FAILED)),
    )
    of_the_deposit = or_(
        Payment.subject_id == Reservation.hold_id,
        exists().where(DepositAdjustment.id == Payment.subject_id, DepositAdjustment.reservation_id == Reservation.id),
    )
    rows = db.session.execute(
        select(Reservation.id, Payment.id, Payment.status)
        .join(Payment, of_the_deposit)
        .where(
            Reservation.status.in_(REFUNDABLE_STATUSES),
            Reservation.hold_id.is_not(None),
            # A rejection sets no cancelled_at: its last update is when it was rejected.
            func.coalesce(Reservation.cancelled_at, Reservation.updated_at) < cutoff,
            or_(
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)),
                and_(
                    Reservation.refund_cents > 0,
                    Payment.status.in_((PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED)),
                    ~refund_done,
                ),
            ),
        )
        .limit(limit)
    ).all()
    candidates: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for reservation_id, payment_id, status in rows:
        candidates.setdefault(reservation_id, []).append((payment_id, status))
    unsettled = []
    for reservation_id, payments in candidates.items():
        if any(status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED) for _, status in payments):
            unsettled.append(reservation_id)
            continue
        # A captured payment without a cancellation refund: owed only if its share of the refund is > 0.
        reservation = db.session.get(Reservation, reservation_id)
        assert reservation is not None
        shares = dict(
            (payment.id, cents)
            for payment, cents in deposits.newest_first(deposits.payments_for(reservation), reservation.refund_cents)
        )
        if any(shares.get(payment_id, 0) > 0 for payment_id, _ in payments):
            unsettled.append(reservation_id)
    return unsettled
