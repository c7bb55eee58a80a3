"""Reservation reminders: `reminder_sent_at`, claimed once by the worker's reminder job.

Revision ID: e5b2c7d1f048
Revises: e8b2c5d1f3a6
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b2c7d1f048"
down_revision: str | None = "e8b2c5d1f3a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reservations", sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("reservations", "reminder_sent_at")
