"""Availability for a day, in-process, at 10,000 and at 1,000,000 stored reservations.

    .venv/bin/python -m bench.availability                   # embedded PostgreSQL in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.availability
    .venv/bin/python -m bench.availability --explain         # also EXPLAIN ANALYZE the day's claim query

Both contracts, through the Flask test client (routing, schemas, service, SQL; no HTTP server):
the website's `GET /api/reservations/availability?time=` (one slot of the default restaurant) and
the app's `POST /api/reservations/availability` (every seating of a day for a party). The
measured restaurant's day is fully booked (80 reservations on 20 tables). The database first
holds 10,000 reservations (`bench/dataset.py`: 50 restaurants, four seatings per table a day),
then 1,000,000 (250 days around today); each stage is VACUUM ANALYZEd, warmed up, then timed.
Targets (issue 15): p99 at 1M <= 10 ms and <= 1.5 x the p99 at 10k, for each contract.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench import dataset  # noqa: E402

NEW_YORK = ZoneInfo("America/New_York")
P99_LIMIT_MS = 10.0
GROWTH_LIMIT = 1.5


@dataclass(frozen=True)
class Timing:
    name: str
    samples: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] * 1000


def measure(url: str, *, slug: str, restaurant_id: str, day: date, requests: int) -> dict[str, Timing]:
    """Time both contracts' availability for `day`, alternating, after a warm-up."""
    from api import create_app

    app = create_app({"env": "test", "database_url": url, "log_level": "WARNING", "default_restaurant_slug": slug})
    client = app.test_client()
    website = f"/api/reservations/availability?time={day.isoformat()}T19:00:00"
    body = {"restaurantId": restaurant_id, "date": day.isoformat(), "partySize": 2}
    samples: dict[str, list[float]] = {"website": [], "app": []}

    def once(kind: str) -> None:
        started = time.perf_counter()
        if kind == "website":
            response = client.get(website)
        else:
            response = client.post("/api/reservations/availability", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{kind} availability answered {response.status_code}: {response.get_json()}")
        samples[kind].append(elapsed)

    for _ in range(30):
        once("website")
        once("app")
    samples = {"website": [], "app": []}
    for _ in range(requests):
        once("website")
        once("app")
    with app.app_context():
        from api.extensions import db

        db.engine.dispose()
    checks = {
        "website": client.get(website).get_json(),
        "app": client.post("/api/reservations/availability", json=body).get_json(),
    }
    print(f"    website answer: {checks['website']}")
    free = [s.get("remainingCapacity") for s in checks["app"].get("slots", checks["app"].get("timeSlots", []))]
    print(f"    app answer: {len(free)} seatings, free tables per seating {free}")
    return {name: Timing(name, values) for name, values in samples.items()}


EXPLAINED = """
    EXPLAIN (ANALYZE, BUFFERS)
    SELECT table_id, starts_at, ends_at FROM table_occupancies
    WHERE restaurant_id = :rid AND starts_at > :start - interval '1 day' AND starts_at < :end
      AND ends_at > :start AND (expires_at IS NULL OR expires_at > now())
"""


def explain(url: str, *, restaurant_id: str, day: date) -> None:
    """EXPLAIN ANALYZE the claims query both contracts run (allocation.live_claims_between)."""
    start = datetime.combine(day, datetime.min.time(), NEW_YORK).replace(hour=17)
    engine = create_engine(url)
    with engine.connect() as conn:
        plan = conn.execute(text(EXPLAINED), {"rid": restaurant_id, "start": start, "end": start + timedelta(hours=7)})
        print("    " + "\n    ".join(row[0] for row in plan))
    engine.dispose()


def report(stages: dict[int, dict[str, Timing]]) -> bool:
    """Print p50/p99 per stage and contract and the 1M/10k ratio; True when every target is met."""
    small, large = min(stages), max(stages)
    ok = True
    print(f"\n{'contract':<9} {'stored':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for stored, timings in sorted(stages.items()):
        for name, timing in timings.items():
            print(f"{name:<9} {stored:>10,} {timing.pct(50):8.2f} {timing.pct(99):8.2f}")
    for name in stages[large]:
        p99_small, p99_large = stages[small][name].pct(99), stages[large][name].pct(99)
        ratio = p99_large / p99_small
        met = p99_large <= P99_LIMIT_MS and ratio <= GROWTH_LIMIT
        ok = ok and met
        print(
            f"{name}: p99 {p99_large:.2f} ms at {large:,} (target <= {P99_LIMIT_MS} ms), "
            f"1M/10k {ratio:.2f} (target <= {GROWTH_LIMIT})  -> {'met' if met else 'MISSED'}"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="reservations stored in the first stage")
    parser.add_argument("--large", type=int, default=1_000_000, help="reservations stored in the second stage")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per contract and stage")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the claims query at each stage")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the benchmark database is dropped

    from tests.support.databases import migrated_database

    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    restaurants_needed = 50
    with migrated_database("BENCH_DATABASE_URL") as url:
        bulk = dataset.create_restaurants(url, count=restaurants_needed)
        today = datetime.now(NEW_YORK).date()
        measured = today + timedelta(days=3)
        days_needed = math.ceil(args.large / bulk.per_day) + math.ceil(args.small / bulk.per_day) + 1
        others = [today - timedelta(days=days_needed // 2) + timedelta(days=n) for n in range(days_needed + 1)]
        days = [measured] + [d for d in others if d != measured]
        engine = create_engine(url)
        stages: dict[int, dict[str, Timing]] = {}
        loaded = 0
        used_days = 0
        for target in (args.small, args.large):
            with engine.connect() as conn:
                started = time.perf_counter()
                with dataset.indexes_built_after(conn):
                    added = dataset.load_reservations(
                        conn, restaurants=bulk, days=days[used_days:], count=target - loaded
                    )
                print(f"  {added:,} reservations in {time.perf_counter() - started:.0f} s")
            used_days += math.ceil(added / bulk.per_day)
            loaded += added
            dataset.analyze(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
                claims = conn.execute(text("SELECT count(*) FROM table_occupancies")).scalar_one()
            print(f"\n== {stored:,} reservations stored ({claims:,} claims), load average {os.getloadavg()[0]:.2f}")
            if args.explain:
                explain(url, restaurant_id=str(bulk.ids[0]), day=measured)
            stages[stored] = measure(
                url, slug=bulk.slugs[0], restaurant_id=str(bulk.ids[0]), day=measured, requests=args.requests
            )
        engine.dispose()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if report(stages) else 1


if __name__ == "__main__":
    sys.exit(main())
