"""Waitlist entries and their timed offers.

Revision ID: f1c7a2e9b4d8
Revises: e5b2c7d1f048
Create Date: 2026-12-02 13:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1c7a2e9b4d8"
down_revision: str | None = "e5b2c7d1f048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("party_size", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offer_hold_id", sa.UUID(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'lapsed', 'left', 'expired')",
            name=op.f("ck_waitlist_entries_status_valid"),
        ),
        sa.CheckConstraint("window_end >= window_start", name=op.f("ck_waitlist_entries_window_ordered")),
        sa.CheckConstraint("party_size >= 1", name=op.f("ck_waitlist_entries_party_size_positive")),
        sa.CheckConstraint(
            "status <> 'offered' OR (offer_hold_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
            name=op.f("ck_waitlist_entries_offer_has_hold"),
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_waitlist_entries_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_waitlist_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_entries_restaurant_id_service_date",
        "waitlist_entries",
        ["restaurant_id", "service_date", "status", "created_at"],
    )
    op.create_index("ix_waitlist_entries_user_id_created_at", "waitlist_entries", ["user_id", "created_at"])
    op.create_index(
        "uq_waitlist_entries_open",
        "waitlist_entries",
        ["user_id", "restaurant_id", "service_date"],
        unique=True,
        postgresql_where=sa.text("status IN ('waiting', 'offered')"),
    )
    op.create_index(
        "ix_waitlist_entries_offered",
        "waitlist_entries",
        ["offer_expires_at"],
        postgresql_where=sa.text("status = 'offered'"),
    )


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_offered", table_name="waitlist_entries")
    op.drop_index("uq_waitlist_entries_open", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_user_id_created_at", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_restaurant_id_service_date", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
