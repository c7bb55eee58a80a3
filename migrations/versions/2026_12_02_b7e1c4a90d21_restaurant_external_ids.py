"""Restaurants: ids on other platforms (a Yelp business id), unique per platform.

Revision ID: b7e1c4a90d21
Revises: 5c1e0d7a9b34
Create Date: 2026-12-02 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e1c4a90d21"
down_revision: str | None = "5c1e0d7a9b34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "restaurant_external_ids",
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(length=30), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.CheckConstraint("platform = lower(platform)", name=op.f("ck_restaurant_external_ids_platform_lowercase")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_restaurant_external_ids_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("restaurant_id", "platform", name=op.f("pk_restaurant_external_ids")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_restaurant_external_ids_platform_external_id")),
    )
    op.create_index("ix_restaurant_external_ids_external_id", "restaurant_external_ids", ["external_id"])


def downgrade() -> None:
    op.drop_index("ix_restaurant_external_ids_external_id", table_name="restaurant_external_ids")
    op.drop_table("restaurant_external_ids")
