"""Floor plan: areas (rooms, terrace) and each table's position, size, shape and rotation.

Revision ID: f6c3b8d52e01
Revises: e5b2a7c41d90
Create Date: 2026-12-02 13:01:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6c3b8d52e01"
down_revision: str | None = "e5b2a7c41d90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "floor_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('room', 'terrace', 'bar', 'private', 'other')", name=op.f("ck_floor_areas_kind_valid")
        ),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_floor_areas_size_positive")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_floor_areas_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_areas")),
        sa.UniqueConstraint("restaurant_id", "name", name=op.f("uq_floor_areas_restaurant_id_name")),
    )
    op.create_table(
        "table_layouts",
        sa.Column("table_id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column("shape", sa.String(length=10), nullable=False),
        sa.Column("rotation", sa.Float(), nullable=False),
        sa.CheckConstraint("shape IN ('rect', 'round')", name=op.f("ck_table_layouts_shape_valid")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_table_layouts_size_positive")),
        sa.CheckConstraint("rotation >= 0 AND rotation < 360", name=op.f("ck_table_layouts_rotation_range")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["floor_areas.id"], name=op.f("fk_table_layouts_area_id_floor_areas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_table_layouts_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["dining_tables.id"], name=op.f("fk_table_layouts_table_id_dining_tables"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("table_id", name=op.f("pk_table_layouts")),
    )
    op.create_index(op.f("ix_table_layouts_restaurant_id"), "table_layouts", ["restaurant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_table_layouts_restaurant_id"), table_name="table_layouts")
    op.drop_table("table_layouts")
    op.drop_table("floor_areas")
