"""Webhook events: a claim column, so one delivery of an event processes it and parallel duplicates are turned away.

Revision ID: 8e3d27c4a610
Revises: 5c1f0e7a9b21
Create Date: 2026-12-02 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e3d27c4a610"
down_revision: str | None = "5c1f0e7a9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_events", "claimed_until")
