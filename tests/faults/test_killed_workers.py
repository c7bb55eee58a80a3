"""A gunicorn worker SIGKILLed every 2 s for 60 s of mixed load: no invariant broken, no lock left.

Four threads book on the website, hold, confirm with a deposit and cancel in the app's flow
through gunicorn (4 workers), while a killer SIGKILLs a random worker every 2 s; the master
respawns it. A request cut mid-transaction must leave nothing half done: afterwards, checked in
SQL on exact time ranges (tests/support/invariants.py), no two claims or active reservations of one
table overlap, every active reservation holds exactly its claim, and no advisory lock is left in the
database.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import create_engine

from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.booking.app_flow import live_env, seed_live_database
from tests.faults.harness import (
    ADVISORY_LOCKS,
    Answer,
    Load,
    answer_of,
    gunicorn_workers,
    scalar,
    website_booking,
)
from tests.support.invariants import assert_nothing_sold_twice
from tests.support.live_server import gunicorn_server

pytestmark = [pytest.mark.faults, pytest.mark.committing]

LOAD_SECONDS = 60
KILL_EVERY = 2.0
USERS = 40


def test_workers_killed_under_mixed_load_break_no_invariant_and_leave_no_lock(make_app, committing_database):
    seeded = seed_live_database(make_app, committing_database, users=USERS, tables=[(4, 2), (3, 4)])
    with seeded["app"].app_context():
        with atomic():
            ensure_cafe_fausse()
        db.engine.dispose()
    numbers = itertools.count()
    lock = threading.Lock()

    def website(session: requests.Session, rng: random.Random) -> list[Answer]:
        with lock:
            n = next(numbers)
        response = session.post(f"{server.base_url}/api/reservations", json=website_booking(n), timeout=30)
        return [answer_of("book", response)]

    def app_flow(session: requests.Session, rng: random.Random) -> list[Answer]:
        user_id, headers = rng.choice(seeded["users"])
        body = {
            "userId": user_id,
            "restaurantId": seeded["restaurant_id"],
            "date": (seeded["day"] + timedelta(days=rng.randrange(14))).isoformat(),
            "time": rng.choice(["18:00", "18:30", "19:00", "19:30", "20:00"]),
            "partySize": rng.choice([2, 2, 3, 4]),
        }
        held = session.post(f"{server.base_url}/api/reservations/hold", json=body, headers=headers, timeout=30)
        answers = [answer_of("hold", held)]
        if held.status_code != 201:
            return answers
        confirm = {
            "holdId": held.json()["hold"]["holdId"],
            "userId": user_id,
            "paymentMethod": {"type": "credit-card", "last4": "0000", "cardBrand": "Fake", "token": "pm_card_visa"},
        }
        confirmed = session.post(
            f"{server.base_url}/api/reservations/confirm", json=confirm, headers=headers, timeout=30
        )
        answers.append(answer_of("confirm", confirmed))
        if confirmed.status_code == 201 and rng.random() < 0.5:
            reservation_id = confirmed.json()["reservation"]["reservationId"]
            cancelled = session.delete(
                f"{server.base_url}/api/reservations/{reservation_id}",
                json={"userId": user_id},
                headers=headers,
                timeout=30,
            )
            answers.append(answer_of("cancel", cancelled))
        return answers

    def step(index: int) -> list[Answer]:
        rng = random.Random()
        with requests.Session() as session:
            try:
                return (website if rng.random() < 0.4 else app_flow)(session, rng)
            except requests.RequestException:  # the worker serving it was killed
                return [Answer(at=0.0, what="cut", status=None)]

    kills = 0
    with gunicorn_server(committing_database, workers=4, env=live_env()) as server:
        with Load(step=step, threads=4) as load:
            while load.elapsed() < LOAD_SECONDS:
                time.sleep(KILL_EVERY)
                workers = gunicorn_workers(server.process.pid)
                if workers:
                    os.kill(random.choice(workers), signal.SIGKILL)
                    kills += 1
        assert server.process.poll() is None

    # A killed worker's sessions end when PostgreSQL notices the closed socket: give it a moment.
    deadline = time.monotonic() + 10
    while scalar(committing_database, ADVISORY_LOCKS) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert scalar(committing_database, ADVISORY_LOCKS) == 0
    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()
    outcomes = Counter((a.what, a.status, a.code) for a in load.answers)
    assert kills >= LOAD_SECONDS / KILL_EVERY - 2
    assert outcomes[("book", 201, None)] >= 5 and outcomes[("confirm", 201, None)] >= 5, outcomes
    assert not [key for key in outcomes if key[1] is not None and key[1] >= 500 and key[2] == "INTERNAL_ERROR"]
    print(f"{kills} workers killed; outcomes: {dict(outcomes)}")
