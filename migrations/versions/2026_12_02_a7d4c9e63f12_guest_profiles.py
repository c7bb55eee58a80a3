"""Guest profiles: staff notes and tags per restaurant and guest email.

Revision ID: a7d4c9e63f12
Revises: f6c3b8d52e01
Create Date: 2026-12-02 13:02:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a7d4c9e63f12"
down_revision: str | None = "f6c3b8d52e01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guest_profiles",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_guest_profiles_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_guest_profiles_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_guest_profiles_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_profiles")),
        sa.UniqueConstraint("restaurant_id", "email", name=op.f("uq_guest_profiles_restaurant_id_email")),
    )
    op.create_index("ix_guest_profiles_tags", "guest_profiles", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_guest_profiles_tags", table_name="guest_profiles", postgresql_using="gin")
    op.drop_table("guest_profiles")
