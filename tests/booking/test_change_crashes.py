"""A gunicorn worker dies in the middle of a party-size change; the difference still moves exactly once.

The crash matrix's `:exit` faults (api/faults.py) kill the worker process on the spot between the
change's steps (the in-process variants of every step are in test_changes.py). Afterwards the
guest retries, or nobody does and the reconciler runs, and the gateway's own ledger must show the
difference charged once (or, for a change that never committed, released and nothing changed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from api.booking import checkout
from api.extensions import db
from tests.booking.app_flow import book_live, live_env, seed_live_database
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

MONEY = """
    SELECT count(*) FILTER (WHERE i.authorized_at IS NOT NULL AND p.status <> 'voided'),
           coalesce(sum(i.amount_captured_cents), 0), coalesce(sum(i.amount_refunded_cents), 0),
           (SELECT deposit_cents FROM reservations WHERE id = :id),
           (SELECT party_size FROM reservations WHERE id = :id),
           (SELECT count(*) FROM payments WHERE status = 'authorized')
      FROM payments p JOIN fake_gateway_intents i ON i.idempotency_key = p.idempotency_key
"""


def money(database_url: str, reservation_id: str) -> tuple:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(MONEY), {"id": reservation_id}).one())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("point", "recovery"),
    [
        ("change_after_authorize", "retry"),
        ("change_after_authorize", "reconciler"),
        ("change_after_commit", "retry"),
        ("change_after_commit", "reconciler"),
    ],
)
def test_a_worker_killed_mid_change_moves_the_difference_once(point, recovery, committing_database, make_app):
    seeded = seed_live_database(make_app, committing_database, users=1, tables=[(2, 4)])
    guest = seeded["users"][0]
    env = live_env(FAULT_INJECTION_POINT=f"{point}:exit")
    with gunicorn_server(committing_database, workers=2, env=env) as server:
        reservation_id = book_live(server.base_url, seeded["restaurant_id"], guest, seeded["day"], "19:00")
        with pytest.raises(requests.ConnectionError):  # the worker died mid-request
            requests.patch(
                server.url(f"/api/reservations/{reservation_id}"),
                json={"userId": "current_user", "partySize": 4},
                headers=guest[1],
                timeout=60,
            )
        assert requests.get(server.url("/health"), timeout=30).status_code == 200

    live = seeded["app"]
    with live.app_context():
        if recovery == "retry":  # the app retries the same request (no fault armed this time)
            retried = live.test_client().patch(
                f"/api/reservations/{reservation_id}", json={"userId": "current_user", "partySize": 4}, headers=guest[1]
            )
            assert retried.status_code == 200, retried.get_json()
            assert retried.get_json()["depositAmount"] == 100
        checkout.reconcile_payments(datetime.now(UTC) + timedelta(hours=1))
        assert checkout.reconcile_payments(datetime.now(UTC) + timedelta(hours=2)).total() == 0
        db.session.remove()
        db.engine.dispose()

    charges, captured, refunded, deposit, party, left_authorized = money(committing_database, reservation_id)
    assert left_authorized == 0
    if point == "change_after_authorize" and recovery == "reconciler":
        # Never committed: the booking is as it was, the extra authorisation released.
        assert (party, deposit, charges, captured, refunded) == (2, 5000, 1, 5000, 0)
    else:
        assert (party, deposit, charges, captured, refunded) == (4, 10000, 2, 10000, 0)
