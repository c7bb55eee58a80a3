"""The outbox worker: at-least-once delivery, never twice across concurrent workers, retries with backoff."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.db import atomic
from api.extensions import db
from api.outbox import service, worker
from api.outbox.models import OutboxMessage


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
        leased = worker.claim_batch(now=now)  # a worker takes it, then "dies"
        assert len(leased) == 1
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
