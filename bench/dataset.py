"""Many stored reservations, fast: restaurants created through the models, reservations by SQL.

Used by `bench.availability` (10,000 and 1,000,000 stored reservations) and by the no-slowdown
scenario of `bench.booking`. Each reservation is inserted with its claim in `table_occupancies`
by one statement (`INSERT ... SELECT generate_series` feeding a data-modifying CTE), so claims and
reservations stay consistent (`tests/support/invariants.py`): every table gets four seatings a
day (17:00, 18:30, 20:00, 21:30 local, 90 minutes each, touching but not overlapping), so the
exclusion constraint accepts every row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import Connection, text

SEATINGS = ("17:00", "18:30", "20:00", "21:30")
# (count, min seats, max seats): 8 two-tops, 8 four-tops, 4 six-tops.
TABLE_MIX = ((8, 1, 2), (8, 2, 4), (4, 4, 6))
TABLES_PER_RESTAURANT = sum(count for count, _, _ in TABLE_MIX)
DAYS_PER_STATEMENT = 10


@dataclass(frozen=True)
class BulkRestaurants:
    ids: list[uuid.UUID]
    slugs: list[str]

    @property
    def per_day(self) -> int:
        """Reservations one fully booked day adds across these restaurants."""
        return len(self.ids) * TABLES_PER_RESTAURANT * len(SEATINGS)


def create_restaurants(
    database_url: str, *, count: int, prefix: str = "bulk", horizon_days: int = 400
) -> BulkRestaurants:
    """`count` restaurants open daily 17:00-23:00 (New York), each with TABLE_MIX's 20 tables."""
    from api import create_app
    from api.db import atomic
    from api.extensions import db
    from api.restaurants.models import DiningTable, OpeningHours, Restaurant

    app = create_app({"env": "test", "database_url": database_url, "log_level": "WARNING"})
    made: list[Restaurant] = []
    with app.app_context():
        with atomic():
            for n in range(count):
                restaurant = Restaurant(
                    slug=f"{prefix}-{n:04d}",
                    name=f"Bulk {n}",
                    timezone="America/New_York",
                    slot_minutes=30,
                    default_duration_minutes=90,
                    booking_horizon_days=horizon_days,
                    min_party_size=1,
                    max_party_size=6,
                    min_lead_minutes=0,
                )
                number = 1
                for tables, low, high in TABLE_MIX:
                    for _ in range(tables):
                        restaurant.tables.append(
                            DiningTable(number=number, label=f"T{number}", min_seats=low, max_seats=high)
                        )
                        number += 1
                for weekday in range(7):
                    restaurant.opening_hours.append(
                        OpeningHours(weekday=weekday, opens_at=time(17), closes_at=time(23))
                    )
                db.session.add(restaurant)
                made.append(restaurant)
        result = BulkRestaurants(ids=[r.id for r in made], slugs=[r.slug for r in made])
        db.session.remove()
        db.engine.dispose()
    return result


_CUSTOMER = """
    INSERT INTO customers (id, email, name, phone) VALUES (gen_random_uuid(), 'bulk@bench.local', 'Bulk', '')
    ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id
"""

# One statement per batch of days: the reservations, then one claim each for its exact stay.
_INSERT = """
    WITH made AS (
      INSERT INTO reservations (
        id, restaurant_id, table_id, customer_id, confirmation_code, party_size, starts_at, ends_at,
        service_date, status, source, special_requests, deposit_cents, deposit_paid, refund_policy,
        refund_cents, created_at, updated_at)
      SELECT gen_random_uuid(), t.restaurant_id, t.id, :customer_id,
             'B' || lpad(to_hex(nextval('bench_bulk_codes')), 11, '0'),
             LEAST(t.max_seats, 2), (d.day + s.at) AT TIME ZONE r.timezone,
             (d.day + s.at + interval '90 minutes') AT TIME ZONE r.timezone,
             d.day, 'confirmed', 'web', '', 0, false, '[]'::jsonb, 0, now(), now()
      FROM unnest(CAST(:days AS date[])) WITH ORDINALITY AS d(day, n)
      CROSS JOIN unnest(CAST(:seatings AS time[])) AS s(at)
      JOIN dining_tables AS t ON t.restaurant_id = ANY(CAST(:restaurant_ids AS uuid[]))
      JOIN restaurants AS r ON r.id = t.restaurant_id
      ORDER BY d.n
      LIMIT :limit
      RETURNING id, restaurant_id, table_id, starts_at, ends_at
    )
    INSERT INTO table_occupancies (restaurant_id, table_id, table_key, starts_at, ends_at, reservation_id)
    SELECT made.restaurant_id, made.table_id, t.occupancy_key, made.starts_at, made.ends_at, made.id
    FROM made JOIN dining_tables AS t ON t.id = made.table_id
"""


def load_reservations(
    conn: Connection, *, restaurants: BulkRestaurants, days: Sequence[date], count: int, progress: bool = True
) -> int:
    """Insert up to `count` reservations (and their claims), filling `days` in order. Returns how many.

    Days fill in order, each completely (`restaurants.per_day` rows) before the next; only the last
    may be partial, so a later call should start `ceil(loaded / per_day)` days further. `days` must
    not have been loaded before for these restaurants (the exclusion constraint says so). Commits
    after each batch of DAYS_PER_STATEMENT days.
    """
    conn.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_bulk_codes"))
    customer_id = conn.execute(text(_CUSTOMER)).scalar_one()
    conn.commit()
    done = 0
    for first in range(0, len(days), DAYS_PER_STATEMENT):
        if done >= count:
            break
        batch = list(days[first : first + DAYS_PER_STATEMENT])
        result = conn.execute(
            text(_INSERT),
            {
                "customer_id": customer_id,
                "days": batch,
                "seatings": list(SEATINGS),
                "restaurant_ids": restaurants.ids,
                "limit": count - done,
            },
        )
        conn.commit()
        done += result.rowcount
        if progress:
            print(f"  loaded {done:,} / {count:,} reservations", end="\r", flush=True)
    if progress:
        print()
    return done


BULK_TABLES = ("reservations", "table_occupancies")

_SECONDARY = """
    SELECT c.relname AS table_name, i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition,
           con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraint_definition
    FROM pg_index AS i
    JOIN pg_class AS c ON c.oid = i.indrelid
    LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
    WHERE c.relname = ANY(:tables) AND NOT i.indisprimary AND (con.oid IS NULL OR con.contype = 'x')
"""


@contextmanager
def indexes_built_after(conn: Connection) -> Iterator[None]:
    """Drop the booking tables' secondary indexes and the exclusion constraint, rebuild them at the end.

    One index build is much cheaper than a million index insertions (the GiST index of the
    exclusion constraint above all). Rebuilding the constraint re-checks every claim, so a bulk
    load that overlapped two stays would fail here. Unique constraints and keys stay in place.
    """
    found = conn.execute(text(_SECONDARY), {"tables": list(BULK_TABLES)}).mappings().all()
    for row in found:
        if row["constraint_name"]:
            conn.execute(text(f'ALTER TABLE {row["table_name"]} DROP CONSTRAINT "{row["constraint_name"]}"'))
        else:
            conn.execute(text(f"DROP INDEX {row['name']}"))
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for row in found:
            if row["constraint_name"]:
                conn.execute(
                    text(
                        f'ALTER TABLE {row["table_name"]} ADD CONSTRAINT "{row["constraint_name"]}" '
                        f"{row['constraint_definition']}"
                    )
                )
            else:
                conn.execute(text(row["definition"]))
        conn.commit()


def analyze(database_url: str) -> None:
    """VACUUM ANALYZE the booking tables, as autovacuum would soon after a bulk load."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for table in ("reservations", "table_occupancies", "customers", "dining_tables"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        engine.dispose()
