"""Primetime approval (seed 002): bookings that wait for the restaurant's yes or no.

A booking (website, app, not staff) whose local start falls inside an active primetime window
of its weekday (`restaurants_service.PRIMETIME_SQL`) is created `pending`: it holds its table
like any booking, the guest sees it as pending, and a `book` audit event (to `pending`) is
written. Staff of the restaurant then decide, singly or in bulk, through `lifecycle.apply`:

- approve: pending -> confirmed;
- reject (a reason is required): pending -> rejected, the table freed at once, and a deposit
  comes back whole through the crash-safe refund path (`cancellation.settle_refund`, keyed
  `cancel:<reservation id>`, retried by the reconciler).

Requests nobody decides are rejected by the worker (`expire_pending_approvals`, actor `system`)
`APPROVAL_TIMEOUT_HOURS` after they were made, or when their start comes first.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from api.accounts.models import User
from api.booking import cancellation, lifecycle
from api.booking.models import Reservation, ReservationStatus
from api.db import atomic
from api.errors import AppError, ErrorCode, NotFound, Unprocessable
from api.extensions import db

logger = logging.getLogger("api.booking.approvals")

# The audit action of a booking being made (`from_status` None). Staff bookings record it too.
BOOK = "book"

APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Decision:
    """One item of a bulk decision, answered on its own."""

    reservation_id: uuid.UUID
    ok: bool
    status: str | None = None
    error: dict[str, Any] | None = None


def record_booking(reservation: Reservation, *, actor: lifecycle.Actor, now: datetime) -> None:
    """Audit a booking just made (a `book` event to its first status); queues the event's emails."""
    lifecycle.record(reservation, action=BOOK, actor=actor, now=now, from_status=None)


# --- deciding -----------------------------------------------------------------------------------


def decide(
    *, actor: User, reservation_id: uuid.UUID, action: str, rejection_reason: str | None, now: datetime
) -> Reservation:
    """Approve or reject a pending booking of the actor's restaurant (admins: any).

    One transaction; a rejected deposit is then refunded whole (outside it; the reconciler
    retries a gateway failure).

    :raise 404 RESERVATION_NOT_FOUND: none, or another restaurant's (ids cannot be probed).
    :raise 409 INVALID_TRANSITION: the booking is not pending (details.status says what it is).
    :raise 422 VALIDATION_ERROR: an unknown action, or a rejection without a reason.
    """
    reason = _checked(action, rejection_reason)
    with atomic():
        reservation = _lock_for_staff(actor, reservation_id)
        if action == APPROVE:
            lifecycle.apply(
                reservation, lifecycle.Action.APPROVE, actor=lifecycle.Actor.of(actor), now=now, reason=reason
            )
        else:
            _reject(reservation, actor=lifecycle.Actor.of(actor), now=now, reason=reason)
    if reservation.status == ReservationStatus.REJECTED:
        _settle_quietly(reservation.id, now)
    return reservation


def decide_many(*, actor: User, items: list[dict[str, Any]], now: datetime) -> list[Decision]:
    """Decide each item on its own, in its own transaction: one item failing never undoes another.

    Each answer is `ok` with the new status, or the error (code and message) that item met.
    """
    decisions = []
    for item in items:
        reservation_id = item["reservation_id"]
        try:
            reservation = decide(
                actor=actor,
                reservation_id=reservation_id,
                action=item["action"],
                rejection_reason=item.get("rejection_reason"),
                now=now,
            )
        except AppError as err:
            decisions.append(
                Decision(
                    reservation_id=reservation_id,
                    ok=False,
                    error={"code": str(err.code), "message": err.message, "details": err.details},
                )
            )
        else:
            decisions.append(Decision(reservation_id=reservation_id, ok=True, status=reservation.status))
    return decisions


def _checked(action: str, rejection_reason: str | None) -> str:
    reason = (rejection_reason or "").strip()
    errors: dict[str, list[str]] = {}
    if action not in DECISIONS:
        errors["action"] = ["Must be one of: approve, reject."]
    elif action == REJECT and not reason:
        errors["rejectionReason"] = ["Give the guest a reason for the rejection."]
    if len(reason) > MAX_REASON_LENGTH:
        errors["rejectionReason"] = [f"At most {MAX_REASON_LENGTH} characters."]
    if errors:
        raise Unprocessable(ErrorCode.VALIDATION_ERROR, "Some fields are invalid.", details={"fields": errors})
    return reason if action == REJECT else ""


def _lock_for_staff(actor: User, reservation_id: uuid.UUID) -> Reservation:
    reservation = db.session.scalar(
        select(Reservation)
        .where(Reservation.id == reservation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if reservation is None or not cancellation.manages(actor, reservation.restaurant_id):
        raise NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No reservation has this id.")
    return reservation


def _reject(reservation: Reservation, *, actor: lifecycle.Actor, now: datetime, reason: str) -> None:
    """Reject a locked pending booking: the table is freed and the whole deposit is owed back."""
    lifecycle.apply(reservation, lifecycle.Action.REJECT, actor=actor, now=now, reason=reason)
    reservation.refund_cents = reservation.deposit_cents
    # On the service's clock, like a cancellation's cancelled_at: the reconciler's grace counts from it.
    reservation.updated_at = now


def _settle_quietly(reservation_id: uuid.UUID, now: datetime) -> None:
    try:
        cancellation.settle_refund(reservation_id=reservation_id, now=now)
    except AppError as err:  # the rejection stands and the refund is owed; the reconciler retries it
        logger.warning(
            "refund deferred to the reconciler", extra={"reservation_id": str(reservation_id), "code": err.code}
        )


# --- the worker's job ---------------------------------------------------------------------------


def expire_pending_approvals(now: datetime, *, limit: int = 200) -> int:
    """Reject (actor system) the pending bookings undecided for `APPROVAL_TIMEOUT_HOURS`, or whose
    start has come; each frees its table and gets its deposit back. Idempotent; returns how many.

    Each booking is decided in its own short transaction, its row locked with SKIP LOCKED: a
    booking staff are deciding right now is left to them (and seen again next run if still pending).
    """
    hours = int(current_app.config["SETTINGS"].approval_timeout_hours)
    overdue = or_(Reservation.created_at <= now - timedelta(hours=hours), Reservation.starts_at <= now)
    with atomic():
        candidates = list(
            db.session.scalars(
                select(Reservation.id)
                .where(Reservation.status == ReservationStatus.PENDING, overdue)
                .order_by(Reservation.starts_at)
                .limit(limit)
            )
        )
    expired = 0
    for reservation_id in candidates:
        with atomic():
            reservation = db.session.scalar(
                select(Reservation)
                .where(Reservation.id == reservation_id, Reservation.status == ReservationStatus.PENDING, overdue)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if reservation is None:
                continue
            _reject(
                reservation,
                actor=lifecycle.SYSTEM,
                now=now,
                reason=f"Not approved within {hours} hours of the request."
                if reservation.starts_at > now
                else "Not approved before the booking's start.",
            )
        expired += 1
        _settle_quietly(reservation_id, now)
    return expired
