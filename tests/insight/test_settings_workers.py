"""Settings changed through one gunicorn worker are applied by the other on its next request.

Two sync workers, each warmed up first (both read the restaurant and its hours), then one PUT of
the settings closing the evening at 20:00, then requests in parallel until both workers have
answered: every answer must already see the new hours. gunicorn's access log names the worker
(pid) of each request. `SETTINGS_CACHE_SECONDS=300` is passed as the old per-process cache would
have read it: with that cache the other worker kept serving 23:00 for five minutes.
"""

from __future__ import annotations

import time as clock
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from api.accounts.models import Role, User
from api.extensions import db
from tests.booking.app_flow import live_env
from tests.booking.helpers import build_restaurant
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

PARALLEL = 6


def _seed(make_app, database_url):
    from argon2 import PasswordHasher

    from tests.conftest import session_token

    live = make_app(database_url=database_url)
    with live.app_context():
        restaurant = build_restaurant(slug="cafe-fausse", tables=[(2, 4)])
        staff = User(
            email="floor@example.com",
            password_hash=PasswordHasher().hash("correct horse battery staple"),
            name="Floor",
            role=Role.STAFF,
            restaurant_id=restaurant.id,
        )
        db.session.add(staff)
        db.session.commit()
        seeded = (str(restaurant.id), {"Authorization": f"Bearer {session_token(staff)}"})
        db.session.remove()
    return seeded


def _pids_after(log_path, marker):
    """Worker pids of the requests logged after the line containing `marker`."""
    lines = log_path.read_text().splitlines()
    start = max(i for i, line in enumerate(lines) if marker in line)
    return {line.split()[0] for line in lines[start + 1 :] if "/api/reservations/availability" in line}


def test_settings_changed_in_one_worker_apply_in_the_other_at_once(committing_database, make_app, tmp_path):
    restaurant_id, staff = _seed(make_app, committing_database)
    day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=7)
    at_nine = datetime.combine(day, time(21), tzinfo=ZoneInfo("America/New_York")).astimezone(UTC).isoformat()
    access_log = tmp_path / "access.log"
    env = live_env(
        SETTINGS_CACHE_SECONDS="300",
        GUNICORN_CMD_ARGS=f"--access-logfile {access_log} --access-logformat '%(p)s %(m)s %(U)s %(s)s'",
    )
    with gunicorn_server(committing_database, workers=2, env=env) as server:

        def website(_):
            return requests.get(
                server.url("/api/reservations/availability"), params={"time": at_nine}, timeout=30
            ).status_code

        def app_slots(_):
            body = {"restaurantId": restaurant_id, "date": day.isoformat(), "partySize": 2}
            answer = requests.post(server.url("/api/reservations/availability"), json=body, timeout=30)
            assert answer.status_code == 200, answer.text
            return max(slot["time"] for slot in answer.json()["slots"]) if answer.json()["slots"] else None

        with ThreadPoolExecutor(PARALLEL) as pool:
            assert set(pool.map(website, range(4 * PARALLEL))) == {200}  # open at 21:00, both workers warm
            assert set(pool.map(app_slots, range(4 * PARALLEL))) == {"22:30"}

        settings_url = server.url(f"/api/restaurants/{restaurant_id}/settings")
        document = requests.get(settings_url, headers=staff, timeout=30).json()
        document["openingHours"] = [dict(period, closeTime="20:00") for period in document["openingHours"]]
        changed = requests.put(settings_url, json=document, headers=staff, timeout=30)
        assert changed.status_code == 200, changed.text

        workers: set[str] = set()
        deadline = clock.monotonic() + 60
        with ThreadPoolExecutor(PARALLEL) as pool:
            while len(workers) < 2 and clock.monotonic() < deadline:
                assert set(pool.map(website, range(4 * PARALLEL))) == {422}  # closed at 21:00 now, everywhere
                assert set(pool.map(app_slots, range(4 * PARALLEL))) == {"19:30"}
                workers = _pids_after(access_log, "/settings")
    assert len(workers) == 2, f"only {workers} answered after the change"
