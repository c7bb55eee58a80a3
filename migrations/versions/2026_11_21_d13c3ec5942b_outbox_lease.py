"""Outbox: a lease column so a worker can send outside any transaction and a dead worker's messages are retried.

Revision ID: d13c3ec5942b
Revises: aec94b4778da
Create Date: 2026-11-21 19:53:44.933931
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d13c3ec5942b"
down_revision: str | None = "aec94b4778da"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_messages", "locked_until")
