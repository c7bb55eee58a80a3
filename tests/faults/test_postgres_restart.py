"""PostgreSQL restarted (`pg_ctl restart -m fast`) under booking load: errors only during the restart.

The test owns its PostgreSQL: a dedicated embedded server (pgserver) in a temporary folder, never
the suite's shared server. gunicorn and the worker (its own process) keep running throughout and
must recover by themselves: bookings succeed again right after the restart, and the worker sends
the emails of bookings made before, during and after it.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from api.db import atomic
from api.embedded_pg import sqlalchemy_url
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.booking.app_flow import live_env
from tests.faults.harness import Answer, Load, answer_of, website_booking, worker_process
from tests.support.databases import create_migrated_template
from tests.support.live_server import free_port, gunicorn_server
from tests.support.smtp import smtp_server

pytestmark = [pytest.mark.faults, pytest.mark.committing]

BEFORE_SECONDS = 5
AFTER_SECONDS = 8
# A request in flight when the server went down may fail after `pg_ctl` returned (it held a
# connection the restart closed); one that began this long after the restart must succeed.
GRACE_SECONDS = 2


class OwnPostgres:
    """An embedded PostgreSQL only this test uses, so it may restart it."""

    def __init__(self, pgdata: Path) -> None:
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        self.pgdata = pgdata
        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.url = sqlalchemy_url(self.server.get_uri(), "postgres")

    def restart(self) -> None:
        """`pg_ctl restart -m fast` with the pg_ctl of the pgserver package's bin directory."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-m", "fast", "-w", "restart"], pgdata=self.pgdata, user=self.server.system_user, timeout=60)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with tempfile.TemporaryDirectory(prefix="sk-restart-pg-") as tmp:
        postgres = OwnPostgres(Path(tmp))
        try:
            yield postgres
        finally:
            postgres.server.cleanup()


def test_a_postgres_restart_under_load_fails_only_the_requests_during_it(own_postgres, make_app):
    _, database_url = create_migrated_template(own_postgres.url)
    seeded = make_app(database_url=database_url)
    with seeded.app_context():
        with atomic():
            ensure_cafe_fausse()
        db.engine.dispose()
    port = free_port()
    # The lifecycle jobs every second, so the test sees them resume after the restart too.
    env = live_env(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), LIFECYCLE_JOBS_EVERY_SECONDS="1")
    numbers = itertools.count()
    numbers_lock = threading.Lock()
    codes: list[str] = []

    def book(_: int) -> list[Answer]:
        with numbers_lock:
            n = next(numbers)
        try:
            response = requests.post(f"{server.base_url}/api/reservations", json=website_booking(n), timeout=30)
        except requests.RequestException:
            return [Answer(at=0.0, what="book", status=None)]
        if response.status_code == 201:
            codes.append(response.json()["confirmationCode"])
        time.sleep(0.05)
        return [answer_of("book", response)]

    with (
        smtp_server(port=port) as (inbox, _),
        gunicorn_server(database_url, workers=2, env=env) as server,
        worker_process(database_url, env) as worker,
    ):
        with Load(step=book, threads=2) as load:
            time.sleep(BEFORE_SECONDS)
            restart_began = load.elapsed()
            own_postgres.restart()
            restart_ended = load.elapsed()
            restarted_at = datetime.now(UTC)
            time.sleep(AFTER_SECONDS)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(not inbox.to_subject(code) for code in codes):
            time.sleep(0.5)
        assert worker.process.poll() is None, worker.output()
        assert server.process.poll() is None

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            last_runs = dict(conn.execute(text("SELECT name, last_run_at FROM periodic_jobs")).all())
    finally:
        engine.dispose()
    lifecycle_jobs = ("complete-finished-reservations", "mark-no-shows", "queue-reminders")
    assert all(last_runs[job] > restarted_at for job in lifecycle_jobs), (restarted_at, last_runs)

    failed = [a for a in load.answers if a.status != 201]
    # Failed while the restart ran: answered after it began, asked before it ended (+ grace).
    outside = [a for a in failed if not (a.at >= restart_began and a.began <= restart_ended + GRACE_SECONDS)]
    assert not outside, (restart_began, restart_ended, outside)
    assert sum(1 for a in load.answers if a.status == 201 and a.at < restart_began) >= 5
    assert sum(1 for a in load.answers if a.status == 201 and a.began > restart_ended + GRACE_SECONDS) >= 5
    unsent = [code for code in codes if not inbox.to_subject(code)]
    assert not unsent, f"{len(unsent)} of {len(codes)} confirmations never sent"
    print(
        f"restart took {restart_ended - restart_began:.1f} s; {len(failed)} of {len(load.answers)} requests failed, "
        f"all inside it; {len(codes)} bookings, all emailed"
    )
