"""Primetime windows: weekly local-time windows in which bookings wait for approval (seed 002).

Revision ID: a1f7c3e90b11
Revises: e5a7c3b19d42
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1f7c3e90b11"
down_revision: str | None = "e5a7c3b19d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "primetime_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_primetime_windows_ends_after_starts")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_primetime_windows_weekday_range")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_primetime_windows_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primetime_windows")),
    )
    op.create_index(
        "ix_primetime_windows_restaurant_id_weekday", "primetime_windows", ["restaurant_id", "weekday"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_primetime_windows_restaurant_id_weekday", table_name="primetime_windows")
    op.drop_table("primetime_windows")
