"""A trade accepted while one side cancels, through gunicorn: the trade fails cleanly or the swap stands.

Six pairs of guests each have a proposal open; for every pair the target's accept and the
requester's cancellation are released at once across four workers. Whichever commits first, the
other sees it: either the swap happened and the requester then cancelled their (swapped) booking,
or the cancellation came first and the accept answered 409 TRADE_STALE leaving the target's
booking exactly as it was. Never a swap onto a cancelled booking, never a claim left behind.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.booking.app_flow import live_env, seed_live_database
from tests.support.invariants import assert_nothing_sold_twice
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

PAIRS = 6


def test_accept_racing_a_cancellation_either_swaps_or_changes_nothing(committing_database, served_database, make_app):
    seeded = seed_live_database(
        make_app, committing_database, users=2 * PAIRS, tables=[(n, 2) for n in range(1, 2 * PAIRS + 1)]
    )
    day = seeded["day"].isoformat()
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:

        def book(user, wall):
            user_id, headers = user
            body = {
                "userId": user_id,
                "restaurantId": seeded["restaurant_id"],
                "date": day,
                "time": wall,
                "partySize": 2,
            }
            held = requests.post(server.url("/api/reservations/hold"), json=body, headers=headers, timeout=60)
            assert held.status_code == 201, held.text
            confirm = {
                "holdId": held.json()["hold"]["holdId"],
                "userId": user_id,
                "paymentMethod": {"type": "credit-card", "token": "pm_card_visa"},
            }
            confirmed = requests.post(
                server.url("/api/reservations/confirm"), json=confirm, headers=headers, timeout=60
            )
            assert confirmed.status_code == 201, confirmed.text
            return confirmed.json()["reservation"]["reservationId"]

        pairs = []
        for i in range(PAIRS):
            requester, target = seeded["users"][2 * i], seeded["users"][2 * i + 1]
            mine, theirs = book(requester, "18:00"), book(target, "21:00")
            proposed = requests.post(
                server.url("/api/trades"),
                json={"requesterReservationId": mine, "targetReservationId": theirs},
                headers=requester[1],
                timeout=60,
            )
            assert proposed.status_code == 201, proposed.text
            pairs.append((requester, target, mine, theirs, proposed.json()["id"]))

        start = threading.Barrier(2 * PAIRS)

        def accept(pair):
            _, target, _, _, trade_id = pair
            start.wait()
            return requests.post(
                server.url(f"/api/trades/{trade_id}"), json={"action": "accept"}, headers=target[1], timeout=60
            )

        def cancel(pair):
            requester, _, mine, _, _ = pair
            start.wait()
            return requests.delete(
                server.url(f"/api/reservations/{mine}"), json={"userId": requester[0]}, headers=requester[1], timeout=60
            )

        with ThreadPoolExecutor(max_workers=2 * PAIRS) as pool:
            accepts = [pool.submit(accept, pair) for pair in pairs]
            cancels = [pool.submit(cancel, pair) for pair in pairs]
            answers = [(a.result(), c.result()) for a, c in zip(accepts, cancels, strict=True)]

    engine = create_engine(committing_database)
    outcomes = set()
    try:
        with engine.connect() as conn:
            assert_nothing_sold_twice(conn)
            for (accepted, cancelled), (_, _, mine, theirs, trade_id) in zip(answers, pairs, strict=True):
                assert cancelled.status_code == 200, cancelled.text  # the guest may always cancel their own
                status = conn.execute(text("SELECT status FROM trades WHERE id = :id"), {"id": trade_id}).scalar_one()
                rows = dict(
                    conn.execute(
                        text(
                            "SELECT id::text, to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')"
                            " || ' ' || status FROM reservations WHERE id IN (:a, :b)"
                        ),
                        {"a": mine, "b": theirs},
                    ).all()
                )
                if accepted.status_code == 200:
                    outcomes.add("swapped")
                    assert status == "accepted"
                    # The swap committed first; the cancellation then cancelled the requester's new (later) booking.
                    assert rows[mine].endswith("cancelled") and rows[theirs].endswith("confirmed")
                    assert rows[mine].split()[0] > rows[theirs].split()[0]
                else:
                    outcomes.add("refused")
                    assert (accepted.status_code, accepted.json()["code"]) == (409, "TRADE_STALE"), accepted.text
                    assert status == "pending"
                    assert rows[mine].endswith("cancelled") and rows[theirs].endswith("confirmed")
                    assert rows[mine].split()[0] < rows[theirs].split()[0]  # the target's booking did not move
                    events = conn.execute(
                        text(
                            "SELECT count(*) FROM reservation_events"
                            " WHERE action = 'trade' AND reservation_id IN (:a, :b)"
                        ),
                        {"a": mine, "b": theirs},
                    ).scalar_one()
                    assert events == 0
    finally:
        engine.dispose()
    assert outcomes  # at least one pair raced; which side wins each pair is the scheduler's choice
