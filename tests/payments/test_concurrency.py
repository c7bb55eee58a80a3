"""Races with real commits: the same key from several processes, the same click from several threads."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from api.extensions import db
from api.payments import service
from api.payments.fake_gateway import FakeGateway
from api.payments.gateway import get_gateway, sign_webhook_payload
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


def test_parallel_duplicate_webhooks_are_processed_exactly_once(make_app, committing_database):
    """THREADS deliveries of one event at once (Stripe retrying a slow answer): one is processed."""
    app = make_app(database_url=committing_database, stripe_webhook_secret=WEBHOOK_SECRET)
    calls: list[str] = []

    def slow_handler(notice, now):
        calls.append(notice.event.id)
        time.sleep(0.2)  # still processing when the twins arrive

    service.register_webhook_handler("customer.updated", slow_handler)
    payload = json.dumps({"id": "evt_twins", "object": "event", "type": "customer.updated", "data": {"object": {}}})
    barrier = threading.Barrier(THREADS)

    def deliver(_: int) -> tuple[int, dict]:
        client = app.test_client()
        headers = {"Stripe-Signature": sign_webhook_payload(payload, WEBHOOK_SECRET)}
        barrier.wait(timeout=60)
        response = client.post("/api/payments/webhook", data=payload, headers=headers, content_type="application/json")
        return response.status_code, response.get_json()

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(deliver, range(THREADS)))
    finally:
        service._handlers.pop("customer.updated", None)

    assert calls == ["evt_twins"]
    assert answers.count((200, {"received": True, "duplicate": False})) == 1
    for status, body in answers:
        assert (status, body.get("code")) in {(200, None), (409, "WEBHOOK_IN_PROGRESS")}
    client = app.test_client()
    headers = {"Stripe-Signature": sign_webhook_payload(payload, WEBHOOK_SECRET)}
    again = client.post("/api/payments/webhook", data=payload, headers=headers, content_type="application/json")
    assert again.get_json() == {"received": True, "duplicate": True}
    assert calls == ["evt_twins"]
    with app.app_context():
        db.engine.dispose()
