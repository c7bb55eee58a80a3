"""Discovery: user preferences, swipes, and the restaurant indexes the feed reads.

swipes' primary key (user_id, restaurant_id) serves both the idempotent upsert and the
feed's "not swiped yet" anti-join; restaurants get a GIN index for cuisine overlap and a
btree on (latitude, longitude) for the bounding box in front of the haversine test.

Revision ID: ea94d91d4c0a
Revises: d13c3ec5942b
Create Date: 2026-11-21 19:53:36.391815
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ea94d91d4c0a"
down_revision: str | None = "d13c3ec5942b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "swipes",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('like', 'pass')", name=op.f("ck_swipes_action_valid")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"], ["restaurants.id"], name=op.f("fk_swipes_restaurant_id_restaurants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_swipes_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "restaurant_id", name=op.f("pk_swipes")),
    )
    op.create_index("ix_swipes_restaurant_id", "swipes", ["restaurant_id"], unique=False)
    op.create_table(
        "user_preferences",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("cuisines", sa.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("price_ranges", sa.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("home_latitude", sa.Float(), nullable=True),
        sa.Column("home_longitude", sa.Float(), nullable=True),
        sa.Column("max_distance_miles", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(home_latitude IS NULL) = (home_longitude IS NULL)", name=op.f("ck_user_preferences_home_complete")
        ),
        sa.CheckConstraint("home_latitude BETWEEN -90 AND 90", name=op.f("ck_user_preferences_home_latitude_range")),
        sa.CheckConstraint(
            "home_longitude BETWEEN -180 AND 180", name=op.f("ck_user_preferences_home_longitude_range")
        ),
        sa.CheckConstraint(
            "max_distance_miles > 0 AND max_distance_miles <= 500", name=op.f("ck_user_preferences_max_distance_range")
        ),
        sa.CheckConstraint(
            "price_ranges <@ ARRAY[1, 2, 3, 4]::smallint[]", name=op.f("ck_user_preferences_price_ranges_1_4")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_preferences")),
    )
    op.create_index("ix_restaurants_cuisines", "restaurants", ["cuisines"], unique=False, postgresql_using="gin")
    op.create_index("ix_restaurants_latitude_longitude", "restaurants", ["latitude", "longitude"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_restaurants_latitude_longitude", table_name="restaurants")
    op.drop_index("ix_restaurants_cuisines", table_name="restaurants", postgresql_using="gin")
    op.drop_table("user_preferences")
    op.drop_index("ix_swipes_restaurant_id", table_name="swipes")
    op.drop_table("swipes")
