"""Staff tools racing guests through gunicorn; the rows, read in SQL afterwards, prove the outcome.

1. Approve racing cancel: three pending (primetime) app bookings with deposits; for each, six
   staff approvals and six guest cancellations are released together. Exactly one request takes
   each booking out of `pending` (the row lock orders them; `lifecycle.apply` refuses the rest
   with 409), and the table follows the final status.
2. A block racing bookings: on four evenings, a staff block of the restaurant's only table and
   ten website bookings for that table's evening are released together. Either the block wins
   (every booking is refused) or one booking wins (the block answers BOOKINGS_AFFECTED), never
   both; the control run without the service-day lock shows the exclusion constraint alone
   still allows no overlap.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from api.accounts.models import Role, User
from api.extensions import db
from api.restaurants.models import PrimetimeWindow
from tests.booking.app_flow import live_env, seed_live_database
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z
from tests.support import invariants
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

BOOKINGS = 3
EACH = 6


def _staff_headers(restaurant_id: str) -> dict[str, str]:
    from argon2 import PasswordHasher

    from tests.conftest import session_token

    staff = User(
        email=f"staff-{uuid.uuid4().hex[:8]}@example.com",
        password_hash=PasswordHasher().hash("correct horse battery staple"),
        role=Role.STAFF,
        restaurant_id=uuid.UUID(restaurant_id),
    )
    db.session.add(staff)
    db.session.commit()
    return {"Authorization": f"Bearer {session_token(staff)}"}


def _every_evening_is_primetime(restaurant_id: str) -> None:
    db.session.add_all(
        PrimetimeWindow(restaurant_id=uuid.UUID(restaurant_id), weekday=d, start_time=time(17), end_time=time(23))
        for d in range(7)
    )
    db.session.commit()


def test_approve_racing_cancel_leaves_exactly_one_winner_and_the_table_matching(
    committing_database, served_database, make_app
):
    seeded = seed_live_database(make_app, committing_database, users=BOOKINGS, tables=[(BOOKINGS, 2)])
    with seeded["app"].app_context():
        _every_evening_is_primetime(seeded["restaurant_id"])
        staff_headers = _staff_headers(seeded["restaurant_id"])
        db.session.remove()

    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        pending: list[tuple[str, dict[str, str]]] = []
        for user_id, headers in seeded["users"]:
            hold = {"userId": user_id, "restaurantId": seeded["restaurant_id"], "date": seeded["day"].isoformat(),
                    "time": "19:00", "partySize": 2}  # fmt: skip
            held = requests.post(server.url("/api/reservations/hold"), json=hold, headers=headers, timeout=60)
            assert held.status_code == 201, held.text
            confirm = {"holdId": held.json()["hold"]["holdId"], "userId": user_id,
                       "paymentMethod": {"type": "credit-card", "token": "pm_card_visa"}}  # fmt: skip
            made = requests.post(server.url("/api/reservations/confirm"), json=confirm, headers=headers, timeout=60)
            assert made.status_code == 201, made.text
            assert made.json()["reservation"]["status"] == "pending"
            pending.append((made.json()["reservation"]["reservationId"], headers))

        calls = [
            (kind, reservation_id, headers)
            for reservation_id, headers in pending
            for kind in ("approve", "cancel")
            for _ in range(EACH)
        ]
        start = threading.Barrier(len(calls))

        def call(item):
            kind, reservation_id, guest_headers = item
            with requests.Session() as session:
                start.wait()
                if kind == "approve":
                    response = session.post(
                        server.url(f"/api/reservations/{reservation_id}/approve"),
                        json={"action": "approve"},
                        headers=staff_headers,
                        timeout=60,
                    )
                else:
                    response = session.delete(
                        server.url(f"/api/reservations/{reservation_id}"), json={}, headers=guest_headers, timeout=60
                    )
            return kind, reservation_id, response.status_code, response.json().get("code")

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            answers = list(pool.map(call, calls))

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT id::text, status FROM reservations")).all())
            claims = Counter(r for (r,) in conn.execute(text("SELECT reservation_id::text FROM table_occupancies")))
            events = conn.execute(
                text("SELECT reservation_id::text, action, from_status, to_status FROM reservation_events ORDER BY id")
            ).all()
            invariants.assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()

    for reservation_id, _ in pending:
        mine = [(kind, status, code) for kind, rid, status, code in answers if rid == reservation_id]
        wins = Counter(kind for kind, status, _ in mine if status == 200)
        refusals = {(status, code) for _, status, code in mine if status != 200}
        assert refusals <= {(409, "INVALID_TRANSITION"), (409, "ALREADY_CANCELLED")}, mine
        moves = [(action, src, dst) for rid, action, src, dst in events if rid == reservation_id]
        out_of_pending = [m for m in moves if m[1] == "pending"]
        assert len(out_of_pending) == 1, moves  # exactly one request took it out of pending
        first = out_of_pending[0][0]
        assert wins[first] == 1
        if first == "cancel":
            # The guest won: every approval was refused, the table is free.
            assert wins["approve"] == 0 and statuses[reservation_id] == "cancelled"
        else:
            # Staff won; a guest may still cancel the now confirmed booking, once.
            assert wins["cancel"] <= 1
            assert statuses[reservation_id] == ("cancelled" if wins["cancel"] else "confirmed")
        assert claims[reservation_id] == (1 if statuses[reservation_id] == "confirmed" else 0)
        assert len(moves) == 1 + sum(wins.values())  # the book event and one per success


@pytest.mark.parametrize("locking", ["on", "off"])
def test_a_block_racing_bookings_on_one_table_never_overlaps(locking, committing_database, served_database, make_app):
    evenings = [upcoming_service_day(days_ahead=10) + timedelta(days=7 * n) for n in range(4)]
    app = make_app(database_url=committing_database)
    with app.app_context():
        restaurant = build_restaurant(slug="cafe-fausse", tables=[(1, 2)])
        restaurant_id, table_id = str(restaurant.id), str(restaurant.tables[0].id)
        staff_headers = _staff_headers(restaurant_id)
        db.session.remove()
        db.engine.dispose()

    env = live_env(DISABLE_ALLOCATION_LOCK="true" if locking == "off" else "false")
    calls = []
    for day in evenings:
        block = {"start": utc_z(local(day, 18)), "end": utc_z(local(day, 22)), "reason": "Private party"}
        calls.append(("block", day, f"/api/restaurants/{restaurant_id}/tables/{table_id}/blocks", block, staff_headers))
        for _ in range(10):
            booking = {"time": utc_z(local(day, 19)), "guests": 2, "name": "Racer",
                       "email": f"racer-{uuid.uuid4().hex}@example.com"}  # fmt: skip
            calls.append(("book", day, "/api/reservations", booking, {}))
    start = threading.Barrier(len(calls))

    with gunicorn_server(served_database, workers=4, env=env) as server:

        def call(item):
            kind, day, path, body, headers = item
            with requests.Session() as session:
                start.wait()
                response = session.post(server.url(path), json=body, headers=headers, timeout=60)
            return kind, day, response.status_code, response.json().get("code")

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            answers = list(pool.map(call, calls))

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            invariants.assert_nothing_sold_twice(conn)
            blocked_days = {
                row[0]
                for row in conn.execute(
                    text("SELECT (starts_at AT TIME ZONE 'America/New_York')::date FROM table_blocks")
                )
            }
            booked_days = Counter(
                row[0] for row in conn.execute(text("SELECT service_date FROM reservations WHERE status = 'confirmed'"))
            )
            block_claims = conn.execute(
                text("SELECT count(*) FROM table_occupancies WHERE block_id IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()

    assert block_claims == len(blocked_days)
    for day in evenings:
        block_answer = next((status, code) for kind, d, status, code in answers if kind == "block" and d == day)
        bookings = Counter((status, code) for kind, d, status, code in answers if kind == "book" and d == day)
        if day in blocked_days:
            assert block_answer == (201, None)
            assert booked_days[day] == 0 and (201, None) not in bookings, bookings
        else:
            assert block_answer in {(409, "BOOKINGS_AFFECTED"), (409, "RACE_LOST")}, block_answer
            assert booked_days[day] == 1 and bookings[(201, None)] == 1, bookings
        refused = set(bookings) - {(201, None)}
        allowed = {(409, "FULLY_BOOKED")} if locking == "on" else {(409, "FULLY_BOOKED"), (409, "RACE_LOST")}
        assert refused <= allowed, bookings
        if locking == "on":
            assert block_answer != (409, "RACE_LOST")  # under the lock contenders queue, nobody collides
    # Every evening ended one way or the other: the table was never both blocked and booked.
    assert all((day in blocked_days) != (booked_days[day] == 1) for day in evenings)
