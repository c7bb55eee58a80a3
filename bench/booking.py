"""Booking benchmark: Seatkeeper against the reference ceiling, interleaved, as ratios.

    .venv/bin/python -m bench.booking --quick          # under 3 minutes: ceiling, ours, ceiling
    .venv/bin/python -m bench.booking                  # ceiling, ours, ceiling, ours, ceiling
    .venv/bin/python -m bench.booking --slowdown       # + 120 s of booking with 1,000,000 reservations stored
    .venv/bin/python -m bench.booking --profile        # in-process pyinstrument profile of one website booking
    BENCH_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.booking

The ceiling is `ceiling_app.py` of the shared bench folder (`--ceiling DIR`, default
`../shared/bench` beside the repository; the run is skipped with a message when it is absent):
Flask + psycopg2, an advisory lock on the slot, the lowest free table, one INSERT under a unique
constraint. Both services run under gunicorn with the same number of sync workers (`--workers`),
on loopback, against the same PostgreSQL (BENCH_DATABASE_URL names a server where the benchmark
may create and drop its databases; else an embedded one in a temp dir). The load comes from the
shared `loadgen.py` (one process per scenario, `--no-keepalive`: gunicorn's sync workers close
every connection anyway), with the same concurrency and durations on both sides.

Scenarios (issue 15's targets), each run on both sides unless marked:

- booking: C closed-loop clients on distinct slots; ours is the website's `POST /api/reservations`
  with everything it does (validation, exact-time claim, best fit, duplicate guard, outbox).
  Consecutive requests go to different service days, so they do not queue on one day's lock.
- hold (ours only, against the ceiling's booking): the app's `POST /api/reservations/hold`, one
  distinct signed-in user per request, distinct slots.
- contention 50 / 200: N clients released at once on one slot of 40 tables: exactly 40 winners,
  the rest 409, no other status; p99 latency from the release.
- one client: one closed-loop client, p50.
- hold race (ours only, full run): 500 distinct users holding one slot at once, `--race-workers` (4).

Ratios: each ours run is compared with the mean of the ceiling runs before and after it. The
load average (os.getloadavg) is printed with every run: the machine may be shared. At the end
SQL checks that nothing was sold twice. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402

DEFAULT_CEILING_DIR = ROOT.parent / "shared" / "bench"
SLUG = "bench-bistro"
TZ = ZoneInfo("America/New_York")
TABLES = 40
WALLS = [f"{17 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(12)]  # 17:00 ... 22:30
# Throughput requests rotate over `days` days (prime to the 12 slots, so the first 12 x days
# requests of a run each get a distinct (day, slot)) and add bookings to a slot evenly after that,
# far below the 13 two-tops a slot can take. 127 days (about a booking horizon): a busy
# restaurant's bookings spread over its next months, and the per-(restaurant, day) caches of
# opening hours (SETTINGS_CACHE_SECONDS) see each day every 127 requests. The no-slowdown run
# books for two minutes and spreads over 701 days (room for 109,000 bookings).
ROTATION_DAYS = 127
SLOWDOWN_ROTATION_DAYS = 701
HORIZON_DAYS = 1200


# ---------------------------------------------------------------- targets and ratios


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    metric: str  # "rps" (higher is better) or "p50" / "p99" / "p95" (lower is better), in ms
    bound: float  # the ratio ours / ceiling must be >= bound (rps) or <= bound (latency)
    ceiling_key: str | None = None  # which ceiling scenario it is compared with (default: key)

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "rps"

    def met(self, ratio: float) -> bool:
        return ratio >= self.bound if self.higher_is_better else ratio <= self.bound


TARGETS = (
    Target("booking", "website booking throughput", "rps", 0.6),
    Target("hold", "app hold throughput (vs ceiling booking)", "rps", 0.5, ceiling_key="booking"),
    Target("contention50", "contention, 50 at once on one slot: p99", "p99", 2.0),
    Target("contention200", "contention, 200 at once on one slot: p99", "p99", 2.0),
    Target("single", "one client: p50", "p50", 3.0),
)


def ratio_of(ours: float, ceilings: Sequence[float]) -> float:
    """Ours over the mean of the surrounding ceiling runs (nan when there is nothing to compare)."""
    values = [c for c in ceilings if c and not math.isnan(c)]
    if not values or math.isnan(ours):
        return math.nan
    return ours / statistics.fmean(values)


@dataclass(frozen=True)
class Row:
    target: Target
    ours: float
    ceiling: float
    ratio: float

    @property
    def met(self) -> bool:
        return not math.isnan(self.ratio) and self.target.met(self.ratio)


def ratio_rows(ceiling_runs: Sequence[dict[str, float]], our_runs: Sequence[dict[str, float]]) -> list[Row]:
    """One row per target: ours (mean of our runs), ceiling and ratio.

    Run k of ours sits between ceiling runs k and k+1; its ratio uses the mean of those two. The
    row's ratio is the mean of the per-run ratios, its ceiling the mean of the ceiling runs used.
    """
    if len(ceiling_runs) != len(our_runs) + 1:
        raise ValueError("interleaving needs one more ceiling run than our runs")
    rows = []
    for target in TARGETS:
        source = target.ceiling_key or target.key
        ratios, ours_values, ceiling_values = [], [], []
        for k, ours in enumerate(our_runs):
            if target.key not in ours:
                continue
            around = [run[source] for run in (ceiling_runs[k], ceiling_runs[k + 1]) if source in run]
            ratios.append(ratio_of(ours[target.key], around))
            ours_values.append(ours[target.key])
            ceiling_values.extend(around)
        if not ratios:
            continue
        rows.append(
            Row(
                target=target,
                ours=statistics.fmean(ours_values),
                ceiling=statistics.fmean(ceiling_values) if ceiling_values else math.nan,
                ratio=statistics.fmean(ratios),
            )
        )
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    lines = [f"{'target':<52} {'ours':>9} {'ceiling':>9} {'ratio':>7} {'goal':>7}  met"]
    for row in rows:
        unit = "req/s" if row.target.metric == "rps" else f"ms {row.target.metric}"
        goal = f"{'>=' if row.target.higher_is_better else '<='}{row.target.bound:g}"
        lines.append(
            f"{row.target.label + ' (' + unit + ')':<52} {row.ours:9.1f} {row.ceiling:9.1f} "
            f"{row.ratio:7.2f} {goal:>7}  {'yes' if row.met else 'NO'}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- settings of one run


@dataclass(frozen=True)
class Plan:
    workers: int
    clients: int
    duration: float
    warmup: float
    single_duration: float
    rounds: int
    reps: int
    race: bool
    race_workers: int
    race_clients: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Plan:
        quick = args.quick
        return cls(
            workers=args.workers,
            clients=args.clients,
            duration=args.duration or (5.0 if quick else 15.0),
            warmup=1.0 if quick else 2.0,
            single_duration=args.single_duration or (3.0 if quick else 8.0),
            rounds=args.rounds or (2 if quick else 8),
            reps=args.reps if args.reps is not None else (1 if quick else 2),
            race=not quick and not args.no_race,
            race_workers=args.race_workers,
            race_clients=args.race_clients,
        )

    def users_needed(self) -> int:
        """Distinct users for the hold scenario (one hold each; holds are deleted between runs)."""
        return max(self.race_clients, int(250 * (self.duration + self.warmup)) + 200)


# ---------------------------------------------------------------- database


def libpq_dsn(sqlalchemy_url: str) -> str:
    """postgresql+psycopg2://... -> postgresql://... (libpq takes URIs)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def bench_database() -> Iterator[tuple[str, str]]:
    """A fresh migrated database for ours and an empty one for the ceiling: (our URL, ceiling URL)."""
    from tests.support.databases import _admin, drop_database, migrated_database, url_for_database

    with migrated_database("BENCH_DATABASE_URL") as url:
        from api.benchmark.service import CREATE_TABLE

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(CREATE_TABLE))
        engine.dispose()
        server = url_for_database(url, "postgres")
        name = f"sk_ceiling_{uuid.uuid4().hex[:10]}"
        _admin(server, f'CREATE DATABASE "{name}"')
        try:
            yield url, url_for_database(url, name)
        finally:
            drop_database(server, name)


def seed(url: str, *, users: int) -> dict[str, object]:
    """The benchmark restaurant (40 two-tops, open 17:00-23:00 daily) and `users` signed-in users."""
    from datetime import time as wall

    from argon2 import PasswordHasher

    from api import create_app
    from api.accounts.models import RefreshToken, User
    from api.accounts.tokens import issue_access_token, new_refresh_token
    from api.db import atomic
    from api.extensions import db
    from api.restaurants.models import DiningTable, OpeningHours, Restaurant

    app = create_app(
        {
            "env": "test",
            "database_url": url,
            "log_level": "WARNING",
            "jwt_secret_key": JWT_SECRET,
            "jwt_access_minutes": 240,
        }
    )
    now = datetime.now(TZ)
    with app.app_context():
        with atomic():
            restaurant = Restaurant(
                slug=SLUG,
                name="Bench Bistro",
                timezone="America/New_York",
                slot_minutes=30,
                default_duration_minutes=90,
                booking_horizon_days=HORIZON_DAYS,
                max_party_size=12,
                min_lead_minutes=0,
            )
            for number in range(1, TABLES + 1):
                restaurant.tables.append(DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=2))
            for weekday in range(7):
                restaurant.opening_hours.append(OpeningHours(weekday=weekday, opens_at=wall(17), closes_at=wall(23)))
            db.session.add(restaurant)
            password_hash = PasswordHasher().hash("bench horse battery staple")
            users_rows = [
                {"id": uuid.uuid4(), "email": f"bench-{n}@bench.local", "password_hash": password_hash}
                for n in range(users)
            ]
            sessions_rows = [
                {
                    "id": uuid.uuid4(),
                    "user_id": row["id"],
                    "family_id": uuid.uuid4(),
                    "token_hash": new_refresh_token()[1],
                    "issued_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for row in users_rows
            ]
            if users:  # bulk INSERTs (executemany), not one unit of work per user
                db.session.execute(insert(User), users_rows)
                db.session.execute(insert(RefreshToken), sessions_rows)
        seeded = {
            "restaurant_id": str(restaurant.id),
            "user_ids": [str(row["id"]) for row in users_rows],
            "auth": [
                "Bearer " + issue_access_token(_Account(u["id"]), session=_Session(s["id"], now), now=now)[0]
                for u, s in zip(users_rows, sessions_rows, strict=True)
            ],
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


JWT_SECRET = "bench-secret-key-that-is-long-enough-0123456789"


@dataclass(frozen=True)
class _Account:
    """What issue_access_token reads of a user."""

    id: uuid.UUID
    role: str = "customer"


@dataclass(frozen=True)
class _Session:
    """What issue_access_token reads of a refresh-token row."""

    id: uuid.UUID
    issued_at: datetime


def check_invariants(url: str, *, restaurant_slug: str = SLUG) -> dict[str, int]:
    """Nothing sold twice at the benchmark restaurant, on exact time ranges, and the row counts."""
    scoped = """
        WITH o AS (SELECT o.* FROM table_occupancies o JOIN restaurants r ON r.id = o.restaurant_id
                   WHERE r.slug = :slug),
             v AS (SELECT v.* FROM reservations v JOIN restaurants r ON r.id = v.restaurant_id
                   WHERE r.slug = :slug AND v.status IN ('pending', 'confirmed'))
        SELECT
          (SELECT count(*) FROM o a JOIN o b ON a.table_id = b.table_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)),
          (SELECT count(*) FROM v a JOIN v b ON a.table_id = b.table_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)),
          (SELECT count(*) FROM (SELECT v.id FROM v LEFT JOIN o ON o.reservation_id = v.id
             AND o.table_id = v.table_id AND o.starts_at = v.starts_at AND o.ends_at = v.ends_at
             GROUP BY v.id HAVING count(o.id) <> 1) AS m),
          (SELECT count(*) FROM v)
    """
    engine = create_engine(url)
    with engine.connect() as conn:
        claims, stays, misclaimed, reservations = conn.execute(text(scoped), {"slug": restaurant_slug}).one()
    engine.dispose()
    return {
        "overlapping_claims": claims,
        "overlapping_reservations": stays,
        "misclaimed_reservations": misclaimed,
        "reservations": reservations,
    }


def delete_holds(url: str) -> None:
    """Free every benchmark user for the next hold run (a user may hold one table at a time)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM holds"))  # their claims cascade
    engine.dispose()


# ---------------------------------------------------------------- servers


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(base_url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer /health within 60 s")
        time.sleep(0.1)


@contextmanager
def ceiling_server(ceiling_dir: Path, database_url: str, *, workers: int, output: Path) -> Iterator[str]:
    """`gunicorn ceiling_app:app` with `workers` sync workers (logs to `output`); yields its base URL."""
    from tests.support.live_server import stop_process

    port = free_port()
    env = {
        **os.environ,
        "CEILING_DSN": libpq_dsn(database_url),
        "CEILING_TABLES": str(TABLES),
    }
    cmd = [
        sys.executable, "-m", "gunicorn", "ceiling_app:app",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--access-logfile", "/dev/null",
        "--chdir", str(ceiling_dir),
    ]  # fmt: skip
    with open(output, "w") as log:
        process = subprocess.Popen(cmd, cwd=ceiling_dir, env=env, stdout=log, stderr=log)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base_url, process, "the ceiling's gunicorn")
            yield base_url
        finally:
            stop_process(process, sig=signal.SIGTERM)


def our_env() -> dict[str, str]:
    return {
        "DEFAULT_RESTAURANT_SLUG": SLUG,
        "BENCH_ENDPOINTS_ENABLED": "true",
        "RATELIMIT_ENABLED": "false",
        "JWT_SECRET_KEY": JWT_SECRET,
    }


# ---------------------------------------------------------------- load (the shared loadgen)


@dataclass
class Result:
    """One loadgen run's summary, reduced to what the report needs."""

    summary: dict
    exit_code: int

    @property
    def rps(self) -> float:
        return float(self.summary.get("rps", math.nan))

    def latency(self, p: str) -> float:
        return float(self.summary.get("latency_all", {}).get(f"{p}_ms") or math.nan)

    @property
    def counts(self) -> str:
        s = self.summary
        return (
            f"2xx {s.get('ok_2xx')}  409 {s.get('conflict')}  other {s.get('other_status')}  "
            f"transport errors {s.get('transport_errors')}"
        )

    def problems(self, *, expect_ok: int | None = None) -> list[str]:
        """What is wrong with this run: errors, double booking, (contention) not exactly K winners."""
        s, found = self.summary, []
        if self.exit_code not in (0,):
            found.append(f"loadgen exit {self.exit_code}")
        if s.get("other_status") or s.get("transport_errors"):
            found.append(f"errors: other {s.get('other_status')} transport {s.get('transport_errors')}")
        if s.get("double_booked_rounds"):
            found.append(f"DOUBLE-BOOKED rounds {s.get('double_booked_rounds')}")
        if s.get("unexpected_conflicts"):
            found.append(f"{s.get('unexpected_conflicts')} unexpected 409s on distinct slots")
        if expect_ok is not None and s.get("ok_2xx") != expect_ok:
            found.append(f"{s.get('ok_2xx')} winners, expected {expect_ok}")
        return found


@dataclass
class Loadgen:
    script: Path
    templates: Path
    workdir: Path
    log: list[str] = field(default_factory=list)

    def run(self, target: str, template: dict, *options: str, label: str) -> Result:
        path = self.workdir / f"{label}-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(template))
        cmd = [sys.executable, str(self.script), "--target", target, "--template", str(path), "--no-keepalive"]
        completed = subprocess.run(
            [*cmd, *options, "--label", label], capture_output=True, text=True, timeout=900, check=False
        )
        lines = [line for line in completed.stdout.splitlines() if line.strip()]
        if not lines:
            raise RuntimeError(f"loadgen printed nothing ({label}): {completed.stderr[-2000:]}")
        summary = json.loads(lines[-1])
        if "fatal" in summary:
            raise RuntimeError(f"loadgen ({label}): {summary['fatal']}")
        return Result(summary, completed.returncode)

    def ceiling_template(self) -> dict:
        return json.loads((self.templates / "ceiling.json").read_text())


def rotation(start: date, days: int = ROTATION_DAYS) -> dict[str, list[str]]:
    return {
        "day": [(start + timedelta(days=n)).isoformat() for n in range(days)],
        "wall": list(WALLS),
    }


def booking_template(start: date, days: int = ROTATION_DAYS) -> dict:
    """The website's booking, on distinct slots: request i books day i % days at slot i % 12."""
    return {
        "name": "seatkeeper-website-booking",
        "request": {
            "method": "POST",
            "path": "/api/reservations",
            "headers": {"Content-Type": "application/json"},
            "json": {"time": "{day}T{wall}:00", "guests": 2, "name": "Bench {i}", "email": "{email}"},
        },
        "success_status": [201],
        "conflict_status": [409],
        "rotate": rotation(start, days),
    }


def contention_template() -> dict:
    """The website's booking, every client of a round on the same slot ({datetime}: one day per round)."""
    return {
        "name": "seatkeeper-website-contention",
        "request": {
            "method": "POST",
            "path": "/api/reservations",
            "headers": {"Content-Type": "application/json"},
            "json": {"time": "{datetime}", "guests": 2, "name": "Racer {client}", "email": "{email}"},
        },
        "success_status": [201],
        "conflict_status": [409],
    }


def hold_template(start: date | None, seeded: dict) -> dict:
    """The app's hold, one distinct user per request (on distinct slots, or on one slot when start is None)."""
    body = {"userId": "{uid}", "restaurantId": seeded["restaurant_id"], "partySize": 2}
    rotate: dict[str, list[str]] = {"uid": seeded["user_ids"], "auth": seeded["auth"]}
    if start is None:
        body.update({"date": "{date}", "time": "{time}"})
    else:
        body.update({"date": "{day}", "time": "{wall}"})
        rotate.update(rotation(start))
    return {
        "name": "seatkeeper-app-hold",
        "request": {
            "method": "POST",
            "path": "/api/reservations/hold",
            "headers": {"Content-Type": "application/json", "Authorization": "{auth}"},
            "json": body,
        },
        "success_status": [201],
        "conflict_status": [409],
        "rotate": rotate,
    }


def baseline_template() -> dict:
    return {
        "name": "seatkeeper-one-insert-baseline",
        "request": {"method": "POST", "path": "/api/_bench/insert", "json": {"payload": "row {i}"}},
        "success_status": [201],
    }


# ---------------------------------------------------------------- one side's run


@dataclass
class Calendar:
    """Fresh days for contention rounds, after the throughput rotation's days."""

    first: date
    used: int = 0

    def take(self, days: int) -> int:
        """An offset for loadgen's --slot-offset: `days` fresh days from `first`."""
        offset = self.used
        self.used += days
        return offset


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


_STARTED = time.monotonic()


def stamp() -> str:
    """Seconds since the start and the load average, for each run's header."""
    return f"t+{time.monotonic() - _STARTED:.0f}s, load average {load_average()}"


def throughput_options(plan: Plan, *, clients: int, duration: float) -> list[str]:
    return [
        "--mode", "throughput", "--concurrency", str(clients),
        "--duration", str(duration), "--warmup", str(plan.warmup),
    ]  # fmt: skip


def contention_options(plan: Plan, *, clients: int, offset: int = 0) -> list[str]:
    return [
        "--mode", "contention", "--clients", str(clients), "--capacity", str(TABLES),
        "--rounds", str(plan.rounds), "--slot-offset", str(offset),
        # A burst of 200 on 2 busy workers can take longer than loadgen's default 15 s: an abandoned
        # request is a transport error here, and the server still serves it during the next phase.
        "--timeout", "120",
    ]  # fmt: skip


def report_line(name: str, result: Result, *, expect_ok: int | None = None) -> list[str]:
    problems = result.problems(expect_ok=expect_ok)
    print(
        f"    {name:<14} {result.rps:8.1f} req/s  p50 {result.latency('p50'):7.1f}  p95 {result.latency('p95'):7.1f}"
        f"  p99 {result.latency('p99'):7.1f} ms  [{result.counts}]"
        + (f"  !! {'; '.join(problems)}" if problems else "")
    )
    return [f"{name}: {p}" for p in problems]


def run_ceiling(loadgen: Loadgen, base: str, plan: Plan, dsn: str, n: int) -> tuple[dict[str, float], list[str]]:
    print(f"\n== ceiling run {n}  ({stamp()})")
    template = loadgen.ceiling_template()
    db = ["--db-dsn", dsn]
    problems: list[str] = []
    booking = loadgen.run(
        base, template, *throughput_options(plan, clients=plan.clients, duration=plan.duration),
        "--capacity", str(TABLES), *db, label="ceiling-booking",
    )  # fmt: skip
    problems += report_line("booking", booking)
    figures = {"booking": booking.rps}
    for clients in (50, 200):
        result = loadgen.run(
            base, template, *contention_options(plan, clients=clients), *db, label=f"ceiling-c{clients}"
        )
        problems += report_line(f"contention {clients}", result, expect_ok=TABLES * plan.rounds)
        figures[f"contention{clients}"] = result.latency("p99")
    single = loadgen.run(
        base, template, *throughput_options(plan, clients=1, duration=plan.single_duration), label="ceiling-single"
    )
    problems += report_line("one client", single)
    figures["single"] = single.latency("p50")
    return figures, problems


def run_ours(
    loadgen: Loadgen,
    base: str,
    plan: Plan,
    *,
    url: str,
    seeded: dict,
    start: date,
    calendar: Calendar,
    n: int,
    baseline: bool,
) -> tuple[dict[str, float], list[str]]:
    print(f"\n== Seatkeeper run {n}  ({stamp()})")
    problems: list[str] = []
    booking = loadgen.run(
        base, booking_template(start), *throughput_options(plan, clients=plan.clients, duration=plan.duration),
        label="ours-booking",
    )  # fmt: skip
    problems += report_line("booking", booking)
    figures = {"booking": booking.rps}
    delete_holds(url)
    hold = loadgen.run(
        base, hold_template(start, seeded), *throughput_options(plan, clients=plan.clients, duration=plan.duration),
        label="ours-hold",
    )  # fmt: skip
    problems += report_line("hold", hold)
    figures["hold"] = hold.rps
    delete_holds(url)
    date_base = ["--var", f"date_base={calendar.first.isoformat()}", "--var", 'times=["19:00"]']
    for clients in (50, 200):
        result = loadgen.run(
            base, contention_template(),
            *contention_options(plan, clients=clients, offset=calendar.take(plan.rounds)), *date_base,
            label=f"ours-c{clients}",
        )  # fmt: skip
        problems += report_line(f"contention {clients}", result, expect_ok=TABLES * plan.rounds)
        figures[f"contention{clients}"] = result.latency("p99")
    single = loadgen.run(
        base, booking_template(start + timedelta(days=n % 7)),
        *throughput_options(plan, clients=1, duration=plan.single_duration), label="ours-single",
    )  # fmt: skip
    problems += report_line("one client", single)
    figures["single"] = single.latency("p50")
    if baseline:
        insert = loadgen.run(
            base, baseline_template(), *throughput_options(plan, clients=plan.clients, duration=plan.duration),
            label="ours-baseline",
        )  # fmt: skip
        report_line("one INSERT", insert)
        figures["baseline"] = insert.rps
    return figures, problems


def run_hold_race(
    loadgen: Loadgen, url: str, plan: Plan, seeded: dict, calendar: Calendar
) -> tuple[Result | None, list[str]]:
    """500 distinct users hold one slot at once, on `race_workers` gunicorn workers."""
    from tests.support.live_server import gunicorn_server

    delete_holds(url)
    print(f"\n== hold race: {plan.race_clients} users at once on one slot, {plan.race_workers} workers")
    with gunicorn_server(url, workers=plan.race_workers, env=our_env(), output=loadgen.workdir / "race.log") as server:
        result = loadgen.run(
            server.base_url, hold_template(None, seeded),
            "--mode", "contention", "--clients", str(plan.race_clients), "--capacity", str(TABLES), "--rounds", "1",
            "--slot-offset", str(calendar.take(1)), "--timeout", "120",
            "--var", f"date_base={calendar.first.isoformat()}", "--var", 'times=["19:00"]',
            label="ours-hold-race",
        )  # fmt: skip
    problems = report_line("hold race", result, expect_ok=TABLES)
    delete_holds(url)
    return result, problems


# ---------------------------------------------------------------- no slowdown


def run_slowdown(loadgen: Loadgen, url: str, plan: Plan, *, stored: int, seconds: float, start: date) -> dict:
    """Book for `seconds` with `stored` reservations already in the database; last 30 s vs first 30 s."""
    from bench import dataset
    from tests.support.live_server import gunicorn_server

    engine = create_engine(url)
    with engine.connect() as conn:
        present = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
    to_add = max(0, stored - present)
    print(f"\n== no slowdown: loading {to_add:,} reservations (50 other restaurants) to reach {stored:,}")
    bulk = dataset.create_restaurants(url, count=50, prefix="slowdown")
    today = datetime.now(TZ).date()
    days = [today - timedelta(days=180) + timedelta(days=n) for n in range(math.ceil(to_add / bulk.per_day) + 1)]
    with engine.connect() as conn:
        with dataset.indexes_built_after(conn):
            dataset.load_reservations(conn, restaurants=bulk, days=days, count=to_add)
        total = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
    engine.dispose()
    dataset.analyze(url)
    print(f"  {total:,} reservations stored; booking for {seconds:.0f} s  (load average {load_average()})")
    with gunicorn_server(url, workers=plan.workers, env=our_env(), output=loadgen.workdir / "slowdown.log") as server:
        result = loadgen.run(
            server.base_url, booking_template(start + timedelta(days=ROTATION_DAYS + 60), SLOWDOWN_ROTATION_DAYS),
            "--mode", "throughput", "--concurrency", str(plan.clients), "--duration", str(seconds),
            "--warmup", str(plan.warmup), "--deadline", str(seconds + 60),
            label="ours-slowdown",
        )  # fmt: skip
    problems = report_line("booking", result)
    timeline = result.summary.get("completed_per_second", [])
    verdict = slowdown_verdict(timeline)
    print(
        f"  first 30 s {verdict['first']:.1f} req/s, last 30 s {verdict['last']:.1f} req/s: "
        f"ratio {verdict['ratio']:.2f} (target >= 0.9)  load average {load_average()}"
    )
    return {"stored": total, **verdict, "problems": problems}


def slowdown_verdict(timeline: Sequence[int], window: int = 30) -> dict[str, float]:
    """Mean completions per second in the first and the last `window` whole seconds, and their ratio."""
    whole = list(timeline[:-1]) if len(timeline) > 2 * window else list(timeline)  # the last second is partial
    if len(whole) < 2:
        return {"first": math.nan, "last": math.nan, "ratio": math.nan}
    window = min(window, len(whole) // 2)
    first = statistics.fmean(whole[:window])
    last = statistics.fmean(whole[-window:])
    return {"first": first, "last": last, "ratio": last / first if first else math.nan}


# ---------------------------------------------------------------- profile


def profile_booking(requests: int) -> int:
    """pyinstrument profile of website bookings in-process (Flask test client, one client)."""
    from pyinstrument import Profiler

    from api import create_app
    from tests.support.databases import migrated_database

    with migrated_database("BENCH_DATABASE_URL") as url:
        seed(url, users=0)
        app = create_app(
            {
                "env": "test",
                "database_url": url,
                "log_level": "WARNING",
                "ratelimit_enabled": False,
                "default_restaurant_slug": SLUG,
            }
        )
        client = app.test_client()
        start = datetime.now(TZ).date() + timedelta(days=2)
        days = [start + timedelta(days=n) for n in range(ROTATION_DAYS)]

        def book(i: int) -> None:
            body = {
                "time": f"{days[i % len(days)].isoformat()}T{WALLS[i % len(WALLS)]}:00",
                "guests": 2,
                "name": "Profile",
                "email": f"p{i}@bench.local",
            }
            response = client.post("/api/reservations", json=body)
            if response.status_code != 201:
                raise SystemExit(f"booking answered {response.status_code}: {response.get_json()}")

        for i in range(50):
            book(i)
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for i in range(50, 50 + requests):
            book(i)
        profiler.stop()
        elapsed = time.perf_counter() - started
        print(f"{requests} bookings in {elapsed:.2f} s under the profiler ({elapsed / requests * 1000:.1f} ms each)")
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        with app.app_context():
            from api.extensions import db

            db.engine.dispose()
    return 0


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.booking",
        description="Seatkeeper's booking against the reference ceiling, interleaved, as ratios (issue 15).",
    )
    parser.add_argument("--quick", action="store_true", help="short phases, one Seatkeeper run (under 3 minutes)")
    parser.add_argument(
        "--ceiling",
        type=Path,
        default=Path(os.environ.get("BENCH_CEILING_DIR", DEFAULT_CEILING_DIR)),
        help="folder with ceiling_app.py, loadgen.py and templates/ (default: ../shared/bench beside the repo)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers, for both services (2)")
    parser.add_argument("--clients", type=int, default=8, help="closed-loop clients in the throughput phases (8)")
    parser.add_argument("--duration", type=float, help="seconds per throughput phase (15; quick 6)")
    parser.add_argument("--single-duration", type=float, help="seconds of the one-client phase (8; quick 4)")
    parser.add_argument("--rounds", type=int, help="contention rounds per size (8; quick 3)")
    parser.add_argument(
        "--reps",
        type=int,
        help="Seatkeeper runs, each between two ceiling runs (2; quick 1; 0: only the optional phases)",
    )
    parser.add_argument("--no-race", action="store_true", help="skip the 500-user hold race (skipped in --quick)")
    parser.add_argument("--race-workers", type=int, default=4, help="gunicorn workers of the hold race (4)")
    parser.add_argument("--race-clients", type=int, default=500, help="users released at once in the hold race")
    parser.add_argument("--baseline", action="store_true", help="also time our one-INSERT endpoint (informative)")
    parser.add_argument(
        "--slowdown", action="store_true", help="then book for --slowdown-seconds with --slowdown-stored reservations"
    )
    parser.add_argument("--slowdown-seconds", type=float, default=120.0)
    parser.add_argument("--slowdown-stored", type=int, default=1_000_000)
    parser.add_argument("--profile", type=int, nargs="?", const=300, metavar="N",
                        help="only profile N in-process website bookings with pyinstrument (300)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the benchmark databases are dropped
    if args.profile:
        return profile_booking(args.profile)
    ceiling_dir = args.ceiling.resolve()
    missing = [
        name for name in ("ceiling_app.py", "loadgen.py", "templates/ceiling.json") if not (ceiling_dir / name).exists()
    ]
    if missing:
        print(
            f"SKIPPED: the reference ceiling is not at {ceiling_dir} (missing {', '.join(missing)}). "
            "Pass --ceiling DIR or set BENCH_CEILING_DIR to the folder holding ceiling_app.py and loadgen.py."
        )
        return 0
    plan = Plan.from_args(args)
    from tests.support.live_server import gunicorn_server

    print(f"cpus: {os.cpu_count()}  load average: {load_average()}  plan: {plan}")
    started = time.monotonic()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as tmp, bench_database() as (url, ceiling_url):
        loadgen = Loadgen(ceiling_dir / "loadgen.py", ceiling_dir / "templates", Path(tmp))
        seeded = seed(url, users=plan.users_needed())
        today = datetime.now(TZ).date()
        start = today + timedelta(days=2)
        calendar = Calendar(first=start + timedelta(days=ROTATION_DAYS + SLOWDOWN_ROTATION_DAYS + 70))
        ceiling_runs: list[dict[str, float]] = []
        our_runs: list[dict[str, float]] = []
        loads: list[float] = []
        with (
            ceiling_server(
                ceiling_dir, ceiling_url, workers=plan.workers, output=Path(tmp) / "ceiling.log"
            ) as ceiling_base,
            gunicorn_server(url, workers=plan.workers, env=our_env(), output=Path(tmp) / "ours.log") as ours,
        ):
            for n in range(plan.reps + 1):
                loads.append(os.getloadavg()[0])
                figures, found = run_ceiling(loadgen, ceiling_base, plan, libpq_dsn(ceiling_url), n + 1)
                ceiling_runs.append(figures)
                problems += [f"ceiling run {n + 1}, {p}" for p in found]
                if n == plan.reps:
                    break
                loads.append(os.getloadavg()[0])
                figures, found = run_ours(
                    loadgen, ours.base_url, plan, url=url, seeded=seeded, start=start, calendar=calendar,
                    n=n + 1, baseline=args.baseline,
                )  # fmt: skip
                our_runs.append(figures)
                problems += [f"Seatkeeper run {n + 1}, {p}" for p in found]
        rows = ratio_rows(ceiling_runs, our_runs)
        print(f"\n== ratios so far ({stamp()})\n{format_rows(rows)}")
        # The optional phases start servers and load data on a possibly busy machine: a failure
        # there is reported, and the interleaved figures above are kept.
        race = None
        if plan.race:
            try:
                race, found = run_hold_race(loadgen, url, plan, seeded, calendar)
                problems += found
            except (RuntimeError, subprocess.SubprocessError) as error:
                problems.append(f"hold race not measured: {error}")
        slowdown = None
        if args.slowdown:
            try:
                slowdown = run_slowdown(
                    loadgen, url, plan, stored=args.slowdown_stored, seconds=args.slowdown_seconds, start=start
                )
                problems += slowdown["problems"]
            except (RuntimeError, subprocess.SubprocessError) as error:
                problems.append(f"no-slowdown run not measured: {error}")
        invariants = check_invariants(url)

    print(
        f"\n== ratios ({plan.workers} sync workers each, {plan.clients} clients;"
        " ours / mean of the ceiling runs around it)"
    )
    print(format_rows(rows))
    if race is not None:
        p95 = race.latency("p95")
        print(f"hold race, {plan.race_clients} users at once on {plan.race_workers} workers: p95 {p95:.0f} ms "
              f"(target <= 1500 ms)  {'yes' if p95 <= 1500 else 'NO'}")  # fmt: skip
    if slowdown is not None:
        print(
            f"no slowdown, {slowdown['stored']:,} stored: last 30 s / first 30 s {slowdown['ratio']:.2f} "
            f"(target >= 0.9)  {'yes' if slowdown['ratio'] >= 0.9 else 'NO'}"
        )
    if "baseline" in (our_runs[0] if our_runs else {}):
        base = statistics.fmean(run["baseline"] for run in our_runs)
        print(f"(informative) our one-INSERT endpoint {base:.1f} req/s")
    print(f"load average during the runs (1 min): {' '.join(f'{x:.2f}' for x in loads)}; now {load_average()}")
    print(f"invariants at the benchmark restaurant: {invariants}")
    print(f"wall time {time.monotonic() - started:.0f} s")
    sold_twice = any(
        invariants[k] for k in ("overlapping_claims", "overlapping_reservations", "misclaimed_reservations")
    )
    if sold_twice:
        print("FAILED: a table was sold twice")
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if sold_twice or any("DOUBLE" in p or "errors" in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
