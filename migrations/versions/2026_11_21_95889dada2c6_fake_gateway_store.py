"""Fake payment gateway: its intents and refunds, shared by every worker process (development and tests).

Revision ID: 95889dada2c6
Revises: ae592311de88
Create Date: 2026-11-21 20:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "95889dada2c6"
down_revision: str | None = "ae592311de88"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fake_gateway_intents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("card_brand", sa.String(length=30), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("decline_code", sa.String(length=60), nullable=True),
        sa.Column("amount_captured_cents", sa.Integer(), nullable=False),
        sa.Column("amount_refunded_cents", sa.Integer(), nullable=False),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_gateway_intents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_fake_gateway_intents_idempotency_key")),
    )
    op.create_table(
        "fake_gateway_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("intent_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["fake_gateway_intents.id"],
            name=op.f("fk_fake_gateway_refunds_intent_id_fake_gateway_intents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_gateway_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_fake_gateway_refunds_idempotency_key")),
    )
    op.create_index(op.f("ix_fake_gateway_refunds_intent_id"), "fake_gateway_refunds", ["intent_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fake_gateway_refunds_intent_id"), table_name="fake_gateway_refunds")
    op.drop_table("fake_gateway_refunds")
    op.drop_table("fake_gateway_intents")
