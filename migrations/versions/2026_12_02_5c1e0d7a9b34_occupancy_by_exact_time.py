"""Occupancy by exact time: one claim per owner and table over `[starts_at, ends_at)`, under an exclusion constraint.

The unique constraint on (restaurant, table, slot bucket) compared bucket *starts*: two stays
on different grids (a slot-length change, turn times by party size) slipped past it. Each
claim now carries its stay's exact range, and `EXCLUDE USING gist` refuses two overlapping
claims on one table. GiST compares the table as a one-point `int8range` of the table's new
`occupancy_key`, so no `btree_gist` is needed (the embedded PostgreSQL ships none).

Upgrade collapses each owner's bucket rows into one row with the owner's exact times.
Downgrade cuts every claim back into slot buckets on its restaurant's current grid; it fails
(and changes nothing) where two claims that do not overlap share a bucket, which only the
exact-time model can hold.

Revision ID: 5c1e0d7a9b34
Revises: 95889dada2c6
Create Date: 2026-12-02 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0d7a9b34"
down_revision: str | None = "95889dada2c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXCLUSION = """
    ALTER TABLE table_occupancies ADD CONSTRAINT xcl_table_occupancies_no_overlap
    EXCLUDE USING gist (int8range(table_key, table_key, '[]') WITH &&, tstzrange(starts_at, ends_at) WITH &&)
"""


def upgrade() -> None:
    op.add_column(
        "dining_tables",
        sa.Column("occupancy_key", sa.BigInteger(), sa.Identity(always=True), nullable=False),
    )
    op.create_unique_constraint(op.f("uq_dining_tables_occupancy_key"), "dining_tables", ["occupancy_key"])
    op.create_unique_constraint(op.f("uq_dining_tables_id_occupancy_key"), "dining_tables", ["id", "occupancy_key"])

    op.add_column("table_occupancies", sa.Column("table_key", sa.BigInteger(), nullable=True))
    op.add_column("table_occupancies", sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("table_occupancies", sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True))
    # One row per owner and table: keep each owner's first bucket row, give it the owner's exact span.
    op.execute(
        """
        DELETE FROM table_occupancies AS o USING table_occupancies AS first
        WHERE first.table_id = o.table_id
          AND first.reservation_id IS NOT DISTINCT FROM o.reservation_id
          AND first.hold_id IS NOT DISTINCT FROM o.hold_id
          AND first.id < o.id
        """
    )
    op.execute(
        """
        UPDATE table_occupancies AS o
        SET starts_at = r.starts_at, ends_at = r.ends_at
        FROM reservations AS r WHERE r.id = o.reservation_id
        """
    )
    op.execute(
        """
        UPDATE table_occupancies AS o
        SET starts_at = h.starts_at, ends_at = h.ends_at
        FROM holds AS h WHERE h.id = o.hold_id
        """
    )
    op.execute(
        "UPDATE table_occupancies AS o SET table_key = t.occupancy_key FROM dining_tables AS t WHERE t.id = o.table_id"
    )
    for name in ("table_key", "starts_at", "ends_at"):
        op.alter_column("table_occupancies", name, nullable=False)
    op.alter_column("table_occupancies", "id", type_=sa.BigInteger(), existing_nullable=False)
    op.execute("ALTER SEQUENCE table_occupancies_id_seq AS bigint")

    op.drop_constraint(
        op.f("uq_table_occupancies_restaurant_id_table_id_slot_start"), "table_occupancies", type_="unique"
    )
    op.drop_index("ix_table_occupancies_restaurant_id_slot_start", table_name="table_occupancies")
    op.drop_column("table_occupancies", "slot_start")
    op.drop_constraint(op.f("fk_table_occupancies_table_id_dining_tables"), "table_occupancies", type_="foreignkey")
    op.create_foreign_key(
        op.f("fk_table_occupancies_table_id_dining_tables"),
        "table_occupancies",
        "dining_tables",
        ["table_id", "table_key"],
        ["id", "occupancy_key"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        op.f("ck_table_occupancies_ends_after_starts"), "table_occupancies", "ends_at > starts_at"
    )
    op.create_check_constraint(
        op.f("ck_table_occupancies_at_most_a_day"), "table_occupancies", "ends_at <= starts_at + interval '1 day'"
    )
    op.execute(_EXCLUSION)
    op.create_index("ix_table_occupancies_restaurant_id_starts_at", "table_occupancies", ["restaurant_id", "starts_at"])
    op.create_index("ix_table_occupancies_table_id_starts_at", "table_occupancies", ["table_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_table_occupancies_table_id_starts_at", table_name="table_occupancies")
    op.drop_index("ix_table_occupancies_restaurant_id_starts_at", table_name="table_occupancies")
    op.execute("ALTER TABLE table_occupancies DROP CONSTRAINT xcl_table_occupancies_no_overlap")
    op.drop_constraint(op.f("ck_table_occupancies_at_most_a_day"), "table_occupancies", type_="check")
    op.drop_constraint(op.f("ck_table_occupancies_ends_after_starts"), "table_occupancies", type_="check")
    op.drop_constraint(op.f("fk_table_occupancies_table_id_dining_tables"), "table_occupancies", type_="foreignkey")
    op.create_foreign_key(
        op.f("fk_table_occupancies_table_id_dining_tables"),
        "table_occupancies",
        "dining_tables",
        ["table_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.add_column("table_occupancies", sa.Column("slot_start", sa.DateTime(timezone=True), nullable=True))
    # Every slot bucket of each claim on its restaurant's grid, then the exact-time rows go.
    op.execute(
        """
        INSERT INTO table_occupancies
            (restaurant_id, table_id, table_key, starts_at, ends_at, slot_start, reservation_id, hold_id, expires_at)
        SELECT o.restaurant_id, o.table_id, o.table_key, o.starts_at, o.ends_at, bucket,
               o.reservation_id, o.hold_id, o.expires_at
        FROM table_occupancies AS o
        JOIN restaurants AS r ON r.id = o.restaurant_id
        CROSS JOIN LATERAL generate_series(
            o.starts_at, o.ends_at - interval '1 microsecond', make_interval(mins => r.slot_minutes)) AS bucket
        """
    )
    op.execute("DELETE FROM table_occupancies WHERE slot_start IS NULL")
    op.alter_column("table_occupancies", "slot_start", nullable=False)
    op.create_unique_constraint(
        op.f("uq_table_occupancies_restaurant_id_table_id_slot_start"),
        "table_occupancies",
        ["restaurant_id", "table_id", "slot_start"],
    )
    op.create_index(
        "ix_table_occupancies_restaurant_id_slot_start", "table_occupancies", ["restaurant_id", "slot_start"]
    )
    for name in ("ends_at", "starts_at", "table_key"):
        op.drop_column("table_occupancies", name)
    op.execute("ALTER SEQUENCE table_occupancies_id_seq AS integer")
    op.alter_column("table_occupancies", "id", type_=sa.Integer(), existing_nullable=False)

    op.drop_constraint(op.f("uq_dining_tables_id_occupancy_key"), "dining_tables", type_="unique")
    op.drop_constraint(op.f("uq_dining_tables_occupancy_key"), "dining_tables", type_="unique")
    op.drop_column("dining_tables", "occupancy_key")
