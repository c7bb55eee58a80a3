"""Changes of bookings racing each other and new bookings through gunicorn; the rows decide.

- two guests move their bookings onto the last free table at once: one wins, the other keeps
  their old booking exactly as it was (time, table, claim, no audit row);
- a change races a new booking (a hold) for the last free table: one of them gets it;
- ten changes of one booking at once (times, party sizes, requests): they queue, the booking ends
  in one consistent state with one claim, one audit row per successful change, and its deposit
  equals what the gateway holds (charged and refunded differences included);
- negative control: with the advisory locks switched off (DISABLE_ALLOCATION_LOCK, test-only)
  the same races show RACE_LOST, and the exclusion constraint alone still sells nothing twice.
  (The ten changes of one booking have no such control: they are serialised by the booking's
  row lock, which no setting turns off.)
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from api.booking import checkout
from api.extensions import db
from tests.booking.app_flow import book_live, live_env, seed_live_database
from tests.support import invariants
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing


def query(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def assert_nothing_sold_twice(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            invariants.assert_nothing_sold_twice(conn)
    finally:
        engine.dispose()


def book(server, restaurant_id: str, user: tuple[str, dict], day: date, wall: str, party: int = 2) -> str:
    return book_live(server.base_url, restaurant_id, user, day, wall, party)


def at_once(calls: list) -> list[tuple[int, dict]]:
    """Run every call at the same moment (one thread and one connection each, released by a barrier)."""
    start = threading.Barrier(len(calls))

    def run(call):
        method, url, body, headers = call
        with requests.Session() as session:
            start.wait()
            response = session.request(method, url, json=body, headers=headers, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def booking_state(database_url: str, reservation_id: str) -> tuple:
    """A booking as the database has it: time, table, party, deposit, its claims, its change audit rows."""
    [row] = query(
        database_url,
        "SELECT starts_at, ends_at, table_id, party_size, deposit_cents FROM reservations WHERE id = :id",
        id=reservation_id,
    )
    claims = query(
        database_url,
        "SELECT table_id, starts_at, ends_at FROM table_occupancies WHERE reservation_id = :id ORDER BY id",
        id=reservation_id,
    )
    changes = query(
        database_url,
        "SELECT count(*) FROM reservation_events WHERE reservation_id = :id AND action = 'change'",
        id=reservation_id,
    )[0][0]
    return tuple(row), [tuple(c) for c in claims], changes


def patch(server, reservation_id: str, user: tuple[str, dict], body: dict) -> tuple:
    _, headers = user
    return ("PATCH", server.url(f"/api/reservations/{reservation_id}"), {"userId": "current_user", **body}, headers)


# --- two guests, one table --------------------------------------------------------------------


def test_two_guests_moving_onto_the_last_free_table_one_wins_the_other_keeps_theirs(
    committing_database, served_database, make_app
):
    # Three tables: two guests at 17:00, two other guests at 20:00, so one table is free at 20:00.
    seeded = seed_live_database(make_app, committing_database, users=4, tables=[(3, 2)])
    day = seeded["day"]
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        first = book(server, seeded["restaurant_id"], seeded["users"][0], day, "17:00")
        second = book(server, seeded["restaurant_id"], seeded["users"][1], day, "17:00")
        for other in seeded["users"][2:]:
            book(server, seeded["restaurant_id"], other, day, "20:00")
        before = {rid: booking_state(committing_database, rid) for rid in (first, second)}
        answers = at_once(
            [
                patch(server, first, seeded["users"][0], {"time": "20:00"}),
                patch(server, second, seeded["users"][1], {"time": "20:00"}),
            ]
        )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409], answers
    [(_, lost)] = [(s, body) for s, body in answers if s == 409]
    assert lost["code"] in {"FULLY_BOOKED", "RACE_LOST"}
    winner = next(body["reservationId"] for s, body in answers if s == 200)
    loser = second if winner == first else first
    assert booking_state(committing_database, loser) == before[loser]  # exactly as it was
    (row, claims, audited) = booking_state(committing_database, winner)
    assert audited == 1 and claims == [(row[2], row[0], row[1])]
    assert query(committing_database, "SELECT count(*) FROM reservation_events WHERE action = 'change'")[0][0] == 1
    assert_nothing_sold_twice(committing_database)


# --- a change and a new booking, one table ----------------------------------------------------


def test_a_change_racing_a_new_booking_for_the_last_table(committing_database, served_database, make_app):
    # Two tables; per round: a guest at 17:00 moves to 20:00 while another holds 20:00, and a
    # third guest already has the other table at 20:00.
    rounds = 3
    seeded = seed_live_database(make_app, committing_database, users=3 * rounds, tables=[(2, 2)])
    outcomes: Counter = Counter()
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        for number in range(rounds):
            day = seeded["day"] + timedelta(days=number)
            mover, taker, newcomer = seeded["users"][3 * number : 3 * number + 3]
            moving = book(server, seeded["restaurant_id"], mover, day, "17:00")
            book(server, seeded["restaurant_id"], taker, day, "20:00")
            before = booking_state(committing_database, moving)
            hold = {
                "userId": newcomer[0],
                "restaurantId": seeded["restaurant_id"],
                "date": day.isoformat(),
                "time": "20:00",
                "partySize": 2,
            }
            (changed, change_body), (held, hold_body) = at_once(
                [
                    patch(server, moving, mover, {"time": "20:00"}),
                    ("POST", server.url("/api/reservations/hold"), hold, newcomer[1]),
                ]
            )
            assert sorted([changed, held]) in ([200, 409], [201, 409]), (changed, change_body, held, hold_body)
            if changed == 200:
                outcomes["change won"] += 1
                assert hold_body["code"] in {"FULLY_BOOKED", "RACE_LOST"}
            else:
                outcomes["booking won"] += 1
                assert change_body["code"] in {"FULLY_BOOKED", "RACE_LOST"}
                assert booking_state(committing_database, moving) == before
    print(f"change vs new booking: {dict(outcomes)}")
    assert sum(outcomes.values()) == rounds
    assert_nothing_sold_twice(committing_database)


# --- ten changes of one booking ---------------------------------------------------------------

TEN = [
    {"time": "17:00", "partySize": 4},
    {"time": "17:30"},
    {"time": "18:00", "partySize": 2, "specialRequests": "third"},
    {"time": "18:30", "partySize": 3},
    {"partySize": 1},
    {"time": "19:30", "specialRequests": "sixth"},
    {"time": "20:00", "partySize": 4},
    {"time": "20:30"},
    {"time": "21:00", "partySize": 2},
    {"time": "21:30", "specialRequests": "tenth"},
]


def test_ten_concurrent_changes_of_one_booking_end_consistent(committing_database, served_database, make_app):
    seeded = seed_live_database(make_app, committing_database, users=1, tables=[(2, 2), (2, 4)])
    guest = seeded["users"][0]
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        reservation = book(server, seeded["restaurant_id"], guest, seeded["day"], "19:00")
        answers = at_once([patch(server, reservation, guest, body) for body in TEN])
        # Let the reconciler (as the worker would) finish any difference a slow gateway left owed.
        with seeded["app"].app_context():
            checkout.reconcile_payments(datetime.now(UTC) + timedelta(hours=1))
            db.session.remove()
            db.engine.dispose()

    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 409}, answers
    assert {body["code"] for status, body in answers if status == 409} <= {"RACE_LOST"}, answers
    assert statuses[200] >= 1
    (row, claims, audited) = booking_state(committing_database, reservation)
    starts_at, ends_at, table_id, party, deposit = row
    # One claim, for exactly the stay the row says, on a table that seats the party.
    assert claims == [(table_id, starts_at, ends_at)]
    [(low, high)] = query(
        committing_database, "SELECT min_seats, max_seats FROM dining_tables WHERE id = :t", t=table_id
    )
    assert low <= party <= high
    # One audit row per successful change, and the last one's new values are the booking's.
    assert audited == statuses[200]
    events = query(
        committing_database,
        "SELECT details FROM reservation_events WHERE reservation_id = :id AND action = 'change' ORDER BY id",
        id=reservation,
    )
    last_party = [d["partySize"][1] for (d,) in events if "partySize" in d]
    assert party == (last_party[-1] if last_party else 2)
    assert deposit == 2500 * party
    # The money agrees: the gateway holds exactly the booking's deposit, each difference moved once.
    adjustments = query(
        committing_database,
        "SELECT count(*), count(*) FILTER (WHERE status = 'settled') FROM deposit_adjustments"
        " WHERE reservation_id = :id",
        id=reservation,
    )[0]
    assert adjustments[0] == adjustments[1] == sum(1 for (d,) in events if "depositAmountCents" in d)
    [(captured, refunded)] = query(
        committing_database,
        """
        SELECT coalesce(sum(i.amount_captured_cents), 0), coalesce(sum(i.amount_refunded_cents), 0)
          FROM fake_gateway_intents i JOIN payments p ON p.idempotency_key = i.idempotency_key
         WHERE p.subject_id = (SELECT hold_id FROM reservations WHERE id = :id)
            OR p.subject_id IN (SELECT id FROM deposit_adjustments WHERE reservation_id = :id)
        """,
        id=reservation,
    )
    assert captured - refunded == deposit
    assert_nothing_sold_twice(committing_database)


# --- a double-click on a larger party ------------------------------------------------------------


def test_a_larger_party_clicked_four_times_at_once_is_charged_once(committing_database, served_database, make_app):
    seeded = seed_live_database(make_app, committing_database, users=1, tables=[(2, 4)])
    guest = seeded["users"][0]
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        reservation = book(server, seeded["restaurant_id"], guest, seeded["day"], "19:00")
        answers = at_once([patch(server, reservation, guest, {"partySize": 4}) for _ in range(4)])
    assert [status for status, _ in answers] == [200] * 4, answers
    assert {body["depositAmount"] for _, body in answers} == {100}
    (row, _, audited) = booking_state(committing_database, reservation)
    assert row[3:] == (4, 10000) and audited == 1
    [(payments, charges, captured)] = query(
        committing_database,
        """
        SELECT count(DISTINCT p.id), count(*) FILTER (WHERE i.authorized_at IS NOT NULL), sum(i.amount_captured_cents)
          FROM payments p JOIN fake_gateway_intents i ON i.idempotency_key = p.idempotency_key
        """,
    )
    assert (payments, charges, captured) == (2, 2, 10000)  # the deposit, and one charge of the difference


# --- negative control -------------------------------------------------------------------------


def test_without_the_locks_the_constraint_alone_decides_the_change_races(
    committing_database, served_database, make_app
):
    """The races are real: without the advisory locks some loser meets the exclusion constraint
    (RACE_LOST), and still at most one contender gets the last table each round, every losing
    mover's booking unchanged."""
    movers, fillers, newcomers, rounds = 4, 4, 4, 6
    size = movers + fillers + newcomers
    seeded = seed_live_database(make_app, committing_database, users=size * rounds, tables=[(5, 2)])
    outcomes: Counter = Counter()
    won = 0
    with gunicorn_server(served_database, workers=4, env=live_env(DISABLE_ALLOCATION_LOCK="true")) as server:
        for number in range(rounds):
            day = seeded["day"] + timedelta(days=number)
            group = seeded["users"][number * size : (number + 1) * size]
            moving = [book(server, seeded["restaurant_id"], guest, day, "17:00") for guest in group[:movers]]
            for guest in group[movers : movers + fillers]:  # four of the five tables taken at 20:00
                book(server, seeded["restaurant_id"], guest, day, "20:00")
            before = {rid: booking_state(committing_database, rid) for rid in moving}
            calls = [patch(server, rid, guest, {"time": "20:00"}) for rid, guest in zip(moving, group, strict=False)]
            for user_id, headers in group[movers + fillers :]:
                hold = {
                    "userId": user_id,
                    "restaurantId": seeded["restaurant_id"],
                    "date": day.isoformat(),
                    "time": "20:00",
                    "partySize": 2,
                }
                calls.append(("POST", server.url("/api/reservations/hold"), hold, headers))
            answers = at_once(calls)
            assert {status for status, _ in answers} <= {200, 201, 409}, answers
            winners = sum(status in (200, 201) for status, _ in answers)
            assert winners <= 1, answers
            won += winners
            outcomes.update(body["code"] for status, body in answers if status == 409)
            for rid, (status, _) in zip(moving, answers, strict=False):
                if status == 409:
                    assert booking_state(committing_database, rid) == before[rid]
            assert_nothing_sold_twice(committing_database)
            if outcomes["RACE_LOST"]:
                break
    print(f"negative control outcomes: {dict(outcomes)}")
    assert won >= 1
    assert set(outcomes) <= {"RACE_LOST", "FULLY_BOOKED"}
    assert outcomes["RACE_LOST"] >= 1, outcomes
