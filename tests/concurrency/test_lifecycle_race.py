"""Seat racing cancel on one booking, through gunicorn: exactly one wins, and the audit trail says which.

Eight reservations that started half an hour ago; for each, staff press "seat" while the
booking is cancelled at the same instant (by staff with a reason for half of them, by the guest
through the app's DELETE for the others), all released together by a barrier across four
gunicorn workers. Checked in SQL afterwards: one winner per reservation, whose move is the one
audit row; a seated booking holds its table, a cancelled one holds nothing; nothing sold twice.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from api.accounts.models import Role, User
from api.extensions import db
from tests.booking.app_flow import live_env
from tests.booking.helpers import build_restaurant
from tests.booking.test_lifecycle import place
from tests.conftest import session_token
from tests.support.invariants import assert_nothing_sold_twice
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

BOOKINGS = 8


def test_seat_racing_cancel_lets_exactly_one_win(make_app, committing_database, served_database):
    from api.booking.models import ReservationStatus as S

    seeded = make_app(database_url=committing_database)
    with seeded.app_context():
        bistro = build_restaurant(tables=[(BOOKINGS, 2)])
        password_hash = PasswordHasher().hash("correct horse battery staple")
        staff = User(email="floor@example.com", password_hash=password_hash, role=Role.STAFF, restaurant_id=bistro.id)
        guest = User(email="guest@example.com", password_hash=password_hash)
        db.session.add_all([staff, guest])
        db.session.commit()
        staff_headers = {"Authorization": f"Bearer {session_token(staff)}"}
        guest_headers = {"Authorization": f"Bearer {session_token(guest)}"}
        booked = [
            str(place(bistro, status=S.CONFIRMED, starts_in=timedelta(minutes=-30), user_id=guest.id).id)
            for _ in range(BOOKINGS)
        ]
        db.session.remove()
        db.engine.dispose()

    def requests_for(index: int, reservation_id: str) -> list[tuple[str, str, str, dict, dict]]:
        seat = ("seat", "POST", f"/api/reservations/{reservation_id}/seat", {}, staff_headers)
        if index % 2:
            cancel = ("cancel", "DELETE", f"/api/reservations/{reservation_id}", {}, guest_headers)
        else:
            cancel = ("cancel", "POST", f"/api/reservations/{reservation_id}/cancel", {"reason": "x"}, staff_headers)
        return [(reservation_id, *seat), (reservation_id, *cancel)]

    calls = [call for index, rid in enumerate(booked) for call in requests_for(index, rid)]
    start = threading.Barrier(len(calls))

    with gunicorn_server(served_database, workers=4, env=live_env()) as server:

        def call(item):
            reservation_id, what, method, path, body, headers = item
            with requests.Session() as session:
                start.wait()
                response = session.request(method, server.url(path), json=body, headers=headers, timeout=60)
            return reservation_id, what, response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            answers = list(pool.map(call, calls))

    winners: dict[str, str] = {}
    for reservation_id, what, status, payload in answers:
        if status == 200:
            assert reservation_id not in winners, f"both moves of {reservation_id} won"
            winners[reservation_id] = what
        else:
            assert (status, payload["code"]) == (409, "INVALID_TRANSITION"), payload
            assert payload["details"]["status"] in ("seated", "cancelled")
    assert sorted(winners) == sorted(booked), "one move won on every booking"

    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            status = dict(conn.execute(text("SELECT id::text, status FROM reservations")).all())
            events = conn.execute(
                text(
                    "SELECT reservation_id::text, action, from_status, to_status FROM reservation_events"
                    " WHERE reason <> 'setup'"
                )
            ).all()
            claims = dict(
                conn.execute(text("SELECT reservation_id::text, count(*) FROM table_occupancies GROUP BY 1")).all()
            )
            assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()

    expected_status = {"seat": "seated", "cancel": "cancelled"}
    assert status == {rid: expected_status[what] for rid, what in winners.items()}
    assert sorted(events) == sorted((rid, what, "confirmed", expected_status[what]) for rid, what in winners.items()), (
        "exactly one audit row per booking: the winner's"
    )
    assert claims == {rid: 1 for rid, what in winners.items() if what == "seat"}
    print(f"seat won {sum(w == 'seat' for w in winners.values())} of {BOOKINGS} races, cancel the others")
