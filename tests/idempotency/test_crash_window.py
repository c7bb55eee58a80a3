"""A crash around the commit never lets a retry book twice: the answer commits with the change.

Through a real gunicorn worker that `os._exit`s at a fault point (api/faults.py), then a retry
with the same Idempotency-Key after the lease has run out:

- killed right after the commit, before the answer is sent: the retry replays the stored answer,
  the same reservation; one row;
- killed after the answer is written but before the commit: PostgreSQL drops the whole
  transaction, the retry books once; one row.
"""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.booking.app_flow import live_env
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

DAY = upcoming_service_day(days_ahead=11)
BODY = {"time": utc_z(local(DAY, 19)), "guests": 2, "name": "Alex", "email": "alex@example.com"}


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            reservations = conn.execute(text("SELECT count(*) FROM reservations")).scalar_one()
            answered = conn.execute(
                text("SELECT count(*) FROM idempotency_keys WHERE response_status IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return reservations, answered


@pytest.mark.parametrize(
    ("point", "after_crash", "replayed"),
    [("after_idempotent_commit", (1, 1), "true"), ("before_idempotent_commit", (0, 0), None)],
)
def test_a_retry_after_a_crash_at_the_commit_books_once(point, after_crash, replayed, committing_database, make_app):
    live = make_app(database_url=committing_database)
    with live.app_context():
        build_restaurant(slug="cafe-fausse", tables=[(3, 2)])
        db.session.remove()
        db.engine.dispose()
    headers = {"Idempotency-Key": "one-click-7f3a"}
    crashing = live_env(FAULT_INJECTION_POINT=f"{point}:exit", IDEMPOTENCY_LEASE_SECONDS="1")
    with (
        gunicorn_server(committing_database, workers=1, env=crashing) as server,
        pytest.raises(requests.ConnectionError),
    ):
        requests.post(server.url("/api/reservations"), json=BODY, headers=headers, timeout=30)
    assert counts(committing_database) == after_crash

    time.sleep(1.5)  # the first attempt's lease runs out, as a patient client's retry would
    with gunicorn_server(committing_database, workers=1, env=live_env(IDEMPOTENCY_LEASE_SECONDS="1")) as server:
        retry = requests.post(server.url("/api/reservations"), json=BODY, headers=headers, timeout=30)
    assert retry.status_code == 201, retry.json()
    assert retry.headers.get("Idempotent-Replayed") == replayed
    assert counts(committing_database) == (1, 1)
    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            code = conn.execute(text("SELECT confirmation_code FROM reservations")).scalar_one()
    finally:
        engine.dispose()
    assert retry.json()["confirmationCode"] == code
