"""The deposit checkout: turning a hold into a paid reservation, crash-safely.

Never a transaction or a lock open across a gateway call (STYLE 5). `confirm_reservation` runs:

1. a short transaction: the hold (FOR UPDATE) is the caller's and unexpired, or a reservation
   already exists for it (then it is returned: a double-click or a retry never pays twice);
   then `payments.start_payment` commits a `pending` payment row whose idempotency key
   (`deposit:{hold_id}:{attempt}`) derives from our ids, or returns the live one;
2. `payments.authorize_payment`: the gateway holds the amount (manual capture). A decline is
   402 PAYMENT_DECLINED and the hold stays, so the guest can retry with another card;
3. a short transaction (`_finalize`): the hold is locked again; if it is still there (even
   expired: while its row exists nobody else can claim its table, because every allocation
   purges expired holds before taking their tables) its claims pass to a new reservation
   (`reservations.insert_reservation(hold_id=...)`), the hold is deleted and the confirmation
   email is queued. If the hold is gone, the authorisation is voided and the answer is
   410 HOLD_EXPIRED: a void, not a refund, because nothing was captured;
4. `payments.capture_payment` (idempotent), then the reservation is marked paid with the brand
   and last 4 the gateway reported. Only a captured deposit is ever marked paid.

Two parallel confirmations of one hold share one payment (one live payment per hold, one
idempotency key, so one charge) and one reservation (`reservations.hold_id` is unique; the
second finds the first's reservation by hold id).

`reconcile_payments` (the `reconcile-payments` command and the worker) repairs what a crash left
half done, and the payment webhooks feed the same path (`reconcile_payment`):

- a pending/authorized payment whose hold has a reservation: capture it, mark it paid;
- a pending/authorized payment without reservation, once its hold has expired and the payment
  is older than `CHECKOUT_GRACE_SECONDS`: the hold is deleted in the same transaction that
  decides (so a late step 3 can no longer succeed), then the payment is voided (a pending one is
  looked up at the gateway by its key and released, or marked failed if it never got there);
- a captured payment without reservation: refunded in full;
- a cancelled reservation whose refund did not go through: refunded (see `cancellation`);
- a change's deposit difference (`DepositAdjustment`) not yet settled: its increase captured or
  its refund made (`changes.settle_adjustment`). An increase authorised for a change that never
  committed has no adjustment row and no hold: it is voided like an abandoned checkout.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import joinedload

from api import faults, metrics
from api.accounts.authz import ensure_acting_for
from api.accounts.models import User
from api.booking import allocation, approvals, cancellation, changes, lifecycle, notifications
from api.booking.models import (
    DepositAdjustment,
    Hold,
    Reservation,
    ReservationSource,
    ReservationStatus,
    TableOccupancy,
)
from api.booking.reservations import insert_reservation
from api.db import atomic
from api.errors import AppError, ErrorCode, Gone, NotFound
from api.extensions import db
from api.outbox import service as outbox_service
from api.payments import service as payments_service
from api.payments.models import CAPTURED_STATUSES, Payment, PaymentStatus
from api.restaurants import service as restaurants_service

logger = logging.getLogger("api.booking.checkout")

# The steps a crash test may break (api/faults.py).
FAULT_POINTS = ("after_payment_row", "after_authorize", "after_reservation_commit", "after_capture")


@dataclass(frozen=True)
class Confirmation:
    reservation: Reservation

    @property
    def message(self) -> str:
        if self.reservation.status == ReservationStatus.PENDING:
            return (
                f"Reservation requested ({self.reservation.confirmation_code}): the restaurant approves bookings at "
                "this time and will confirm it soon. Your table is held; the deposit comes back in full if declined."
            )
        return f"Reservation confirmed! Show code {self.reservation.confirmation_code} at the restaurant."


@dataclass
class ReconcileReport:
    captured: int = 0
    voided: int = 0
    refunded: int = 0
    marked_paid: int = 0
    waiting: int = 0
    errors: int = 0
    details: list[str] = field(default_factory=list)

    def total(self) -> int:
        return self.captured + self.voided + self.refunded + self.marked_paid

    def outcomes(self) -> dict[str, int]:
        """Counts by outcome, as `/metrics` labels them."""
        return {
            "captured": self.captured,
            "voided": self.voided,
            "refunded": self.refunded,
            "marked_paid": self.marked_paid,
            "waiting": self.waiting,
            "error": self.errors,
        }


# --- confirmation -----------------------------------------------------------------------------


def confirm_reservation(
    *,
    actor: User,
    hold_id: uuid.UUID,
    user_id: uuid.UUID | str | None,
    payment_method: str,
    special_requests: str | None,
    now: datetime,
) -> Confirmation:
    """Pay the hold's deposit and turn the hold into a reservation (see the module docstring).

    :raise 403 USER_MISMATCH:
    :raise 404 HOLD_NOT_FOUND: no such hold for this user (someone else's hold looks the same).
    :raise 410 HOLD_EXPIRED: the hold expired (before paying, or it was lost while paying: voided).
    :raise 402 PAYMENT_DECLINED: the card was refused; the hold stays until it expires.
    :raise 409 PAYMENT_IN_PROGRESS: another card is being charged for this hold right now.
    :raise 422 RAW_CARD_REJECTED, VALIDATION_ERROR: not a payment token.
    :raise 503 PAYMENT_GATEWAY_ERROR: the gateway's answer is unknown; retrying is safe.
    """
    guest_id = ensure_acting_for(user_id, actor)
    with atomic():
        # Lock first, then look for the reservation: a parallel confirmation that commits while
        # we wait deletes the hold, and the next statement then sees its reservation.
        hold = _lock_hold(hold_id)
        existing = _reservation_for_hold(hold_id)
        if existing is not None:
            if not _may_see(actor, guest_id, existing.user_id, existing.restaurant_id):
                raise _hold_not_found()
            return Confirmation(existing)
        if hold is None or not _may_see(actor, guest_id, hold.user_id, hold.restaurant_id):
            raise _hold_not_found()
        if hold.expires_at <= now:
            raise _hold_expired()
        amount_cents = hold.deposit_cents
        currency = hold.restaurant.currency

    if amount_cents == 0:
        reservation = _finalize(hold_id=hold_id, payment=None, special_requests=special_requests or "", now=now)
        if reservation is None:
            raise _hold_expired()
        return Confirmation(reservation)

    payment = payments_service.start_payment(
        subject_id=hold_id, amount_cents=amount_cents, currency=currency, payment_method=payment_method, now=now
    )
    faults.inject("after_payment_row")
    payment = payments_service.authorize_payment(payment_id=payment.id, now=now)
    faults.inject("after_authorize")
    reservation = _finalize(hold_id=hold_id, payment=payment, special_requests=special_requests or "", now=now)
    if reservation is None:
        _void_quietly(payment.id, now)
        raise _hold_expired()
    faults.inject("after_reservation_commit")
    try:
        payments_service.capture_payment(payment_id=payment.id, now=now)
        reservation = _mark_paid(reservation.id, payment.id) or reservation
    except AppError as err:
        # The reservation stands; the reconciler captures (or settles) the authorised deposit.
        logger.warning(
            "deposit capture deferred to the reconciler", extra={"payment_id": str(payment.id), "code": err.code}
        )
    faults.inject("after_capture")
    return Confirmation(reservation)


def _finalize(
    *, hold_id: uuid.UUID, payment: Payment | None, special_requests: str, now: datetime
) -> Reservation | None:
    """Step 3: the hold becomes a reservation, or None when the hold is gone (its table may be sold).

    An expired hold whose row still exists keeps its claims: every allocation deletes expired
    holds before it takes their tables, so while we hold the row lock the table is still ours.
    Lock order is the allocation's (service day, then hold rows), so this never deadlocks with it.
    """
    with atomic():
        peek = db.session.scalar(select(Hold).where(Hold.id == hold_id).options(joinedload(Hold.restaurant)))
        if peek is not None and peek.expires_at <= now:
            allocation.lock_service_day(peek.restaurant, peek.service_date)
        hold = _lock_hold(hold_id)
        existing = _reservation_for_hold(hold_id)
        if existing is not None:
            return existing  # a parallel confirmation of the same hold won
        if hold is None:
            return None
        restaurant = hold.restaurant
        claimed = db.session.scalar(select(exists().where(TableOccupancy.hold_id == hold.id)))
        if not claimed:
            return None
        # The hold's own span, not recomputed: settings may have changed since.
        stay = allocation.Stay(starts_at=hold.starts_at, ends_at=hold.ends_at)
        if payment is not None:
            current = db.session.get(Payment, payment.id, populate_existing=True)
            if current is None or current.status not in (PaymentStatus.AUTHORIZED, *CAPTURED_STATUSES):
                return None
        # Primetime (api/booking/approvals.py): decided when the booking is made, by the windows then in force.
        waits = restaurants_service.in_primetime(
            restaurant_id=restaurant.id, local_start=hold.starts_at.astimezone(ZoneInfo(restaurant.timezone))
        )
        reservation = insert_reservation(
            restaurant=restaurant,
            table=hold.table,
            stay=stay,
            service_date=hold.service_date,
            party_size=hold.party_size,
            source=ReservationSource.APP,
            user_id=hold.user_id,
            hold_id=hold.id,
            special_requests=special_requests,
            deposit_cents=hold.deposit_cents,
            deposit_paid=False,
            status=ReservationStatus.PENDING if waits else ReservationStatus.CONFIRMED,
        )
        db.session.delete(hold)
        if waits:
            approvals.record_booking(reservation, actor=lifecycle.Actor("guest", hold.user_id), now=now)
        else:
            outbox_service.enqueue(notifications.RESERVATION_CONFIRMED, reservation_id=reservation.id)
    metrics.BOOKINGS_CREATED.labels(source=ReservationSource.APP).inc()  # committed: every other path returned above
    return reservation


def _mark_paid(reservation_id: uuid.UUID, payment_id: uuid.UUID) -> Reservation | None:
    """Mark the deposit paid (brand and last 4 from the gateway) once the payment is captured."""
    with atomic():
        payment = db.session.get(Payment, payment_id, populate_existing=True)
        reservation = db.session.scalar(select(Reservation).where(Reservation.id == reservation_id).with_for_update())
        if reservation is None or payment is None or payment.status not in CAPTURED_STATUSES:
            return reservation
        if not reservation.deposit_paid:
            reservation.deposit_paid = True
            reservation.payment_brand = payment.card_brand_label
            reservation.payment_last4 = payment.card_last4
    return reservation


def _void_quietly(payment_id: uuid.UUID, now: datetime) -> None:
    try:
        payments_service.void_payment(payment_id=payment_id, now=now)
    except AppError as err:
        logger.warning("void deferred to the reconciler", extra={"payment_id": str(payment_id), "code": err.code})


def _lock_hold(hold_id: uuid.UUID) -> Hold | None:
    return db.session.scalar(
        select(Hold)
        .where(Hold.id == hold_id)
        .options(joinedload(Hold.restaurant), joinedload(Hold.table))
        .with_for_update(of=Hold)
        .execution_options(populate_existing=True)
    )


def _reservation_for_hold(hold_id: uuid.UUID) -> Reservation | None:
    return db.session.scalar(
        select(Reservation)
        .where(Reservation.hold_id == hold_id)
        .options(joinedload(Reservation.restaurant))
        .execution_options(populate_existing=True)
    )


def _may_see(actor: User, guest_id: uuid.UUID, owner_id: uuid.UUID | None, restaurant_id: uuid.UUID) -> bool:
    """The hold or reservation belongs to the user acted for (and staff act for their own restaurant)."""
    if owner_id != guest_id:
        return False
    return guest_id == actor.id or cancellation.manages(actor, restaurant_id)


def _hold_not_found() -> NotFound:
    return NotFound(ErrorCode.HOLD_NOT_FOUND, "No such hold.")


def _hold_expired() -> Gone:
    return Gone(ErrorCode.HOLD_EXPIRED, "The hold has expired. Please choose a time again.")


# --- reconciliation ---------------------------------------------------------------------------


def reconcile_payments(now: datetime, *, limit: int = 200) -> ReconcileReport:
    """Finish, void or refund whatever a crash left half done (see the module docstring)."""
    report = ReconcileReport()
    cutoff = now - timedelta(seconds=current_app.config["SETTINGS"].checkout_grace_seconds)
    with atomic():
        unsettled = [p.id for p in payments_service.list_unsettled_payments(updated_before=cutoff, limit=limit)]
        orphans = _captured_without_reservation(cutoff, limit)
        unpaid = _captured_but_unmarked(limit)
        cancelled = cancellation.unsettled_cancellations(cutoff=cutoff, limit=limit)
        adjustments = changes.unsettled_adjustments(cutoff=cutoff, limit=limit)
    for payment_id in unsettled + orphans:
        _safely(report, payment_id, lambda pid=payment_id: reconcile_payment(payment_id=pid, now=now, report=report))
    for reservation_id, payment_id in unpaid:
        if _mark_paid(reservation_id, payment_id) is not None:
            report.marked_paid += 1
    for reservation_id in cancelled:
        _safely(
            report,
            reservation_id,
            lambda rid=reservation_id: cancellation.settle_refund(reservation_id=rid, now=now, report=report),
        )
    for adjustment_id in adjustments:
        _safely(
            report,
            adjustment_id,
            lambda aid=adjustment_id: changes.settle_adjustment(adjustment_id=aid, now=now, report=report),
        )
    metrics.record_reconciliation(report.outcomes())
    return report


def _safely(report: ReconcileReport, subject: uuid.UUID, run: Any) -> None:
    try:
        run()
    except AppError as err:  # the gateway is down or refused: the next run retries
        report.errors += 1
        report.details.append(f"{subject}: {err.code}")
        logger.warning("reconciliation step failed", extra={"subject": str(subject), "code": err.code})


def reconcile_payment(*, payment_id: uuid.UUID, now: datetime, report: ReconcileReport | None = None) -> str:
    """Bring one deposit payment and its hold or reservation into agreement. Returns what was done."""
    report = report if report is not None else ReconcileReport()
    grace = timedelta(seconds=current_app.config["SETTINGS"].checkout_grace_seconds)
    with atomic():
        payment = payments_service.get_payment(payment_id=payment_id)
        hold_id, status, updated_at = payment.subject_id, PaymentStatus(payment.status), payment.updated_at
        adjustment = changes.is_adjustment(hold_id)
    if adjustment:
        # A committed change's larger deposit (its subject is the adjustment, not a hold).
        changes.settle_adjustment(adjustment_id=hold_id, now=now, report=report)
        return "settle_adjustment"
    with atomic():
        hold = _lock_hold(hold_id)
        reservation = _reservation_for_hold(hold_id)
        unsettled = status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)
        decision = "none"
        if reservation is not None:
            if reservation.status in cancellation.REFUNDABLE_STATUSES:
                decision = "settle_cancellation"
            elif unsettled:
                decision = "capture"
            elif status in CAPTURED_STATUSES and not reservation.deposit_paid:
                decision = "mark_paid"
        elif unsettled:
            if (hold is not None and hold.expires_at > now) or updated_at > now - grace:
                decision = "wait"  # the guest can still finish (or is finishing) this checkout
            else:
                if hold is not None:
                    # Decided and committed before the void: a late step 3 now finds no hold.
                    db.session.execute(delete(Hold).where(Hold.id == hold.id))
                decision = "void"
        elif status == PaymentStatus.CAPTURED and updated_at <= now - grace:
            decision = "refund"
        reservation_id = reservation.id if reservation is not None else None
    if decision == "capture":
        if status == PaymentStatus.PENDING:
            payments_service.sync_payment(payment_id=payment_id, now=now)
        payments_service.capture_payment(payment_id=payment_id, now=now)
        _mark_paid(reservation_id, payment_id)  # type: ignore[arg-type]
        report.captured += 1
    elif decision == "mark_paid":
        _mark_paid(reservation_id, payment_id)  # type: ignore[arg-type]
        report.marked_paid += 1
    elif decision == "settle_cancellation":
        cancellation.settle_refund(reservation_id=reservation_id, now=now, report=report)  # type: ignore[arg-type]
    elif decision == "void":
        payments_service.void_payment(payment_id=payment_id, now=now)
        report.voided += 1
    elif decision == "refund":
        taken = payments_service.get_payment(payment_id=payment_id)
        amount = taken.amount_cents - taken.refunded_cents
        if amount > 0:
            payments_service.refund_payment(
                payment_id=payment_id, amount_cents=amount, reason_key=f"orphan:{payment_id}", now=now
            )
            report.refunded += 1
    elif decision == "wait":
        report.waiting += 1
    return decision


def _captured_without_reservation(cutoff: datetime, limit: int) -> list[uuid.UUID]:
    """Captured deposits whose hold never became a reservation (money taken for nothing)."""
    return list(
        db.session.scalars(
            select(Payment.id)
            .where(
                Payment.status == PaymentStatus.CAPTURED,
                Payment.updated_at < cutoff,
                ~exists().where(Reservation.hold_id == Payment.subject_id),
                ~exists().where(DepositAdjustment.id == Payment.subject_id),
            )
            .limit(limit)
        )
    )


def _captured_but_unmarked(limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Reservations whose deposit was captured but not yet marked paid (a crash after capture)."""
    rows = db.session.execute(
        select(Reservation.id, Payment.id)
        .join(Payment, Payment.subject_id == Reservation.hold_id)
        .where(Reservation.deposit_paid.is_(False), Payment.status.in_(CAPTURED_STATUSES))
        .limit(limit)
    )
    return [(reservation_id, payment_id) for reservation_id, payment_id in rows]


# --- webhooks ---------------------------------------------------------------------------------

WEBHOOK_EVENTS = (
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.payment_failed",
)


def on_payment_event(notice: payments_service.WebhookNotice, now: datetime) -> None:
    """A gateway event about one of our deposits: reconcile that payment at once (idempotent)."""
    if notice.payment_id is None:
        return
    reconcile_payment(payment_id=notice.payment_id, now=now)


def register() -> None:
    """Start-up: the payment webhooks drive the reconciler for the payment they concern."""
    for event_type in WEBHOOK_EVENTS:
        payments_service.register_webhook_handler(event_type, on_payment_event)
