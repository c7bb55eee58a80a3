"""The audit of restaurant settings changes (PUT /api/restaurants/<id>/settings).

Revision ID: e5b2a7c41d90
Revises: e5c7a2d4b816
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5b2a7c41d90"
down_revision: str | None = "e5c7a2d4b816"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "restaurant_settings_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("new", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_restaurant_settings_changes_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_restaurant_settings_changes_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restaurant_settings_changes")),
    )
    op.create_index(
        "ix_restaurant_settings_changes_restaurant_id_at", "restaurant_settings_changes", ["restaurant_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_restaurant_settings_changes_restaurant_id_at", table_name="restaurant_settings_changes")
    op.drop_table("restaurant_settings_changes")
