"""Booking benchmark: the website's POST /api/reservations through gunicorn, against a one-INSERT baseline.

    .venv/bin/python -m bench.booking                      # embedded PostgreSQL (pgserver) in a temp dir
    .venv/bin/python -m bench.booking --workers 2,3,4,6    # compare gunicorn worker counts
    BENCH_DATABASE_URL=postgresql+psycopg2://u:p@host/postgres .venv/bin/python -m bench.booking

BENCH_DATABASE_URL names a server where the benchmark may create (and then drop) a database.
The run migrates a fresh database, creates the baseline's `bench_inserts` table, seeds a
benchmark restaurant (40 two-tops, open 17:00-23:00 every day, a two-year horizon) and serves
the app with gunicorn on loopback (RATELIMIT_ENABLED=false, BENCH_ENDPOINTS_ENABLED=true).
For each worker count it measures, interleaving the phases over several repetitions so that
a noisy neighbour hurts both sides alike:

- baseline throughput: C concurrent clients POST /api/_bench/insert (one INSERT, one transaction,
  same Flask + flask-smorest + marshmallow + SQLAlchemy stack);
- booking throughput: C concurrent clients book distinct slots (consecutive requests on
  different days, so they do not queue on one service day's lock);
- baseline burst: N clients released at once on the baseline endpoint;
- contention: N clients released at once to book the same slot (40 win, the rest get 409).

It prints throughput, p50/p99 latency and statuses, the booking/baseline ratios, and checks in
SQL that nothing was sold twice. Figures go to docs/benchmarks.md ("Booking").
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

SLUG = "bench-bistro"
TZ = ZoneInfo("America/New_York")
TABLES = 40
SLOTS = [f"{17 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(12)]  # 17:00 ... 22:30


# ---------------------------------------------------------------- database


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh, migrated database URL on BENCH_DATABASE_URL's server or an embedded one."""
    from tests.support.databases import migrated_database

    with migrated_database("BENCH_DATABASE_URL") as url:
        from api.benchmark.service import CREATE_TABLE

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(CREATE_TABLE))
        engine.dispose()
        yield url


def seed_restaurant(url: str) -> None:
    from datetime import time as wall

    from api import create_app
    from api.db import atomic
    from api.extensions import db
    from api.restaurants.models import DiningTable, OpeningHours, Restaurant

    app = create_app({"env": "test", "database_url": url, "log_level": "WARNING"})
    with app.app_context():
        with atomic():
            restaurant = Restaurant(
                slug=SLUG,
                name="Bench Bistro",
                timezone="America/New_York",
                slot_minutes=30,
                default_duration_minutes=90,
                booking_horizon_days=730,
                max_party_size=12,
            )
            for number in range(1, TABLES + 1):
                restaurant.tables.append(DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=2))
            for weekday in range(7):
                restaurant.opening_hours.append(OpeningHours(weekday=weekday, opens_at=wall(17), closes_at=wall(23)))
            db.session.add(restaurant)
        db.engine.dispose()


def check_invariants(url: str) -> dict[str, int]:
    """Nothing sold twice, on exact time ranges (tests/support/invariants.py), and the row counts."""
    from tests.support import invariants

    engine = create_engine(url)
    with engine.connect() as conn:
        found = {name: len(rows) for name, rows in invariants.violations(conn).items()}
        reservations = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
        inserts = conn.execute(text("SELECT count(*) FROM bench_inserts")).scalar_one()
    engine.dispose()
    return {**found, "reservations": reservations, "inserts": inserts}


# ---------------------------------------------------------------- load


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.elapsed += other.elapsed

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    def line(self) -> str:
        statuses = ", ".join(f"{n}x{k}" for k, n in sorted(self.statuses.items()))
        return (
            f"{self.name:<22} {len(self.latencies):>6} req  {self.throughput:8.1f} req/s  "
            f"p50 {self.pct(50):7.1f} ms  p99 {self.pct(99):7.1f} ms  "
            f"mean {statistics.fmean(self.latencies) * 1000:7.1f} ms"
            f"  [{statuses}]"
        )


def post(base: tuple[str, int], path: str, body: dict) -> tuple[int, str]:
    """One POST on a fresh connection (gunicorn's sync workers close after each response)."""
    payload = json.dumps(body)
    conn = http.client.HTTPConnection(*base, timeout=120)
    try:
        conn.request("POST", path, payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    code = ""
    if response.status >= 400:
        code = json.loads(data).get("code", "")
    return response.status, f"{response.status}{' ' + code if code else ''}"


def run_throughput(
    name: str, base: tuple[str, int], make: Callable[[int], tuple[str, dict]], *, requests: int, clients: int
) -> Phase:
    """`clients` workers each send requests back to back until `requests` have been sent."""
    phase = Phase(name)
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            path, body = make(i)
            started = time.perf_counter()
            _, status = post(base, path, body)
            elapsed = time.perf_counter() - started
            with lock:
                phase.latencies.append(elapsed)
                phase.statuses[status] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.elapsed = time.perf_counter() - started
    return phase


def run_burst(name: str, base: tuple[str, int], bodies: list[tuple[str, dict]], pool: ThreadPoolExecutor) -> Phase:
    """Release len(bodies) clients at once; latency is measured from the release."""
    phase = Phase(name)
    barrier = threading.Barrier(len(bodies))

    def one(item: tuple[str, dict]) -> tuple[float, str]:
        path, body = item
        barrier.wait()
        started = time.perf_counter()
        _, status = post(base, path, body)
        return time.perf_counter() - started, status

    started = time.perf_counter()
    for latency, status in pool.map(one, bodies):
        phase.latencies.append(latency)
        phase.statuses[status] += 1
    phase.elapsed = time.perf_counter() - started
    return phase


# ---------------------------------------------------------------- scenario


class Calendar:
    """Hands out fresh service days so that no phase books into another's."""

    def __init__(self) -> None:
        self.next_day = datetime.now(TZ).date() + timedelta(days=2)

    def take(self, days: int) -> list[date]:
        taken = [self.next_day + timedelta(days=i) for i in range(days)]
        self.next_day += timedelta(days=days)
        return taken


def booking_body(day: date, slot: str) -> dict:
    return {
        "time": f"{day.isoformat()}T{slot}:00",
        "guests": 2,
        "name": "Bench",
        "email": f"b{uuid.uuid4().hex[:12]}@bench.local",
    }


def measure(
    base: tuple[str, int], calendar: Calendar, *, reps: int, requests: int, clients: int, burst: int, rounds: int
) -> dict[str, Phase]:
    totals = {name: Phase(name) for name in ("baseline", "booking", "baseline burst", "contention")}
    with ThreadPoolExecutor(max_workers=burst) as pool:
        for _ in range(reps):
            # Distinct slots: request i goes to day i % D, so concurrent requests hit different days.
            # About 20 bookings a day spread over 12 slots: far below the 40 tables, so every one succeeds.
            days = calendar.take(max(clients * 3, requests // 20 + 1))

            def make_booking(i: int, days: list[date] = days) -> tuple[str, dict]:
                return "/api/reservations", booking_body(days[i % len(days)], SLOTS[(i // len(days)) % len(SLOTS)])

            def make_insert(i: int) -> tuple[str, dict]:
                return "/api/_bench/insert", {"payload": f"row {i}"}

            totals["baseline"].add(run_throughput("baseline", base, make_insert, requests=requests, clients=clients))
            totals["booking"].add(run_throughput("booking", base, make_booking, requests=requests, clients=clients))
            for day in calendar.take(rounds):
                inserts = [("/api/_bench/insert", {"payload": "burst"}) for _ in range(burst)]
                totals["baseline burst"].add(run_burst("baseline burst", base, inserts, pool))
                same_slot = [("/api/reservations", booking_body(day, "19:00")) for _ in range(burst)]
                totals["contention"].add(run_burst("contention", base, same_slot, pool))
    for name, phase in totals.items():
        phase.name = name
    return totals


def warm_up(base: tuple[str, int], calendar: Calendar, workers: int) -> None:
    day = calendar.take(1)[0]
    for i in range(workers * 10):
        post(base, "/api/_bench/insert", {"payload": "warm-up"})
        post(base, "/api/reservations", booking_body(day, SLOTS[i % len(SLOTS)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="4", help="gunicorn worker counts to compare, e.g. 2,3,4,6")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the throughput phases")
    parser.add_argument("--requests", type=int, default=600, help="requests per throughput phase and repetition")
    parser.add_argument("--burst", type=int, default=50, help="clients released at once in the burst phases")
    parser.add_argument("--rounds", type=int, default=4, help="bursts per repetition")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (phases interleave across them)")
    args = parser.parse_args()

    from tests.support.live_server import gunicorn_server

    worker_counts = [int(w) for w in args.workers.split(",")]
    print(f"cpus: {os.cpu_count()}  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results: dict[int, dict[str, Phase]] = {}
    with bench_database() as url:
        seed_restaurant(url)
        calendar = Calendar()
        env = {"DEFAULT_RESTAURANT_SLUG": SLUG, "BENCH_ENDPOINTS_ENABLED": "true", "RATELIMIT_ENABLED": "false"}
        for workers in worker_counts:
            with gunicorn_server(url, workers=workers, env=env) as server:
                parts = urlsplit(server.base_url)
                base = (parts.hostname or "127.0.0.1", parts.port or 80)
                warm_up(base, calendar, workers)
                phases = measure(
                    base,
                    calendar,
                    reps=args.reps,
                    requests=args.requests,
                    clients=args.clients,
                    burst=args.burst,
                    rounds=args.rounds,
                )
            results[workers] = phases
            print(f"\n== gunicorn --workers {workers} (sync), {args.clients} clients, bursts of {args.burst}")
            for phase in phases.values():
                print("  " + phase.line())
            report_ratios(phases)
        invariants = check_invariants(url)
    print(f"\ninvariants: {invariants}")
    if any(invariants[name] for name in ("overlapping_claims", "overlapping_reservations", "misclaimed_reservations")):
        print("FAILED: a table was sold twice")
        return 1
    best = max(results, key=lambda w: results[w]["booking"].throughput)
    print(f"\nbest booking throughput with --workers {best}")
    return 0


def report_ratios(phases: dict[str, Phase]) -> None:
    throughput = phases["booking"].throughput / phases["baseline"].throughput
    p99 = phases["contention"].pct(99) / phases["baseline burst"].pct(99)
    print(
        f"  booking/baseline throughput {throughput:.2f} (target >= 0.60)   "
        f"contention p99 / baseline burst p99 {p99:.2f} (target <= 2.00)   "
        f"booking p99 / baseline p99 {phases['booking'].pct(99) / phases['baseline'].pct(99):.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
