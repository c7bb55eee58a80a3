"""Payments: payment rows written before the gateway is called, their refunds, and webhook events.

Revision ID: ae592311de88
Revises: ea94d91d4c0a
Create Date: 2026-11-21 19:56:29.671273
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ae592311de88"
down_revision: str | None = "ea94d91d4c0a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statuses of a payment that holds, took or gave back money: at most one per subject.
LIVE = "status IN ('pending', 'authorized', 'captured', 'partially_refunded', 'refunded')"
UNSETTLED = "status IN ('pending', 'authorized')"


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=255), nullable=True),
        sa.Column("payment_method", sa.String(length=255), nullable=False),
        sa.Column("card_brand", sa.String(length=30), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("card_last4 ~ '^[0-9]{4}$'", name=op.f("ck_payments_card_last4_digits")),
        sa.CheckConstraint("currency ~ '^[a-z]{3}$'", name=op.f("ck_payments_currency_iso_lower")),
        sa.CheckConstraint(
            "status IN ('pending', 'authorized', 'captured', 'failed', 'voided', 'refunded', 'partially_refunded')",
            name=op.f("ck_payments_status_valid"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_payments_attempt_positive")),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name=op.f("ck_payments_refunded_within_amount")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("gateway", "gateway_payment_id", name=op.f("uq_payments_gateway_gateway_payment_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint("subject_id", "attempt", name=op.f("uq_payments_subject_id_attempt")),
    )
    op.create_index(
        "uq_payments_subject_id_live", "payments", ["subject_id"], unique=True, postgresql_where=sa.text(LIVE)
    )
    op.create_index("ix_payments_unsettled_updated_at", "payments", ["updated_at"], postgresql_where=sa.text(UNSETTLED))
    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("reason_key", sa.String(length=120), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gateway_refund_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_payment_refunds_status_valid")
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_refunds_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_refunds_idempotency_key")),
        sa.UniqueConstraint("payment_id", "reason_key", name=op.f("uq_payment_refunds_payment_id_reason_key")),
    )
    op.create_index("ix_payment_refunds_payment_id", "payment_refunds", ["payment_id"])
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("gateway", "event_id", name=op.f("uq_webhook_events_gateway_event_id")),
    )


def downgrade() -> None:
    op.drop_table("webhook_events")
    op.drop_index("ix_payment_refunds_payment_id", table_name="payment_refunds")
    op.drop_table("payment_refunds")
    op.drop_index("ix_payments_unsettled_updated_at", table_name="payments")
    op.drop_index("uq_payments_subject_id_live", table_name="payments")
    op.drop_table("payments")
