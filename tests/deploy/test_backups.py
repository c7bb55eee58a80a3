"""`flask backup` / `flask restore`: 50,000 bookings survive the round trip into a fresh database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.booking.models import OCCUPANCY_EXCLUSION_CONSTRAINT
from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.support import databases

BOOKINGS = 50_000

# Bookings on Café Fausse's tables, two hours apart per table (90-minute stays), one in ten cancelled;
# each live one holds its table for its exact stay, as the allocation writes claims.
FILL = """
INSERT INTO customers (id, email, name, phone)
SELECT gen_random_uuid(), 'guest' || g || '@example.com', 'Guest ' || g, '' FROM generate_series(1, 1000) g;

WITH t AS (SELECT id, restaurant_id, row_number() OVER (ORDER BY number) - 1 AS k FROM dining_tables),
     n AS (SELECT count(*) AS tables FROM t),
     c AS (SELECT id, row_number() OVER (ORDER BY email) - 1 AS k FROM customers)
INSERT INTO reservations (
    id, restaurant_id, table_id, customer_id, confirmation_code, party_size, starts_at, ends_at,
    service_date, status, source, special_requests, deposit_cents, deposit_paid, refund_policy, refund_cents
)
SELECT gen_random_uuid(), t.restaurant_id, t.id, c.id, 'BK-' || lpad(g::text, 8, '0'), 1 + g % 4,
       timestamptz '2027-01-01 17:00+00' + (g / n.tables) * interval '2 hours',
       timestamptz '2027-01-01 18:30+00' + (g / n.tables) * interval '2 hours',
       date '2027-01-01' + (g / n.tables / 12)::int, CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'confirmed' END,
       'web', 'note ' || g, 2500 * (g % 3), g % 3 > 0, '{"24": 100}'::jsonb, 0
FROM generate_series(0, :bookings - 1) g CROSS JOIN n JOIN t ON t.k = g % n.tables JOIN c ON c.k = g % 1000;

INSERT INTO table_occupancies (restaurant_id, table_id, table_key, starts_at, ends_at, reservation_id)
SELECT r.restaurant_id, r.table_id, t.occupancy_key, r.starts_at, r.ends_at, r.id
FROM reservations r JOIN dining_tables t ON t.id = r.table_id WHERE r.status <> 'cancelled';
"""

SCHEMA = {
    "tables": "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
    "sequences": "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
}

INVARIANTS = {
    "live bookings overlapping on one table": """
        SELECT count(*) FROM (
            SELECT starts_at, lag(ends_at) OVER (PARTITION BY table_id ORDER BY starts_at) AS previous_end
            FROM reservations WHERE status IN ('pending', 'confirmed')) s
        WHERE previous_end > starts_at""",
    "live bookings without their exact claim": """
        SELECT count(*) FROM reservations r WHERE status IN ('pending', 'confirmed')
        AND (SELECT count(*) FROM table_occupancies o WHERE o.reservation_id = r.id AND o.table_id = r.table_id
             AND o.starts_at = r.starts_at AND o.ends_at = r.ends_at) <> 1""",
    "claims of cancelled bookings": """
        SELECT count(*) FROM table_occupancies o JOIN reservations r ON r.id = o.reservation_id
        WHERE r.status = 'cancelled'""",
    "claims overlapping on one table": """
        SELECT count(*) FROM (
            SELECT starts_at, lag(ends_at) OVER (PARTITION BY table_id ORDER BY starts_at) AS previous_end
            FROM table_occupancies) s
        WHERE previous_end > starts_at""",
}

CHECKSUM = """SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "{table}" t"""


# Restored, `x IN ('a', 'b')` on a varchar deparses as ARRAY[('a'::varchar)::text, ...] instead of
# ARRAY['a'::varchar, ...]::text[]: the same expression. Compare definitions without casts and brackets.
CASTS_AND_BRACKETS = re.compile(r"::[a-z ]+(\[\])?|[()]")


def definitions(rows: list) -> list:  # type: ignore[type-arg]
    return [(*row[:-1], CASTS_AND_BRACKETS.sub("", row[-1])) for row in rows]


def flask(app, *args: str):  # type: ignore[no-untyped-def]
    """Run `flask <args>` on `app` as the command line does (with an application context)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.engine.dispose()
    return result


def user_tables(url: str) -> list:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(SCHEMA["tables"])).all()
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, object]:
    """Schema, row counts, a checksum of every table's rows, and the booking invariants."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result: dict[str, object] = {key: conn.execute(text(sql)).all() for key, sql in SCHEMA.items()}
            result["constraints"] = definitions(result["constraints"])  # type: ignore[arg-type]
            result["indexes"] = definitions(result["indexes"])  # type: ignore[arg-type]
            for (table,) in result["tables"]:  # type: ignore[union-attr]
                result[f"rows {table}"] = conn.execute(text(CHECKSUM.format(table=table))).one()
            result["invariants"] = {name: conn.execute(text(sql)).scalar_one() for name, sql in INVARIANTS.items()}
    finally:
        engine.dispose()
    return result


@pytest.fixture
def empty_database(postgres_server_url: str) -> Iterator[str]:
    """A brand-new database (from template0, no migrations): what an operator restores into."""
    name = f"sk_restore_{time.time_ns()}"
    databases._admin(postgres_server_url, f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield databases.url_for_database(postgres_server_url, name)
    databases.drop_database(postgres_server_url, name)


@pytest.fixture
def booked_database(make_app, committing_database: str) -> str:
    app = make_app(database_url=committing_database)
    with app.app_context():
        with atomic():
            ensure_cafe_fausse()
            db.session.execute(text(FILL), {"bookings": BOOKINGS})
        db.engine.dispose()
    return committing_database


def test_fifty_thousand_bookings_survive_backup_and_restore_into_a_fresh_database(
    make_app, booked_database, empty_database, tmp_path: Path, record_property
):
    dump = tmp_path / "seatkeeper.dump"
    source_app = make_app(database_url=booked_database)
    target_app = make_app(database_url=empty_database)

    started = time.perf_counter()
    backed_up = flask(source_app, "backup", str(dump))
    backup_seconds = time.perf_counter() - started
    assert backed_up.exit_code == 0, backed_up.output
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size * 2 // 3])
    failed = flask(target_app, "restore", str(truncated))
    assert failed.exit_code != 0
    assert "pg_restore failed" in failed.output
    assert user_tables(empty_database) == []  # one transaction: the tables made before the failure are gone

    started = time.perf_counter()
    restored = flask(target_app, "restore", str(dump))
    restore_seconds = time.perf_counter() - started
    assert restored.exit_code == 0, restored.output

    source, target = snapshot(booked_database), snapshot(empty_database)
    assert source["rows reservations"][0] == BOOKINGS  # type: ignore[index]
    assert source["rows table_occupancies"][0] == BOOKINGS * 9 // 10  # type: ignore[index]
    assert target == source
    assert OCCUPANCY_EXCLUSION_CONSTRAINT in {name for _, name, _ in target["constraints"]}  # type: ignore[union-attr]
    assert set(target["invariants"].values()) == {0}  # type: ignore[union-attr]
    print(f"\n{BOOKINGS} bookings: backup {backup_seconds:.1f} s, restore {restore_seconds:.1f} s, "
          f"dump {dump.stat().st_size / 1e6:.1f} MB")  # fmt: skip
    record_property("backup_seconds", round(backup_seconds, 2))
    record_property("restore_seconds", round(restore_seconds, 2))


def test_restore_refuses_a_database_that_is_not_empty(make_app, committing_database, tmp_path: Path):
    app = make_app(database_url=committing_database)
    dump = tmp_path / "seatkeeper.dump"
    assert flask(app, "backup", str(dump)).exit_code == 0
    before = snapshot(committing_database)

    result = flask(app, "restore", str(dump))

    assert result.exit_code != 0
    assert "not empty" in result.output
    assert snapshot(committing_database) == before
