"""Guest manage links: the SHA-256 of each link's secret, scoped to one reservation.

Revision ID: f6c3d9e5a724
Revises: e5b2c8d4f613
Create Date: 2026-12-02 13:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6c3d9e5a724"
down_revision: str | None = "e5b2c8d4f613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manage_tokens",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("reservation_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_manage_tokens_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manage_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_manage_tokens_token_hash")),
    )
    op.create_index("ix_manage_tokens_reservation_id", "manage_tokens", ["reservation_id"])


def downgrade() -> None:
    op.drop_index("ix_manage_tokens_reservation_id", table_name="manage_tokens")
    op.drop_table("manage_tokens")
