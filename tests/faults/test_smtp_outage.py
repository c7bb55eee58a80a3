"""SMTP down for 30 s while 100 bookings come in: afterwards every email arrives, exactly once.

Real processes: gunicorn serves the website's bookings, `flask worker` drains the outbox, and an
aiosmtpd server on loopback is stopped for the outage and started again on the same port.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.booking.app_flow import live_env
from tests.faults.harness import scalar, website_booking, worker_process
from tests.support.live_server import free_port, gunicorn_server
from tests.support.smtp import Inbox, smtp_server

pytestmark = [pytest.mark.faults, pytest.mark.committing]

BOOKINGS = 100
BEFORE_OUTAGE = 20
OUTAGE_SECONDS = 30
HOST = "host@cafefausse.example"


def test_every_email_is_delivered_exactly_once_after_a_30_second_smtp_outage(make_app, committing_database):
    seeded = make_app(database_url=committing_database)
    with seeded.app_context():
        with atomic():
            ensure_cafe_fausse()
        db.engine.dispose()
    port = free_port()
    inbox = Inbox()
    env = live_env(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), ADMIN_NOTIFY_EMAIL=HOST)
    codes: list[str] = []

    def book(session: requests.Session, n: int) -> None:
        response = session.post(f"{server.base_url}/api/reservations", json=website_booking(n), timeout=30)
        assert response.status_code == 201, response.text
        codes.append(response.json()["confirmationCode"])

    with (
        gunicorn_server(committing_database, workers=2, env=env) as server,
        worker_process(committing_database, env) as worker,
        requests.Session() as session,
    ):
        with smtp_server(inbox, port):
            for n in range(BEFORE_OUTAGE):
                book(session, n)
            time.sleep(1)
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        pace = (OUTAGE_SECONDS - 5) / (BOOKINGS - BEFORE_OUTAGE)
        for n in range(BEFORE_OUTAGE, BOOKINGS):
            book(session, n)
            time.sleep(pace)
        during_outage = len(inbox.messages)
        time.sleep(max(0.0, outage_ends - time.monotonic()))
        with smtp_server(inbox, port):
            deadline = time.monotonic() + 90
            while len(inbox.messages) < 2 * BOOKINGS and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # long enough for a duplicate to show
        assert worker.process.poll() is None, worker.output()

    sent = Counter((message["To"], message["Subject"]) for message in inbox.messages)
    assert len(codes) == BOOKINGS
    assert during_outage <= 2 * BEFORE_OUTAGE
    assert sum(sent.values()) == 2 * BOOKINGS, f"{sum(sent.values())} emails for {BOOKINGS} bookings"
    assert set(sent.values()) == {1}, [key for key, count in sent.items() if count > 1]
    for code in codes:
        assert sum(1 for to, subject in sent if code in subject) == 2  # the guest's and the restaurant's
    undelivered = scalar(committing_database, "SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL")
    dead = scalar(committing_database, "SELECT count(*) FROM outbox_messages WHERE last_error LIKE 'gave up%'")
    assert (undelivered, dead) == (0, 0)
