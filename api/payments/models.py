"""Payments, their refunds, the webhook events we have seen, and the fake gateway's own state.

A `Payment` is written (status `pending`, with a deterministic idempotency key) and committed
before the gateway is called; the outcome is recorded afterwards by another transaction. The
payments domain knows nothing of bookings: `subject_id` is whatever the caller pays for (a hold).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, check_constraint_for


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # row committed, gateway not (yet) answered
    AUTHORIZED = "authorized"  # money held on the card
    CAPTURED = "captured"  # money taken
    FAILED = "failed"  # declined (failure_code says why); a new attempt may follow
    VOIDED = "voided"  # authorization released, nothing taken
    REFUNDED = "refunded"  # captured, then all of it given back
    PARTIALLY_REFUNDED = "partially_refunded"


# A subject has at most one payment in these statuses: the ones that hold, took or gave back
# money. Only a failed or voided attempt lets a new attempt start.
LIVE_STATUSES = (
    PaymentStatus.PENDING,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)
# Statuses in which the money has been taken (and possibly partly given back).
CAPTURED_STATUSES = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)

_LIVE_SQL = ", ".join(f"'{status.value}'" for status in LIVE_STATUSES)

PAYMENT_SUBJECT_LIVE_INDEX = "uq_payments_subject_id_live"

# Stripe's brand codes, as a receipt shows them (the app frontend's `cardBrand`).
BRAND_LABELS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos Australia",
    "interac": "Interac",
    "jcb": "JCB",
    "link": "Link",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(check_constraint_for(PaymentStatus, "status"), name="status_valid"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refunded_within_amount"),
        CheckConstraint("currency ~ '^[a-z]{3}$'", name="currency_iso_lower"),
        CheckConstraint("card_last4 ~ '^[0-9]{4}$'", name="card_last4_digits"),
        UniqueConstraint("subject_id", "attempt"),
        UniqueConstraint("gateway", "gateway_payment_id"),
        # At most one payment per subject that holds or took money: a double-click or two
        # workers starting the same payment cannot both insert one.
        Index(
            PAYMENT_SUBJECT_LIVE_INDEX,
            "subject_id",
            unique=True,
            postgresql_where=text(f"status IN ({_LIVE_SQL})"),
        ),
        # The reconciler's queue: payments left pending or authorized by a crash.
        Index(
            "ix_payments_unsettled_updated_at",
            "updated_at",
            postgresql_where=text("status IN ('pending', 'authorized')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # f"deposit:{subject_id}:{attempt}": derived from our ids, so a retry sends the same key.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    # A gateway token such as pm_card_visa; never a card number.
    payment_method: Mapped[str] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(30))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    authorized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set by the service from its `now` (no onupdate: a test's clock or the reconciler's cut-off
    # must see the instant the service was given).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    refunds: Mapped[list[PaymentRefund]] = relationship(back_populates="payment", order_by="PaymentRefund.created_at")

    @property
    def card_brand_label(self) -> str | None:
        """The brand as people write it ("Visa", "American Express")."""
        if self.card_brand is None:
            return None
        return BRAND_LABELS.get(self.card_brand, self.card_brand.replace("_", " ").title())


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # row committed, gateway not (yet) answered
    SUCCEEDED = "succeeded"  # the gateway accepted it
    FAILED = "failed"


class PaymentRefund(Base):
    """One refund of a payment, keyed by the caller's reason so that asking twice refunds once."""

    __tablename__ = "payment_refunds"
    __table_args__ = (
        CheckConstraint(check_constraint_for(RefundStatus, "status"), name="status_valid"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("payment_id", "reason_key"),
        Index("ix_payment_refunds_payment_id", "payment_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    # The caller's name for why (e.g. "cancel:<reservation id>"); the gateway key derives from it.
    reason_key: Mapped[str] = mapped_column(String(120))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set by the service from its `now` (no onupdate: a test's clock or the reconciler's cut-off
    # must see the instant the service was given).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class WebhookEvent(Base):
    """A gateway event we received: its id is unique, so a redelivery is recognised."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Null until every handler ran; a delivery that failed halfway is processed again.
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The delivery processing the event holds it until then; a parallel duplicate is turned away,
    # and a crashed delivery's claim lapses so a redelivery may take the event over.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- The fake gateway's own state (development and tests only) ---------------------------------
# The fake keeps its intents in PostgreSQL, written on a connection of its own, so that several
# gunicorn workers share one idempotency store exactly as they would share Stripe.


class FakeGatewayIntent(Base):
    __tablename__ = "fake_gateway_intents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    # What the first request asked for: the same key with other parameters is refused, like Stripe.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str] = mapped_column(String(255))
    # Stripe's PaymentIntent statuses: requires_capture, succeeded, canceled, requires_payment_method.
    status: Mapped[str] = mapped_column(String(30))
    card_brand: Mapped[str | None] = mapped_column(String(30))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    decline_code: Mapped[str | None] = mapped_column(String(60))
    amount_captured_cents: Mapped[int] = mapped_column(Integer, default=0)
    amount_refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    # Lets tests count real charges: set once, when an authorization succeeded.
    authorized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FakeGatewayRefund(Base):
    __tablename__ = "fake_gateway_refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("fake_gateway_intents.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
