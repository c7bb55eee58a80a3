"""Timed table blocks (seed 001 TableBlock), occupying tables through the occupancy exclusion constraint.

`table_occupancies` gets a third owner, `block_id`; `one_owner` now says exactly one of
reservation, hold and block owns a claim.

Revision ID: c3f9e5a12d33
Revises: b2e8d4f01c22
Create Date: 2026-12-02 13:02:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f9e5a12d33"
down_revision: str | None = "b2e8d4f01c22"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "table_blocks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("table_id", sa.UUID(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_table_blocks_ends_after_starts")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_table_blocks_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"], ["restaurants.id"], name=op.f("fk_table_blocks_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["dining_tables.id"], name=op.f("fk_table_blocks_table_id_dining_tables"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_table_blocks")),
    )  # fmt: skip
    op.create_index("ix_table_blocks_table_id_starts_at", "table_blocks", ["table_id", "starts_at"], unique=False)
    op.add_column("table_occupancies", sa.Column("block_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_table_occupancies_block_id_table_blocks"),
        "table_occupancies",
        "table_blocks",
        ["block_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_table_occupancies_block_id", "table_occupancies", ["block_id"], unique=False)
    op.drop_constraint(op.f("ck_table_occupancies_one_owner"), "table_occupancies", type_="check")
    op.create_check_constraint(
        op.f("ck_table_occupancies_one_owner"),
        "table_occupancies",
        "num_nonnulls(reservation_id, hold_id, block_id) = 1",
    )


def downgrade() -> None:
    # Blocks cannot be expressed in the old schema: their claims and rows go.
    op.execute("DELETE FROM table_occupancies WHERE block_id IS NOT NULL")
    op.drop_constraint(op.f("ck_table_occupancies_one_owner"), "table_occupancies", type_="check")
    op.create_check_constraint(
        op.f("ck_table_occupancies_one_owner"), "table_occupancies", "num_nonnulls(reservation_id, hold_id) = 1"
    )
    op.drop_index("ix_table_occupancies_block_id", table_name="table_occupancies")
    op.drop_constraint(op.f("fk_table_occupancies_block_id_table_blocks"), "table_occupancies", type_="foreignkey")
    op.drop_column("table_occupancies", "block_id")
    op.drop_index("ix_table_blocks_table_id_starts_at", table_name="table_blocks")
    op.drop_table("table_blocks")
