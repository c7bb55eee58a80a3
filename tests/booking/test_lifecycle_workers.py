"""Three real worker processes at once, their jobs' clock frozen: every lifecycle job's effect happens once.

Each process is `flask --app wsgi worker` (tests/faults/harness.py), started with
`WORKER_FROZEN_NOW` (test-only: the instant the periodic jobs take as now) and the lifecycle
jobs due every second, so for five seconds three workers compete for every run. Afterwards, in
SQL: each finished stay completed once, each late party marked a no-show once (after
`NO_SHOW_AFTER_MINUTES`, here 10), each reminder queued once, nothing else touched; and from the
workers' logs, a job ran once per interval, not once per worker.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.booking.app_flow import live_env
from tests.booking.helpers import build_restaurant
from tests.booking.test_lifecycle import place
from tests.faults.harness import worker_process
from tests.support.invariants import assert_nothing_sold_twice
from tests.support.live_server import free_port

pytestmark = pytest.mark.committing

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
EACH = 4
RUN_SECONDS = 5.0
EVERY_SECONDS = 1


def test_three_workers_complete_mark_and_remind_each_reservation_once(make_app, committing_database):
    from api.booking.models import ReservationStatus as S

    frozen = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    seeded = make_app(database_url=committing_database)
    kinds: dict[str, list[str]] = {}
    with seeded.app_context():
        bistro = build_restaurant(tables=[(5 * EACH, 2)])
        plan = {
            "finished": (S.SEATED, frozen - 90 * MIN),  # 90-minute stay: ends at `frozen`
            "staying": (S.SEATED, frozen - 60 * MIN),
            "late": (S.CONFIRMED, frozen - 12 * MIN),  # a no-show after 10 minutes, not after 15
            "on_time": (S.CONFIRMED, frozen - 5 * MIN),
            "due": (S.CONFIRMED, frozen + 20 * H),  # inside the 24-hour reminder window
            "far": (S.CONFIRMED, frozen + 30 * H),
        }
        for kind, (status, starts_at) in plan.items():
            kinds[kind] = [str(place(bistro, status=status, starts_at=starts_at).id) for _ in range(EACH)]
        db.session.remove()
        db.engine.dispose()

    env = live_env(
        WORKER_FROZEN_NOW=frozen.isoformat(),
        LIFECYCLE_JOBS_EVERY_SECONDS=str(EVERY_SECONDS),
        NO_SHOW_AFTER_MINUTES="10",
        LOG_LEVEL="INFO",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(free_port()),
    )
    with (
        worker_process(committing_database, env) as w1,
        worker_process(committing_database, env) as w2,
        worker_process(committing_database, env) as w3,
    ):
        workers = (w1, w2, w3)
        deadline = time.monotonic() + 60
        while not all("worker started" in w.output() for w in workers):
            assert time.monotonic() < deadline, [w.output() for w in workers]
            assert all(w.process.poll() is None for w in workers), [w.output() for w in workers]
            time.sleep(0.1)
        time.sleep(RUN_SECONDS)
        assert all(w.process.poll() is None for w in workers)

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            status = dict(conn.execute(text("SELECT id::text, status FROM reservations")).all())
            events = conn.execute(
                text(
                    "SELECT reservation_id::text, action, actor_role, at FROM reservation_events"
                    " WHERE reason <> 'setup' ORDER BY id"
                )
            ).all()
            reminders = Counter(
                payload["reservation_id"]
                for (payload,) in conn.execute(
                    text("SELECT payload FROM outbox_messages WHERE kind = 'reservation.reminder'")
                )
            )
            reminded_at = dict(
                conn.execute(
                    text("SELECT id::text, reminder_sent_at FROM reservations WHERE reminder_sent_at IS NOT NULL")
                ).all()
            )
            assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()

    expected = {"finished": "completed", "staying": "seated", "late": "no_show", "on_time": "confirmed"}
    expected |= {"due": "confirmed", "far": "confirmed"}
    assert {kind: {status[i] for i in ids} for kind, ids in kinds.items()} == {k: {v} for k, v in expected.items()}
    by_reservation = Counter((rid, action) for rid, action, _, _ in events)
    assert by_reservation == Counter(
        {(rid, "complete"): 1 for rid in kinds["finished"]} | {(rid, "no_show"): 1 for rid in kinds["late"]}
    ), "one audit row per move, whatever the number of workers"
    assert {(role, at) for _, _, role, at in events} == {("system", frozen)}
    assert reminders == Counter(dict.fromkeys(kinds["due"], 1)), "each reminder queued once"
    assert set(reminded_at.values()) == {frozen}

    # Once per interval: the runs of one job, from all three logs, at least ~an interval apart.
    runs = sorted(
        record["ts"]
        for w in workers
        for record in _json_lines(w.output())
        if record.get("message") == "periodic job ran" and record.get("job") == "mark-no-shows"
    )
    # The first worker runs alone while the others start (seconds, on a loaded machine): count over the
    # whole span. Three workers each claiming every interval would give about three runs a second.
    stamps = [datetime.fromisoformat(ts) for ts in runs]
    span = (stamps[-1] - stamps[0]).total_seconds()
    assert len(runs) >= RUN_SECONDS - 1, runs
    assert len(runs) <= span / EVERY_SECONDS + 2, (span, runs)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    # Runs are claimed an interval apart on the database's clock; the log line follows the job's work.
    assert min(gaps) > 0.5 * EVERY_SECONDS, gaps


def _json_lines(output: str) -> list[dict]:
    records = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records
