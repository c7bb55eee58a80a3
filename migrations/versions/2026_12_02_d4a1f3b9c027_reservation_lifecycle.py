"""Reservation lifecycle: `seated` and `rejected` statuses, and the audit trail of every move.

Revision ID: d4a1f3b9c027
Revises: b7a4e0d2c915
Create Date: 2026-12-02 12:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d4a1f3b9c027"
down_revision: str | None = "b7a4e0d2c915"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')"
_NEW = "status IN ('pending', 'confirmed', 'seated', 'completed', 'rejected', 'cancelled', 'no_show')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_reservations_status_valid"), "reservations", type_="check")
    op.create_check_constraint(op.f("ck_reservations_status_valid"), "reservations", _NEW)
    op.create_table(
        "reservation_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("reservation_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_reservation_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_events_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_events")),
    )
    op.create_index(
        "ix_reservation_events_reservation_id_at", "reservation_events", ["reservation_id", "at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reservation_events_reservation_id_at", table_name="reservation_events")
    op.drop_table("reservation_events")
    # Statuses the old schema does not know fall back to their nearest old meaning.
    op.execute("UPDATE reservations SET status = 'confirmed' WHERE status = 'seated'")
    op.execute("UPDATE reservations SET status = 'cancelled' WHERE status = 'rejected'")
    op.drop_constraint(op.f("ck_reservations_status_valid"), "reservations", type_="check")
    op.create_check_constraint(op.f("ck_reservations_status_valid"), "reservations", _OLD)
