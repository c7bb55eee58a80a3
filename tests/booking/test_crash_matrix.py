"""The deposit confirmation dies at every step; the reconciler always leaves money and bookings in agreement.

Every case must end in one of two states, never anything in between:
- a reservation, its deposit captured exactly once and marked paid; or
- no reservation and nothing captured (the authorisation voided, or never made).

In-process, a test-only fault point makes `confirm_reservation` raise between its steps. Through
gunicorn, the same point with `:exit` makes the worker process die on the spot (`os._exit`), the
client's connection drops, and the reconciler runs afterwards in another process.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import requests
from argon2 import PasswordHasher

from api import faults
from api.accounts.models import User
from api.booking import checkout, holds
from api.extensions import db
from tests.booking.app_flow import app_restaurant, confirm_body, future_day, hold_body, money_state
from tests.conftest import TEST_SETTINGS, session_token
from tests.support.live_server import gunicorn_server

WEDNESDAY = date(2026, 3, 11)  # the `now` fixture is Monday 2 March 2026, 15:00 UTC

OUTCOME = {
    "after_payment_row": {"reserved": False, "payments": ["failed"], "intents": [None]},
    "after_authorize": {"reserved": False, "payments": ["voided"], "intents": ["canceled"]},
    "after_reservation_commit": {"reserved": True, "payments": ["captured"], "intents": ["succeeded"]},
    "after_capture": {"reserved": True, "payments": ["captured"], "intents": ["succeeded"]},
}


def assert_money_and_booking_agree(state: dict, deposit_cents: int) -> None:
    reservation = state["reservation"]
    if reservation is not None:
        assert state["charges"] == 1
        assert state["captured_cents"] == deposit_cents and state["refunded_cents"] == 0
        assert reservation.deposit_paid is True
    else:
        assert state["captured_cents"] - state["refunded_cents"] == 0
        assert state["charges"] <= 1


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("point", checkout.FAULT_POINTS)
def test_a_confirmation_dying_at_each_step_is_repaired_by_the_reconciler(point, app, customer, now, monkeypatch):
    restaurant = app_restaurant()
    hold_id = holds.create_hold(
        actor=customer,
        user_id=None,
        restaurant_id=restaurant.id,
        service_date=WEDNESDAY,
        wall_time=time(19, 0),
        party_size=2,
        now=now,
    ).hold.id
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(settings, fault_injection_point=point))
    with pytest.raises(faults.InjectedFault):
        checkout.confirm_reservation(
            actor=customer, hold_id=hold_id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
        )
    monkeypatch.setitem(app.config, "SETTINGS", settings)

    # The guest never retries: the hold expires, the grace period passes, the reconciler runs (twice: idempotent).
    checkout.reconcile_payments(now + timedelta(hours=1))
    assert checkout.reconcile_payments(now + timedelta(hours=2)).total() == 0

    state = money_state(hold_id)
    expected = OUTCOME[point]
    assert (state["reservation"] is not None) == expected["reserved"]
    assert state["payments"] == expected["payments"]
    assert state["intents"] == expected["intents"]
    assert_money_and_booking_agree(state, 5000)


@pytest.mark.parametrize("point", ["after_authorize", "after_reservation_commit"])
def test_a_gunicorn_worker_killed_mid_confirmation_is_repaired(point, committing_database, make_app):
    live = make_app(database_url=committing_database)
    with live.app_context():
        restaurant = app_restaurant()
        guest = User(email=f"crash-{uuid.uuid4().hex[:8]}@example.com", password_hash=PasswordHasher().hash("x" * 12))
        db.session.add(guest)
        db.session.commit()
        token = session_token(guest)
        day = future_day(restaurant, 7)
        hold_request = hold_body(restaurant, guest, day)
    headers = {"Authorization": f"Bearer {token}"}
    env = {"ENV": "test", "JWT_SECRET_KEY": TEST_SETTINGS["jwt_secret_key"], "FAULT_INJECTION_POINT": f"{point}:exit"}

    with gunicorn_server(committing_database, workers=2, env=env) as server:
        held = requests.post(server.url("/api/reservations/hold"), json=hold_request, headers=headers, timeout=30)
        assert held.status_code == 201, held.text
        hold_id = held.json()["hold"]["holdId"]
        with live.app_context():
            body = confirm_body(hold_id, guest)
        with pytest.raises(requests.ConnectionError):  # the worker died mid-request
            requests.post(server.url("/api/reservations/confirm"), json=body, headers=headers, timeout=30)
        # The master replaced the dead worker; the service still answers.
        assert requests.get(server.url("/health"), timeout=30).status_code == 200

    with live.app_context():
        state = money_state(hold_id)
        assert state["payments"] == ["authorized"]  # the crash left it half done
        checkout.reconcile_payments(datetime.now(UTC) + timedelta(hours=1))
        state = money_state(hold_id)
        expected = OUTCOME[point]
        assert (state["reservation"] is not None) == expected["reserved"]
        assert state["payments"] == expected["payments"] and state["intents"] == expected["intents"]
        assert_money_and_booking_agree(state, 5000)
        db.session.remove()
        db.engine.dispose()
