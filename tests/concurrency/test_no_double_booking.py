"""Many clients race for the same tables through gunicorn; the rows prove no table is sold twice.

pretix-style pair: with the service-day lock, contenders queue and every loser is a clean
FULLY_BOOKED; with the lock switched off (DISABLE_ALLOCATION_LOCK, test-only), the exclusion
constraint on `table_occupancies` alone still lets no overlapping claim commit, and the
losers of the real race answer RACE_LOST. Assertions are on rows and statuses, never timings.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z
from tests.support import invariants
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

DAY = upcoming_service_day(days_ahead=10)
WORKERS = 4


def make_restaurant(make_app, database_url: str, tables: list[tuple[int, int]]) -> None:
    app = make_app(database_url=database_url)
    with app.app_context():
        build_restaurant(slug="cafe-fausse", tables=tables, opens_at=time(17), closes_at=time(23))
        db.session.remove()
        db.engine.dispose()


def race(base_url: str, bodies: list[dict]) -> list[tuple[int, str | None]]:
    """POST every body at once (one thread and one connection each, released together)."""
    start = threading.Barrier(len(bodies))
    local_session = threading.local()

    def post(body: dict) -> tuple[int, str | None]:
        session = getattr(local_session, "session", None) or requests.Session()
        local_session.session = session
        start.wait()
        response = session.post(f"{base_url}/api/reservations", json=body, timeout=60)
        payload = response.json()
        return response.status_code, payload.get("code")

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def body(when: datetime, guests: int = 2) -> dict:
    return {"time": utc_z(when), "guests": guests, "name": "Racer", "email": f"racer-{uuid.uuid4().hex}@example.com"}


def rows(database_url: str, sql: str) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def assert_nothing_sold_twice(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            invariants.assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()


def test_two_hundred_clients_race_for_ten_tables(make_app, committing_database, served_database):
    make_restaurant(make_app, committing_database, tables=[(10, 2)])
    with gunicorn_server(served_database, workers=WORKERS) as server:
        results = race(server.base_url, [body(local(DAY, 19)) for _ in range(200)])
    assert Counter(status for status, _ in results) == {201: 10, 409: 190}
    # The lock makes contenders queue: every loser saw the winners and none collided.
    assert Counter(code for status, code in results if status == 409) == {"FULLY_BOOKED": 190}
    assert rows(committing_database, "SELECT count(*) FROM reservations")[0][0] == 10
    assert rows(committing_database, "SELECT count(DISTINCT table_id) FROM reservations")[0][0] == 10
    assert_nothing_sold_twice(committing_database)


def test_without_the_lock_the_constraint_alone_stops_double_booking(make_app, committing_database, served_database):
    """Negative control: the race is real (RACE_LOST appears) and still nothing is sold twice."""
    make_restaurant(make_app, committing_database, tables=[(10, 2)])
    outcomes: Counter = Counter()
    env = {"DISABLE_ALLOCATION_LOCK": "true"}
    with gunicorn_server(served_database, workers=WORKERS, env=env) as server:
        # Each round is another day, so no round's stays overlap another's; a round shows the race
        # when two transactions overlap in time, and ten rounds make that near certain.
        for round_number in range(10):
            when = local(DAY + timedelta(days=round_number), 19)
            results = race(server.base_url, [body(when) for _ in range(200)])
            assert {status for status, _ in results} <= {201, 409}, Counter(results)
            assert 1 <= sum(status == 201 for status, _ in results) <= 10, Counter(results)
            outcomes.update(code for status, code in results if status == 409)
            if outcomes["RACE_LOST"]:
                break
    print(f"negative control outcomes: {dict(outcomes)}")
    assert set(outcomes) <= {"RACE_LOST", "FULLY_BOOKED"}
    assert outcomes["RACE_LOST"] >= 1, outcomes
    assert_nothing_sold_twice(committing_database)


def test_a_mixed_party_race_fills_the_tables_best_fit(make_app, committing_database, served_database):
    make_restaurant(make_app, committing_database, tables=[(4, 2), (4, 4), (2, 6)])
    bodies = [body(local(DAY, 19), guests) for guests in [2] * 30 + [4] * 20 + [6] * 10 + [5] * 5]
    with gunicorn_server(served_database, workers=WORKERS) as server:
        results = race(server.base_url, bodies)
    assert {status for status, _ in results} <= {201, 409}
    assert sum(status == 201 for status, _ in results) == 10  # a party of 2 fits anywhere: every table goes
    assert {code for status, code in results if status == 409} == {"FULLY_BOOKED"}
    assert_nothing_sold_twice(committing_database)
    seated = rows(
        committing_database,
        "SELECT r.party_size, t.min_seats, t.max_seats FROM reservations r JOIN dining_tables t ON t.id = r.table_id",
    )
    assert all(low <= party <= high for party, low, high in seated)
    # Best fit under the lock: a party sits at a bigger table only once every smaller table that
    # seats it is taken (tables are never freed during the race, so "taken at the end" suffices).
    free_sizes = rows(
        committing_database,
        """
        SELECT t.max_seats FROM dining_tables t
         WHERE NOT EXISTS (SELECT 1 FROM reservations r WHERE r.table_id = t.id)
        """,
    )
    assert free_sizes == []
    by_size = rows(
        committing_database,
        """
        SELECT r.party_size, t.max_seats FROM reservations r
          JOIN dining_tables t ON t.id = r.table_id
          JOIN table_occupancies o ON o.reservation_id = r.id
         GROUP BY r.id, r.party_size, t.max_seats
         ORDER BY min(o.id)  -- claim ids come from a sequence, drawn under the lock: allocation order
        """,
    )
    taken: Counter = Counter()
    capacity = {2: 4, 4: 4, 6: 2}
    for party, seats in by_size:
        smaller_that_fit = [s for s in capacity if party <= s < seats]
        assert all(taken[s] == capacity[s] for s in smaller_that_fit), (party, seats, dict(taken))
        taken[seats] += 1


def test_without_the_lock_overlapping_stays_of_different_lengths_and_grids_are_refused(
    make_app, committing_database, served_database
):
    """Negative control on exact time: starts on a 15-minute grid, stays of 45, 75 and 105 minutes.

    No two of these claims share a grid of buckets a unique constraint could compare; the
    exclusion constraint compares their ranges, so the losers answer RACE_LOST and the winners'
    stays never overlap.
    """
    app = make_app(database_url=committing_database)
    with app.app_context():
        build_restaurant(
            slug="cafe-fausse",
            tables=[(1, 6)],
            slot_minutes=15,
            durations_by_party=[
                {"maxParty": 2, "minutes": 45},
                {"maxParty": 4, "minutes": 75},
                {"maxParty": 6, "minutes": 105},
            ],
        )
        db.session.remove()
        db.engine.dispose()
    outcomes: Counter = Counter()
    with gunicorn_server(served_database, workers=WORKERS, env={"DISABLE_ALLOCATION_LOCK": "true"}) as server:
        for round_number in range(10):
            day = DAY + timedelta(days=round_number)
            bodies = [
                body(local(day, 19, minute), guests)
                for minute in (0, 15, 30, 45)
                for guests in (2, 4, 6)
                for _ in range(3)
            ]
            results = race(server.base_url, bodies)
            assert {status for status, _ in results} <= {201, 409}, Counter(results)
            outcomes.update(code for status, code in results if status == 409)
            if outcomes["RACE_LOST"] >= 3:
                break
    print(f"negative control on exact time: {dict(outcomes)}")
    assert set(outcomes) <= {"RACE_LOST", "FULLY_BOOKED"}
    assert outcomes["RACE_LOST"] >= 1, outcomes
    assert_nothing_sold_twice(committing_database)
