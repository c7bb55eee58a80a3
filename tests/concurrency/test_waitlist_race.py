"""Three tables freed at once by three parallel cancellations, three workers running: exactly three offers.

Three guests fill the restaurant's three tables at 19:00; five more join its waitlist for 19:00,
in order. The three cancellations are released together across four gunicorn workers, each
queueing `table.freed`, while three worker processes take messages at once. Afterwards exactly
the first three entries hold an offer, one table each, and the last two still wait in order.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.booking.app_flow import live_env, seed_live_database
from tests.faults.harness import worker_process
from tests.support.invariants import assert_nothing_sold_twice
from tests.support.live_server import gunicorn_server

pytestmark = pytest.mark.committing

TABLES, WAITING, WORKERS = 3, 5, 3


def test_parallel_cancellations_offer_each_freed_table_once_in_waitlist_order(
    committing_database, served_database, make_app
):
    seeded = seed_live_database(make_app, committing_database, users=TABLES + WAITING, tables=[(TABLES, 2)])
    day, restaurant_id = seeded["day"].isoformat(), seeded["restaurant_id"]
    diners, waiters = seeded["users"][:TABLES], seeded["users"][TABLES:]
    with gunicorn_server(served_database, workers=4, env=live_env()) as server:
        booked = []
        for user_id, headers in diners:
            body = {"userId": user_id, "restaurantId": restaurant_id, "date": day, "time": "19:00", "partySize": 2}
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
            booked.append((user_id, headers, confirmed.json()["reservation"]["reservationId"]))
        for _, headers in waiters:
            joined = requests.post(
                server.url(f"/api/restaurants/{restaurant_id}/waitlist"),
                json={"date": day, "startTime": "19:00", "endTime": "19:00", "partySize": 2},
                headers=headers,
                timeout=60,
            )
            assert joined.status_code == 201, joined.text

        start = threading.Barrier(TABLES)

        def cancel(item):
            user_id, headers, reservation_id = item
            start.wait()
            return requests.delete(
                server.url(f"/api/reservations/{reservation_id}"), json={"userId": user_id}, headers=headers, timeout=60
            )

        with ExitStack() as workers:
            for _ in range(WORKERS):
                workers.enter_context(worker_process(served_database, live_env()))
            with ThreadPoolExecutor(max_workers=TABLES) as pool:
                assert [r.status_code for r in pool.map(cancel, booked)] == [200] * TABLES
            offered = _wait_for_offers(committing_database, TABLES)

    assert offered == [str(user_id) for user_id, _ in waiters[:TABLES]]
    engine = create_engine(committing_database)
    try:
        with engine.connect() as conn:
            assert_nothing_sold_twice(conn)
            tables = (
                conn.execute(
                    text(
                        "SELECT h.table_id FROM waitlist_entries w JOIN holds h ON h.id = w.offer_hold_id"
                        " WHERE w.status = 'offered'"
                    )
                )
                .scalars()
                .all()
            )
            assert len(set(tables)) == TABLES  # one offer per freed table
            still = (
                conn.execute(
                    text("SELECT user_id::text FROM waitlist_entries WHERE status = 'waiting' ORDER BY created_at")
                )
                .scalars()
                .all()
            )
            assert still == [str(user_id) for user_id, _ in waiters[TABLES:]]
    finally:
        engine.dispose()


def _wait_for_offers(database_url: str, expected: int, timeout: float = 60.0) -> list[str]:
    """The users holding offers, oldest entry first, once `expected` exist and the queue has drained."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                pending = conn.execute(
                    text("SELECT count(*) FROM outbox_messages WHERE kind = 'table.freed' AND processed_at IS NULL")
                ).scalar_one()
                offered = (
                    conn.execute(
                        text("SELECT user_id::text FROM waitlist_entries WHERE status = 'offered' ORDER BY created_at")
                    )
                    .scalars()
                    .all()
                )
                conn.commit()
                if len(offered) >= expected and pending == 0:
                    return list(offered)
                time.sleep(0.2)
    finally:
        engine.dispose()
    raise AssertionError(f"expected {expected} offers within {timeout} s, found {offered} ({pending} messages left)")
