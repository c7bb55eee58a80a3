"""Insight benchmark: the dashboards and a year's statistics at 1,000,000 stored reservations.

    .venv/bin/python bench/insight.py                 # embedded PostgreSQL (pgserver) in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg2://u:p@host/postgres .venv/bin/python bench/insight.py

BENCH_DATABASE_URL names a server where the benchmark may create (and then drop) a database.
It migrates a fresh database with alembic and bulk-loads, with generate_series, ten restaurants
of 70 tables (open 17:00-23:00, four 90-minute seatings a table a night) and 100,000 reservations
each over 357 consecutive days: 1,000,000 reservations, their table claims (pending, confirmed,
seated and completed ones), an audit event for every reservation that moved (about 900,000), and a
captured (or, when cancelled, refunded) deposit for one booking in five. After VACUUM ANALYZE it
times, in process, the service calls behind

- `GET /api/restaurants/<id>/dashboard` (`insight.dashboards.restaurant_dashboard`),
- `GET /api/dashboard` (`insight.dashboards.guest_dashboard`),
- `GET /api/restaurants/<id>/statistics` for the whole year (`insight.statistics.restaurant_statistics`),
- `GET /api/statistics` for the whole year over all ten restaurants (`insight.statistics.all_statistics`),

prints p50/p95 over N runs, and EXPLAIN (ANALYZE, BUFFERS) of each statement of the single-restaurant
statistics and of the dashboard's activity query. Figures go to docs/benchmarks.md ("Insight").
"""

from __future__ import annotations

import argparse
import math
import statistics as stats
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

RESTAURANTS = 10
PER_RESTAURANT = 100_000
TABLES = 70
SEATINGS = 4  # 17:00, 18:30, 20:00, 21:30: back to back, so no two claims of a table overlap
PER_DAY = TABLES * SEATINGS
CUSTOMERS = 50_000
FIRST_DAY = date(2025, 1, 6)
DAYS = math.ceil(PER_RESTAURANT / PER_DAY)
TODAY = FIRST_DAY + timedelta(days=300)  # the benchmark's "now": 57 days of future bookings remain

_RESERVATIONS_SQL = """
INSERT INTO reservations (id, restaurant_id, table_id, customer_id, hold_id, confirmation_code, party_size,
    starts_at, ends_at, service_date, status, source, special_requests, deposit_cents, deposit_paid,
    refund_policy, refund_cents, cancelled_at, created_at, updated_at)
SELECT md5(:rid || '-' || g)::uuid, :rid, t.id,
       md5('c' || (1 + (h % :customers)))::uuid,
       CASE WHEN (h / 7) % 5 = 0 THEN md5('h' || :rid || '-' || g)::uuid END,
       upper(substr(md5('code' || :rid || '-' || g), 1, 12)),
       1 + (h / 11) % 6,
       s.starts_at, s.starts_at + interval '90 minutes', s.day,
       CASE WHEN s.day < :today THEN
            CASE WHEN h % 100 < 70 THEN 'completed' WHEN h % 100 < 75 THEN 'no_show'
                 WHEN h % 100 < 85 THEN 'cancelled' WHEN h % 100 < 88 THEN 'rejected' ELSE 'completed' END
            ELSE CASE WHEN h % 100 < 80 THEN 'confirmed' WHEN h % 100 < 88 THEN 'pending'
                      WHEN h % 100 < 90 THEN 'seated' ELSE 'cancelled' END
       END,
       (ARRAY['web', 'app', 'staff'])[1 + (h / 13) % 3],
       '', 0, false, '[]'::jsonb, 0,
       CASE WHEN (s.day < :today AND h % 100 BETWEEN 75 AND 84) OR (s.day >= :today AND h % 100 >= 90)
            THEN s.starts_at - ((h / 17) % 200) * interval '1 hour' END,
       s.starts_at - interval '20 days', s.starts_at - interval '20 days'
FROM (
    SELECT g, abs(hashtext(:rid || '-' || g)::bigint) AS h,
           (:first_day + g / :per_day) AS day,
           1 + (g % :per_day) / :seatings AS table_number,
           ((:first_day + g / :per_day) + time '17:00' + (g % :seatings) * interval '90 minutes')
               AT TIME ZONE 'America/New_York' AS starts_at
    FROM generate_series(0, :n - 1) AS g
) AS s
JOIN dining_tables AS t ON t.restaurant_id = :rid AND t.number = s.table_number
"""

_CLAIMS_SQL = """
INSERT INTO table_occupancies (restaurant_id, table_id, table_key, starts_at, ends_at, reservation_id)
SELECT r.restaurant_id, r.table_id, t.occupancy_key, r.starts_at, r.ends_at, r.id
FROM reservations AS r JOIN dining_tables AS t ON t.id = r.table_id
WHERE r.restaurant_id = :rid AND r.status IN ('pending', 'confirmed', 'seated', 'completed')
"""

_EVENTS_SQL = """
INSERT INTO reservation_events (reservation_id, at, actor_role, action, from_status, to_status, reason, details)
SELECT id, coalesce(cancelled_at, ends_at), 'system',
       CASE status WHEN 'completed' THEN 'complete' WHEN 'no_show' THEN 'no_show' WHEN 'cancelled' THEN 'cancel'
                   WHEN 'rejected' THEN 'reject' ELSE 'seat' END,
       CASE status WHEN 'rejected' THEN 'pending' WHEN 'completed' THEN 'seated' ELSE 'confirmed' END,
       status, '', '{}'::jsonb
FROM reservations WHERE restaurant_id = :rid AND status NOT IN ('confirmed', 'pending')
"""

_PAYMENTS_SQL = """
INSERT INTO payments (id, subject_id, attempt, idempotency_key, amount_cents, currency, status, gateway,
    payment_method, refunded_cents, created_at, updated_at)
SELECT md5('p' || id)::uuid, hold_id, 1, 'bench-' || id, party_size * 2500, 'usd',
       CASE WHEN status = 'cancelled' THEN 'refunded' ELSE 'captured' END, 'fake', 'pm_card_visa',
       CASE WHEN status = 'cancelled' THEN party_size * 2500 ELSE 0 END, created_at, created_at
FROM reservations WHERE restaurant_id = :rid AND hold_id IS NOT NULL
"""


def seed(url: str) -> list[str]:
    """Restaurants, tables and hours through the models; everything else with generate_series.

    On a database that already holds the bench restaurants (`--database-url`, a run that stopped),
    only the restaurants without reservations are loaded.
    """
    from datetime import time as wall

    from api import create_app
    from api.db import atomic
    from api.extensions import db
    from api.restaurants.models import DiningTable, OpeningHours, Restaurant

    engine = create_engine(url)
    with engine.connect() as conn:
        existing = [
            str(row[0])
            for row in conn.execute(text("SELECT id FROM restaurants WHERE slug LIKE 'bench-%' ORDER BY slug"))
        ]
    ids = existing
    if not existing:
        app = create_app({"env": "test", "database_url": url, "log_level": "WARNING"})
        with app.app_context():
            with atomic():
                for n in range(RESTAURANTS):
                    restaurant = Restaurant(
                        slug=f"bench-{n}", name=f"Bench {n}", timezone="America/New_York", booking_horizon_days=730
                    )
                    for number in range(1, TABLES + 1):
                        restaurant.tables.append(DiningTable(number=number, label=f"T{number}", max_seats=6))
                    for weekday in range(7):
                        restaurant.opening_hours.append(
                            OpeningHours(weekday=weekday, opens_at=wall(17), closes_at=wall(23))
                        )
                    db.session.add(restaurant)
                    db.session.flush()
                    ids.append(str(restaurant.id))
            db.engine.dispose()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (id, email, name, phone) SELECT md5('c' || g)::uuid, "
                    "'guest' || g || '@bench.example', 'Guest ' || g, '555' || lpad(g::text, 7, '0') "
                    "FROM generate_series(1, :n) AS g"
                ),
                {"n": CUSTOMERS},
            )
    params = {
        "customers": CUSTOMERS,
        "first_day": FIRST_DAY,
        "per_day": PER_DAY,
        "seatings": SEATINGS,
        "n": PER_RESTAURANT,
        "today": TODAY,
    }
    for rid in ids:
        with engine.connect() as conn:
            if conn.execute(
                text("SELECT EXISTS (SELECT 1 FROM reservations WHERE restaurant_id = :r)"), {"r": rid}
            ).scalar():
                continue
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(_RESERVATIONS_SQL), {**params, "rid": rid})
            for sql in (_CLAIMS_SQL, _EVENTS_SQL, _PAYMENTS_SQL):
                conn.execute(text(sql), {"rid": rid})
        print(f"  loaded {rid}: {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return ids


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def timed(name: str, runs: int, call: Callable[[], Any]) -> dict[str, float]:
    call()  # warm: plans cached, pages in shared buffers
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    figures = {"p50": stats.median(samples), "p95": percentile(samples, 95), "max": max(samples)}
    print(f"{name:<44} p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms   max {figures['max']:7.1f} ms")
    return figures


def explain(conn: Any, label: str, sql: str, params: dict[str, Any]) -> None:
    rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql), params).scalars().all()
    print(f"\n--- EXPLAIN {label}")
    for line in rows:
        print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--database-url",
        help="use this migrated database (kept afterwards) instead of a fresh one: loading takes ~30 min on 2 cores",
    )
    args = parser.parse_args()

    from contextlib import nullcontext

    from tests.support.databases import migrated_database

    with nullcontext(args.database_url) if args.database_url else migrated_database("BENCH_DATABASE_URL") as url:
        print(f"loading {RESTAURANTS * PER_RESTAURANT:,} reservations ...", flush=True)
        started = time.perf_counter()
        ids = seed(url)
        print(f"loaded and analysed in {time.perf_counter() - started:.0f} s")

        from api import create_app
        from api.accounts.models import Role, User
        from api.extensions import db
        from api.insight import dashboards
        from api.insight import statistics as insight_statistics

        app = create_app({"env": "test", "database_url": url, "log_level": "WARNING"})
        with app.app_context():
            counts = db.session.execute(
                text(
                    "SELECT (SELECT count(*) FROM reservations), (SELECT count(*) FROM table_occupancies), "
                    "(SELECT count(*) FROM reservation_events), (SELECT count(*) FROM payments)"
                )
            ).one()
            print(
                f"rows: {counts[0]:,} reservations, {counts[1]:,} claims, {counts[2]:,} events, {counts[3]:,} payments"
            )
            admin = User(email=f"bench-admin-{time.time_ns()}@example.com", password_hash="x", role=Role.ADMIN)
            guest = User(email=f"bench-guest-{time.time_ns()}@example.com", password_hash="x", role=Role.CUSTOMER)
            db.session.add_all([admin, guest])
            db.session.commit()
            # The guest has a booking history: 40 of the first restaurant's reservations move to the account.
            db.session.execute(
                text(
                    "UPDATE reservations SET user_id = :u WHERE id IN (SELECT id FROM reservations "
                    "WHERE restaurant_id = :r ORDER BY id LIMIT 40)"
                ),
                {"u": guest.id, "r": ids[0]},
            )
            db.session.commit()
            now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)
            year = (FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
            print(f"\nN = {args.runs} runs each, in process (service call: SQL + Python), year {year[0]}..{year[1]}\n")
            results = {
                "restaurant dashboard": timed(
                    "restaurant dashboard (today)",
                    args.runs,
                    lambda: dashboards.restaurant_dashboard(actor=admin, restaurant_id=ids[0], now=now),
                ),
                "guest dashboard": timed(
                    "guest dashboard", args.runs, lambda: dashboards.guest_dashboard(actor=guest, now=now)
                ),
                "restaurant statistics": timed(
                    "statistics, one restaurant, 357 days",
                    args.runs,
                    lambda: insight_statistics.restaurant_statistics(
                        actor=admin, restaurant_id=ids[0], start_date=year[0], end_date=year[1]
                    ),
                ),
                "all statistics": timed(
                    "statistics, all 10 restaurants, 357 days",
                    max(5, args.runs // 3),
                    lambda: insight_statistics.all_statistics(actor=admin, start_date=year[0], end_date=year[1]),
                ),
            }
            conn = db.session.connection()
            params = {"start": year[0], "end": year[1], "restaurant_id": ids[0]}
            explain(
                conn,
                "statistics: bookings (one restaurant)",
                insight_statistics._BOOKINGS_SQL.format(restaurant_filter="AND restaurant_id = :restaurant_id"),
                params,
            )
            explain(
                conn,
                "statistics: occupancy (one restaurant)",
                insight_statistics._OCCUPIED_SQL.format(restaurant_filter="AND o.restaurant_id = :restaurant_id"),
                {
                    "restaurant_id": ids[0],
                    "from_instant": datetime.combine(year[0] - timedelta(days=1), datetime.min.time(), tzinfo=UTC),
                    "to_instant": datetime.combine(year[1] + timedelta(days=2), datetime.min.time(), tzinfo=UTC),
                    "first_day": datetime.combine(year[0], datetime.min.time()),
                    "after_last_day": datetime.combine(year[1] + timedelta(days=1), datetime.min.time()),
                },
            )
            explain(
                conn,
                "statistics: deposits (one restaurant)",
                insight_statistics._DEPOSITS_SQL.format(
                    restaurant_filter="AND r.restaurant_id = :restaurant_id"
                ).replace(":captured", "('captured', 'partially_refunded', 'refunded')"),
                params,
            )
            explain(
                conn,
                "dashboard: recent activity (one restaurant)",
                "SELECT e.at, e.action, r.confirmation_code FROM reservation_events AS e "
                "JOIN reservations AS r ON r.id = e.reservation_id WHERE r.restaurant_id = :restaurant_id "
                "AND e.at <= :now ORDER BY e.at DESC, e.id DESC LIMIT 20",
                {**params, "now": now},
            )
        print("\nsummary (p95, ms):", {name: round(figures["p95"], 1) for name, figures in results.items()})


if __name__ == "__main__":
    main()
