"""Races with real commits: the same key from several processes, the same click from several threads."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from api.extensions import db
from api.payments import service
from api.payments.fake_gateway import FakeGateway
from api.payments.gateway import get_gateway
from api.payments.models import Payment, PaymentStatus
from tests.payments.conftest import WEBHOOK_SECRET

PROCESSES = 4
THREADS = 6


def _authorize_in_a_process(database_url: str, idempotency_key: str, barrier, results) -> None:
    """One gunicorn worker's worth: its own interpreter, engine and connections."""
    engine = create_engine(database_url)
    try:
        gateway = FakeGateway(engine, webhook_secret=WEBHOOK_SECRET)
        barrier.wait(timeout=60)
        result = gateway.authorize(
            amount_cents=5000,
            currency="usd",
            payment_method="pm_card_visa",
            idempotency_key=idempotency_key,
            metadata={"payment_id": "p"},
        )
        results.put(result.gateway_payment_id)
    except Exception as err:  # reported to the parent, which fails the test
        results.put(f"error: {err!r}")
    finally:
        engine.dispose()


def test_fake_gateway_charges_once_for_one_key_across_processes(committing_database):
    key = f"deposit:{uuid.uuid4()}:1"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_authorize_in_a_process, args=(committing_database, key, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert not [a for a in answers if a.startswith("error")], answers
    assert len(set(answers)) == 1  # every worker got the same PaymentIntent
    engine = create_engine(committing_database)
    try:
        assert FakeGateway(engine, webhook_secret=WEBHOOK_SECRET).charge_count(key) == 1
    finally:
        engine.dispose()


@pytest.fixture
def committing_app(make_app, committing_database):
    app = make_app(database_url=committing_database)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_double_clicks_racing_make_one_payment_and_one_charge(committing_app):
    """THREADS requests start and authorize the same deposit at once (a double-click, a retry)."""
    subject_id = uuid.uuid4()
    barrier = threading.Barrier(THREADS)

    def click() -> tuple[uuid.UUID, str]:
        with committing_app.app_context():
            now = datetime.now(UTC)
            barrier.wait(timeout=60)
            payment = service.start_payment(
                subject_id=subject_id, amount_cents=5000, currency="usd", payment_method="pm_card_visa", now=now
            )
            payment = service.authorize_payment(payment_id=payment.id, now=now)
            answer = (payment.id, payment.status)
            db.session.remove()
            return answer

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda _: click(), range(THREADS)))

    assert {payment_id for payment_id, _ in answers} == {answers[0][0]}
    assert {status for _, status in answers} == {PaymentStatus.AUTHORIZED}
    with committing_app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Payment).where(Payment.subject_id == subject_id))
        assert rows == 1
        gateway = get_gateway()
        assert isinstance(gateway, FakeGateway)
        assert gateway.charge_count(f"deposit:{subject_id}:1") == 1
