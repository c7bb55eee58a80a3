"""Parallel confirmations of one hold through gunicorn: one charge, one reservation, same answer.

Four guests each hold a table; then every hold is confirmed by four threads at once (a
double-click, a retry and two impatient taps), all released together by a barrier across four
gunicorn workers. Rows and the gateway's own ledger must show one payment, one successful
authorisation and one reservation per hold, and every answer must carry that reservation.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from api.extensions import db
from api.payments.gateway import get_gateway
from tests.booking.app_flow import live_env, seed_live_database
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

GUESTS = 4
CLICKS = 4


def test_parallel_confirms_of_one_hold_charge_once_and_answer_the_same_reservation(
    committing_database, served_database, make_app
):
    seeded = seed_live_database(make_app, committing_database, users=GUESTS, tables=[(GUESTS, 2)])
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        holds = []
        for user_id, headers in seeded["users"]:
            body = {
                "userId": user_id,
                "restaurantId": seeded["restaurant_id"],
                "date": seeded["day"].isoformat(),
                "time": "19:00",
                "partySize": 2,
            }
            held = requests.post(server.url("/api/reservations/hold"), json=body, headers=headers, timeout=60)
            assert held.status_code == 201, held.text
            holds.append((user_id, headers, held.json()["hold"]["holdId"]))

        clicks = [item for item in holds for _ in range(CLICKS)]
        start = threading.Barrier(len(clicks))

        def confirm(item):
            user_id, headers, hold_id = item
            body = {
                "holdId": hold_id,
                "userId": user_id,
                "paymentMethod": {"type": "credit-card", "token": "pm_card_visa"},
            }
            with requests.Session() as session:
                start.wait()
                response = session.post(server.url("/api/reservations/confirm"), json=body, headers=headers, timeout=60)
            return hold_id, response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
            answers = list(pool.map(confirm, clicks))

    by_hold: dict[str, set[str]] = defaultdict(set)
    for hold_id, status, payload in answers:
        assert status == 201, payload
        by_hold[hold_id].add(payload["reservation"]["reservationId"])
    assert all(len(ids) == 1 for ids in by_hold.values()) and len(by_hold) == GUESTS

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            reservations = dict(
                conn.execute(text("SELECT hold_id::text, id::text FROM reservations WHERE hold_id IS NOT NULL")).all()
            )
            payments = conn.execute(
                text("SELECT subject_id::text, count(*), min(status) FROM payments GROUP BY subject_id")
            ).all()
            paid = conn.execute(text("SELECT count(*) FROM reservations WHERE deposit_paid")).scalar_one()
    finally:
        engine.dispose()
    assert {hold: ids.pop() for hold, ids in by_hold.items()} == reservations
    assert sorted((count, status) for _, count, status in payments) == [(1, "captured")] * GUESTS
    assert paid == GUESTS

    with seeded["app"].app_context():
        gateway = get_gateway()
        assert gateway.charge_count() == GUESTS  # the gateway itself saw one charge per hold
        for _, _, hold_id in holds:
            assert gateway.charge_count(f"deposit:{hold_id}:1") == 1
        db.session.remove()
        db.engine.dispose()
