"""The outbox worker: at-least-once delivery, never twice across concurrent workers, retries with backoff."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api import mail
from api.db import atomic
from api.extensions import db
from api.outbox import service, worker
from api.outbox.models import OutboxMessage
from tests.support.live_server import free_port
from tests.support.smtp import SlowInbox, smtp_server


@pytest.fixture
def committed_app(make_app, committing_database):
    app = make_app(database_url=committing_database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def recorder():
    seen: list[int] = []
    lock = threading.Lock()

    def handle(payload):
        with lock:
            seen.append(payload["n"])

    service.register_handler("test.record", handle)
    yield seen
    service._handlers.pop("test.record", None)


def enqueue_many(app, kind: str, count: int) -> None:
    with app.app_context(), atomic():
        for n in range(count):
            service.enqueue(kind, n=n)


def test_each_message_is_handled_once_by_concurrent_workers(committed_app, recorder):
    enqueue_many(committed_app, "test.record", 60)
    barrier = threading.Barrier(4)

    def drain():
        with committed_app.app_context():
            barrier.wait()
            while worker.run_once(limit=3):
                pass

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(recorder) == list(range(60))
    with committed_app.app_context():
        pending = db.session.scalar(select(func.count()).where(OutboxMessage.processed_at.is_(None)))
    assert pending == 0


def test_failing_handler_is_retried_with_backoff_then_dead_lettered(committed_app):
    calls = []

    def flaky(payload):
        calls.append(payload)
        raise ConnectionError("smtp down")

    service.register_handler("test.flaky", flaky)
    try:
        enqueue_many(committed_app, "test.flaky", 1)
        now = datetime.now(UTC)
        with committed_app.app_context():
            assert worker.run_once(now=now) == 1
            message = db.session.scalar(select(OutboxMessage))
            assert message.processed_at is None and message.attempts == 1
            assert "smtp down" in message.last_error
            assert message.available_at > now
            assert worker.run_once(now=now) == 0, "not due again before its backoff"
            for _ in range(worker.MAX_ATTEMPTS - 1):
                now += timedelta(hours=2)
                worker.run_once(now=now)
            db.session.expire_all()
            message = db.session.scalar(select(OutboxMessage))
            assert message.processed_at is not None
            assert message.last_error.startswith("gave up")
        assert len(calls) == worker.MAX_ATTEMPTS
    finally:
        service._handlers.pop("test.flaky", None)


def test_a_dead_workers_lease_expires_and_another_worker_retries(committed_app, recorder):
    enqueue_many(committed_app, "test.record", 1)
    now = datetime.now(UTC)
    with committed_app.app_context():
        assert worker.claim_next(now=now) is not None  # a worker takes it, then "dies"
        assert worker.run_once(now=now) == 0, "still leased"
        assert worker.run_once(now=now + worker.LEASE + timedelta(seconds=1)) == 1
    assert recorder == [0]


def test_unknown_kind_is_kept_with_an_error(committed_app):
    enqueue_many(committed_app, "test.nobody-handles-this", 1)
    with committed_app.app_context():
        worker.run_once()
        message = db.session.scalar(select(OutboxMessage))
        assert message.processed_at is None
        assert "no handler" in message.last_error


def test_enqueue_is_part_of_the_callers_transaction(committed_app):
    with committed_app.app_context():
        with pytest.raises(RuntimeError), atomic():
            service.enqueue("test.record", n=1)
            raise RuntimeError("the change failed")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def run_workers(app, count: int, seconds: float, poll_seconds: float = 0.05) -> None:
    """`count` workers (threads, one app context each) running the real loop for `seconds`."""
    deadline = time.monotonic() + seconds

    def loop():
        with app.app_context():
            worker.run_forever(poll_seconds=poll_seconds, should_stop=lambda: time.monotonic() > deadline)

    threads = [threading.Thread(target=loop) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
        assert not thread.is_alive()


def test_no_email_is_sent_twice_when_sends_outlast_a_batch_lease(make_app, committing_database, monkeypatch):
    # Scaled down: each send takes 0.4 s and the lease is 1.5 s, so the 8 sends (3.2 s) outlast
    # one lease, as 20 sends of up to 10 s outlasted the old 2-minute batch lease.
    monkeypatch.setattr(worker, "LEASE", timedelta(seconds=1.5))
    slow = SlowInbox(seconds=0.4)
    with smtp_server(slow) as (inbox, port):
        app = make_app(database_url=committing_database, smtp_host="127.0.0.1", smtp_port=port)
        with app.app_context(), atomic():
            for n in range(8):
                mail.enqueue_email(
                    to=f"guest{n}@example.com", subject="s", text="t", html="<p>h</p>", message_key=f"k:{n}"
                )
        run_workers(app, count=3, seconds=4.5)
        with app.app_context():
            db.engine.dispose()
    ids = Counter(message["Message-ID"] for message in inbox.messages)
    assert len(ids) == 8 and set(ids.values()) == {1}


def test_a_periodic_job_runs_once_per_interval_across_three_workers(committed_app):
    runs: list[float] = []
    service.register_periodic("test.tick", 1.0, lambda now: runs.append(time.monotonic()))
    try:
        run_workers(committed_app, count=3, seconds=3.5)
    finally:
        service._periodic.pop("test.tick")
    assert 3 <= len(runs) <= 4, runs  # at 0, 1, 2 (and 3) seconds: not once per worker
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(runs))]
    assert min(gaps) > 0.9


def test_the_worker_outlives_a_database_that_is_away(make_app, caplog):
    app = make_app(database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nowhere")
    with caplog.at_level(logging.WARNING, logger="api.outbox"):
        run_workers(app, count=1, seconds=2.5)
    failures = [record for record in caplog.records if record.getMessage() == "worker round failed; retrying"]
    assert [record.retry_in_seconds for record in failures][:2] == [1.0, 2.0]  # backing off, not spinning
