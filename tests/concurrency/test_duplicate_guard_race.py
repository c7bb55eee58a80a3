"""One guest, 20 requests at once through gunicorn for overlapping times at two restaurants: one booking.

Ten website bookings under the guest's email (its case varied) and ten app holds by the guest's
account, at another restaurant, all starting within 90 minutes of each other, released together.
With the guard, the guest's transaction lock makes them queue and exactly one succeeds; the
control run with DUPLICATE_GUARD_MINUTES=0 shows the race is real (several succeed).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import time

import pytest
import requests
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.booking.app_flow import live_env, seed_live_database
from tests.booking.helpers import build_restaurant, local, utc_z
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

WALLS = [time(19), time(19, 30), time(20), time(20, 30)]


@pytest.mark.parametrize("guard_minutes", ["120", "0"])
def test_twenty_parallel_requests_of_one_guest_at_two_restaurants_make_one_booking(
    guard_minutes, committing_database, served_database, make_app
):
    seeded = seed_live_database(make_app, committing_database, users=1, tables=[(10, 2)])
    with seeded["app"].app_context():
        build_restaurant(slug="cafe-fausse", tables=[(10, 2)])
        email = db.session.execute(text("SELECT email FROM users")).scalar_one()
        db.session.remove()
    user_id, headers = seeded["users"][0]
    day = seeded["day"]
    calls = []
    for i in range(10):
        wall = WALLS[i % len(WALLS)]
        website = {"time": utc_z(local(day, wall.hour, wall.minute)), "guests": 2, "name": "Racer"}
        calls.append(("/api/reservations", {**website, "email": email.upper() if i % 2 else email}, {}))
        hold = {
            "userId": user_id,
            "restaurantId": seeded["restaurant_id"],
            "date": day.isoformat(),
            "time": wall.strftime("%H:%M"),
            "partySize": 2,
        }
        calls.append(("/api/reservations/hold", hold, headers))
    start = threading.Barrier(len(calls))

    def post(call):
        path, body, call_headers = call
        with requests.Session() as session:
            start.wait()
            response = session.post(f"{base_url}{path}", json=body, headers=call_headers, timeout=60)
        return response.status_code, response.json().get("code")

    env = live_env(DUPLICATE_GUARD_MINUTES=guard_minutes)
    with gunicorn_server(served_database, workers=4, env=env) as server:
        base_url = server.base_url
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            outcomes = Counter(pool.map(post, calls))

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            live = conn.execute(
                text("SELECT (SELECT count(*) FROM reservations) + (SELECT count(*) FROM holds)")
            ).scalar_one()
    finally:
        engine.dispose()
    created = outcomes[(201, None)]
    assert sum(outcomes.values()) == 20
    assert all(status in (201, 409) for status, _ in outcomes), outcomes
    if guard_minutes == "120":
        assert created == 1, outcomes
        assert live == 1
        assert set(outcomes) - {(201, None)} <= {(409, "DUPLICATE_BOOKING"), (409, "ACTIVE_HOLD_EXISTS")}
    else:
        assert created > 1, outcomes  # the control: without the guard the guest books several tables
        assert live == created
