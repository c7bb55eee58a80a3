"""One user, two holds at once, through gunicorn: exactly one 201 and one 409 ACTIVE_HOLD_EXISTS.

Each user fires two hold requests released together by a barrier (19:00 and 21:00 at the user's
own restaurant, so capacity is never why one loses). pretix-style pair: with the per-user and
service-day locks, the second request queues and then sees the first hold; with the locks
switched off (DISABLE_ALLOCATION_LOCK, test-only), both get past the check and the unique
constraint on `holds.user_id` alone turns the loser into ACTIVE_HOLD_EXISTS. Assertions are on
statuses and rows, never timings.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.booking.app_flow import live_env, seed_live_database
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

USERS = 6


@pytest.mark.parametrize("locking", ["on", "off"])
def test_two_parallel_holds_by_one_user_yield_one_hold(locking, committing_database, served_database, make_app):
    seeded = seed_live_database(make_app, committing_database, users=USERS, tables=[(2, 2)], restaurants=USERS)
    requests_to_send = []
    for (user_id, headers), restaurant_id in zip(seeded["users"], seeded["restaurant_ids"], strict=True):
        for wall in ("19:00", "21:00"):
            body = {
                "userId": user_id,
                "restaurantId": restaurant_id,
                "date": seeded["day"].isoformat(),
                "time": wall,
                "partySize": 2,
            }
            requests_to_send.append((user_id, headers, body))
    start = threading.Barrier(len(requests_to_send))

    def post(item):
        user_id, headers, body = item
        with requests.Session() as session:
            start.wait()
            response = session.post(f"{base_url}/api/reservations/hold", json=body, headers=headers, timeout=60)
        return user_id, response.status_code, response.json().get("code")

    env = live_env(DISABLE_ALLOCATION_LOCK="true" if locking == "off" else "false")
    with gunicorn_server(served_database, workers=4, env=env) as server:
        base_url = server.base_url
        with ThreadPoolExecutor(max_workers=len(requests_to_send)) as pool:
            results = list(pool.map(post, requests_to_send))

    per_user: dict[str, Counter] = {}
    for user_id, status, code in results:
        per_user.setdefault(user_id, Counter())[(status, code)] += 1
    for outcome in per_user.values():
        assert outcome == Counter({(201, None): 1, (409, "ACTIVE_HOLD_EXISTS"): 1})

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            per_user_rows = conn.execute(text("SELECT user_id, count(*) FROM holds GROUP BY user_id")).all()
            claimed_by = conn.execute(text("SELECT count(DISTINCT hold_id) FROM table_occupancies")).scalar_one()
    finally:
        engine.dispose()
    assert len(per_user_rows) == USERS and all(count == 1 for _, count in per_user_rows)
    assert claimed_by == USERS  # a losing request leaves no claim behind
