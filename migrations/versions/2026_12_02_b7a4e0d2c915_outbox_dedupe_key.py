"""Outbox: a unique dedupe key, so a fanned-out email is queued once even if its handler runs again.

Revision ID: b7a4e0d2c915
Revises: 8e3d27c4a610
Create Date: 2026-12-02 09:35:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7a4e0d2c915"
down_revision: str | None = "8e3d27c4a610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    op.create_unique_constraint(op.f("uq_outbox_messages_dedupe_key"), "outbox_messages", ["dedupe_key"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_outbox_messages_dedupe_key"), "outbox_messages", type_="unique")
    op.drop_column("outbox_messages", "dedupe_key")
