"""Restaurants: `send_confirmation_emails` (seed 002), on by default.

Revision ID: e5b2c8d4f613
Revises: c9f6e1a85b34
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b2c8d4f613"
down_revision: str | None = "c9f6e1a85b34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "restaurants",
        sa.Column("send_confirmation_emails", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("restaurants", "send_confirmation_emails")
