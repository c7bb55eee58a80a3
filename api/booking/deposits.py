"""Which payments hold a booking's deposit, and how much of each is still the guest's money with us.

A deposit starts as one payment (the checkout's, `subject_id` = the hold). Each party-size
increase adds one (`subject_id` = its `DepositAdjustment`); each decrease promises refunds out
of them, fixed when the change commits (`DepositAdjustment.refunds`). Cancellation refunds and
change refunds both take the newest money first, so their plans never overlap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from api.booking.models import DepositAdjustment, Reservation
from api.extensions import db
from api.payments import service as payments_service
from api.payments.models import LIVE_STATUSES, Payment


@dataclass(frozen=True)
class Held:
    payment: Payment
    # What the payment still holds for the booking once every change's promised refund is made.
    net_cents: int


def payments_for(reservation: Reservation) -> list[Held]:
    """The deposit's live payments, oldest first (the checkout's, then each increase's), with their net."""
    found: list[Payment] = []
    if reservation.hold_id is not None:
        original = payments_service.find_live_payment(subject_id=reservation.hold_id)
        if original is not None:
            found.append(original)
    found += db.session.scalars(
        select(Payment)
        .join(DepositAdjustment, DepositAdjustment.id == Payment.subject_id)
        .where(
            DepositAdjustment.reservation_id == reservation.id,
            DepositAdjustment.amount_cents > 0,
            Payment.status.in_(LIVE_STATUSES),
        )
        .order_by(DepositAdjustment.created_at, DepositAdjustment.id)
    ).all()
    promised = promised_change_refunds(reservation.id)
    return [Held(payment, max(0, payment.amount_cents - promised.get(payment.id, 0))) for payment in found]


def promised_change_refunds(reservation_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Cents each payment gives back for the booking's party-size decreases (made or still owed)."""
    promised: dict[uuid.UUID, int] = {}
    for (refunds,) in db.session.execute(
        select(DepositAdjustment.refunds).where(DepositAdjustment.reservation_id == reservation_id)
    ):
        for payment_id, cents in refunds or []:
            key = uuid.UUID(str(payment_id))
            promised[key] = promised.get(key, 0) + int(cents)
    return promised


def newest_first(held: list[Held], cents: int) -> list[tuple[Payment, int]]:
    """Split `cents` over the payments, newest money first, each within its net."""
    plan: list[tuple[Payment, int]] = []
    left = cents
    for item in reversed(held):
        take = min(left, item.net_cents)
        if take > 0:
            plan.append((item.payment, take))
            left -= take
    return plan
