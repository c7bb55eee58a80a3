"""Trades (seed 002): guests propose to swap their reservations.

Revision ID: e8b2c5d1f3a6
Revises: d4a1f3b9c027
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8b2c5d1f3a6"
down_revision: str | None = "d4a1f3b9c027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trades",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("requester_reservation_id", sa.UUID(), nullable=False),
        sa.Column("target_reservation_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("response_message", sa.Text(), nullable=False),
        sa.Column("requester_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester_table_id", sa.UUID(), nullable=False),
        sa.Column("requester_party_size", sa.SmallInteger(), nullable=False),
        sa.Column("target_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target_table_id", sa.UUID(), nullable=False),
        sa.Column("target_party_size", sa.SmallInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'withdrawn', 'expired')", name=op.f("ck_trades_status_valid")
        ),
        sa.CheckConstraint(
            "requester_reservation_id <> target_reservation_id", name=op.f("ck_trades_two_reservations")
        ),
        sa.CheckConstraint("requester_id <> target_id", name=op.f("ck_trades_two_guests")),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_trades_requester_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["users.id"], name=op.f("fk_trades_target_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requester_reservation_id"],
            ["reservations.id"],
            name=op.f("fk_trades_requester_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_reservation_id"],
            ["reservations.id"],
            name=op.f("fk_trades_target_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"], ["restaurants.id"], name=op.f("fk_trades_restaurant_id_restaurants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
    )
    op.create_index(
        "uq_trades_open_pair",
        "trades",
        ["requester_reservation_id", "target_reservation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_trades_requester_id_created_at", "trades", ["requester_id", "created_at"])
    op.create_index("ix_trades_target_id_created_at", "trades", ["target_id", "created_at"])
    op.create_index(
        "ix_trades_pending_expires_at", "trades", ["expires_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_index("ix_trades_pending_expires_at", table_name="trades")
    op.drop_index("ix_trades_target_id_created_at", table_name="trades")
    op.drop_index("ix_trades_requester_id_created_at", table_name="trades")
    op.drop_index("uq_trades_open_pair", table_name="trades")
    op.drop_table("trades")
