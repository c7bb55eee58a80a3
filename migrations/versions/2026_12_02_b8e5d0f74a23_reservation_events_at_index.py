"""Index reservation_events on `at`: dashboards read a restaurant's latest events newest first.

Revision ID: b8e5d0f74a23
Revises: a7d4c9e63f12
Create Date: 2026-12-02 13:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b8e5d0f74a23"
down_revision: str | None = "a7d4c9e63f12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_reservation_events_at", "reservation_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_reservation_events_at", table_name="reservation_events")
