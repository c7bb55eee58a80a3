"""Partial index on pending reservations: the dashboard's approvals list, soonest first.

Revision ID: c9f6e1a85b34
Revises: b8e5d0f74a23
Create Date: 2026-12-02 13:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9f6e1a85b34"
down_revision: str | None = "b8e5d0f74a23"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reservations_pending_restaurant_id_starts_at",
        "reservations",
        ["restaurant_id", "starts_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_pending_restaurant_id_starts_at", table_name="reservations")
