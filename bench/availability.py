"""Availability for a day, in-process, at 10,000 and at 1,000,000 stored reservations.

    .venv/bin/python -m bench.availability                   # embedded PostgreSQL in a temp dir
    BENCH_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.availability
    .venv/bin/python -m bench.availability --explain         # also EXPLAIN ANALYZE the day's claim query

Both contracts, through the Flask test client (routing, schemas, service, SQL; no HTTP server):
the website's `GET /api/reservations/availability?time=` (one slot of the default restaurant) and
the app's `POST /api/reservations/availability` (every seating of a day for a party). Two
databases on the same server: one holding 10,000 reservations, one 1,000,000 (`bench/dataset.py`:
50 restaurants, four seatings per table a day, days around today; the measured restaurant's
measured day is fully booked, 80 reservations on 20 tables, in both). Each is VACUUM ANALYZEd and
warmed up; then the two are timed alternately, batch by batch, so that a shared machine's noise
falls on both alike.
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


class Contracts:
    """Both contracts' availability requests for one database's measured restaurant and day."""

    def __init__(self, url: str, *, slug: str, restaurant_id: str, day: date) -> None:
        from api import create_app

        self.app = create_app(
            {"env": "test", "database_url": url, "log_level": "WARNING", "default_restaurant_slug": slug}
        )
        self.client = self.app.test_client()
        self.website = f"/api/reservations/availability?time={day.isoformat()}T19:00:00"
        self.body = {"restaurantId": restaurant_id, "date": day.isoformat(), "partySize": 2}

    def once(self, kind: str) -> tuple[float, dict]:
        started = time.perf_counter()
        if kind == "website":
            response = self.client.get(self.website)
        else:
            response = self.client.post("/api/reservations/availability", json=self.body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{kind} availability answered {response.status_code}: {response.get_json()}")
        return elapsed, response.get_json()

    def close(self) -> None:
        with self.app.app_context():
            from api.extensions import db

            db.engine.dispose()


def measure(stages: dict[int, Contracts], *, requests: int, batch: int = 25) -> dict[int, dict[str, Timing]]:
    """Time both contracts on every stage, alternating stages batch by batch after a warm-up.

    Alternating puts a shared machine's noise on every stage alike, as the booking benchmark's
    interleaving does: the ratio 1M / 10k compares like with like.
    """
    samples = {stored: {"website": [], "app": []} for stored in stages}
    for contracts in stages.values():
        for _ in range(30):
            contracts.once("website")
            contracts.once("app")
    for _ in range(max(1, requests // batch)):
        for stored, contracts in stages.items():
            for _ in range(batch):
                for kind in ("website", "app"):
                    samples[stored][kind].append(contracts.once(kind)[0])
    for stored, contracts in stages.items():
        website, app = contracts.once("website")[1], contracts.once("app")[1]
        free = [s.get("remainingCapacity") for s in app.get("slots", app.get("timeSlots", []))]
        print(f"  {stored:,} stored: website {website}; app {len(free)} seatings, free tables {free}")
    return {
        stored: {kind: Timing(kind, values) for kind, values in by_kind.items()} for stored, by_kind in samples.items()
    }


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
    parser.add_argument("--small", type=int, default=10_000, help="reservations in the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="reservations in the large database")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per contract and stage")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the claims query in each database")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the benchmark databases are dropped

    from tests.support.databases import migrated_database

    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    today = datetime.now(NEW_YORK).date()
    measured = today + timedelta(days=3)
    with migrated_database("BENCH_DATABASE_URL") as small_url, migrated_database("BENCH_DATABASE_URL") as large_url:
        stages: dict[int, Contracts] = {}
        for url, count in ((small_url, args.small), (large_url, args.large)):
            # Distinct slugs: the per-process settings caches are keyed by slug and restaurant id.
            bulk = dataset.create_restaurants(url, count=50, prefix=f"bulk{count}")
            days_needed = math.ceil(count / bulk.per_day) + 1
            others = [today - timedelta(days=days_needed // 2) + timedelta(days=n) for n in range(days_needed + 1)]
            days = [measured] + [d for d in others if d != measured]  # the measured day is loaded first, whole
            engine = create_engine(url)
            with engine.connect() as conn:
                started = time.perf_counter()
                with dataset.indexes_built_after(conn):
                    added = dataset.load_reservations(conn, restaurants=bulk, days=days, count=count)
                print(f"  {added:,} reservations (and their claims) in {time.perf_counter() - started:.0f} s")
            dataset.analyze(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
                claims = conn.execute(text("SELECT count(*) FROM table_occupancies")).scalar_one()
            engine.dispose()
            print(f"== {stored:,} reservations stored ({claims:,} claims), load average {os.getloadavg()[0]:.2f}")
            if args.explain:
                explain(url, restaurant_id=str(bulk.ids[0]), day=measured)
            stages[stored] = Contracts(url, slug=bulk.slugs[0], restaurant_id=str(bulk.ids[0]), day=measured)
        print(f"\nmeasuring, alternating the databases (load average {os.getloadavg()[0]:.2f})")
        timings = measure(stages, requests=args.requests)
        for contracts in stages.values():
            contracts.close()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if report(timings) else 1


if __name__ == "__main__":
    sys.exit(main())
