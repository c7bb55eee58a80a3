"""Reservation changes: when a reservation was last changed, and the deposit differences changes owe.

Revision ID: e5c7a2d4b816
Revises: c3f9e5a12d33
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5c7a2d4b816"
down_revision: str | None = "c3f9e5a12d33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reservations", sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "deposit_adjustments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("reservation_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refunds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_cents <> 0", name=op.f("ck_deposit_adjustments_amount_nonzero")),
        sa.CheckConstraint("status IN ('pending', 'settled')", name=op.f("ck_deposit_adjustments_status_valid")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["reservation_events.id"],
            name=op.f("fk_deposit_adjustments_event_id_reservation_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_deposit_adjustments_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_adjustments")),
    )
    op.create_index("ix_deposit_adjustments_reservation_id", "deposit_adjustments", ["reservation_id"], unique=False)
    op.create_index(
        "ix_deposit_adjustments_status_created_at", "deposit_adjustments", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deposit_adjustments_status_created_at", table_name="deposit_adjustments")
    op.drop_index("ix_deposit_adjustments_reservation_id", table_name="deposit_adjustments")
    op.drop_table("deposit_adjustments")
    op.drop_column("reservations", "modified_at")
