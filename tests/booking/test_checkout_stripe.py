"""The app flow end to end with the real `stripe` SDK, over HTTP, against the loopback Stripe stand-in.

Hold, confirm (PaymentIntent with manual capture, then capture), a decline, a crash repaired by
the reconciler, and a cancellation refund: the same code paths as with the fake gateway, with
StripeGateway pointed at `tests/support/stripe_standin.py` (never a patched SDK).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from api.booking import checkout
from api.booking.models import Reservation
from api.extensions import db
from api.payments.models import Payment
from api.payments.stripe_gateway import MAX_NETWORK_RETRIES
from tests.booking.app_flow import app_restaurant, confirm_body, future_day, hold_body
from tests.conftest import bearer
from tests.support.stripe_standin import API_KEY, StripeStandIn, stripe_standin

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with stripe_standin() as server:
        yield server


@pytest.fixture
def stripe_app(make_app, standin) -> Iterator[Flask]:
    application = make_app(
        stripe_secret_key=API_KEY, stripe_api_base=standin.base_url, stripe_webhook_secret="whsec_test_standin"
    )
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def hold_and_confirm(client, restaurant, guest, token="pm_card_visa"):
    headers = bearer(guest)
    day = future_day(restaurant, 7)
    hold_id = client.post("/api/reservations/hold", json=hold_body(restaurant, guest, day), headers=headers).get_json()[
        "hold"
    ]["holdId"]
    return hold_id, client.post("/api/reservations/confirm", json=confirm_body(hold_id, guest, token), headers=headers)


def test_confirm_and_cancel_through_stripe(stripe_app, standin, customer):
    client = stripe_app.test_client()
    restaurant = app_restaurant()
    hold_id, response = hold_and_confirm(client, restaurant, customer)
    assert response.status_code == 201, response.get_json()
    reservation = db.session.get(Reservation, uuid.UUID(response.get_json()["reservation"]["reservationId"]))
    assert (reservation.deposit_paid, reservation.payment_brand, reservation.payment_last4) == (True, "Visa", "4242")

    assert standin.charges_created == 1
    (intent,) = standin.intents.values()
    assert intent["status"] == "succeeded" and intent["amount"] == 5000 and intent["capture_method"] == "manual"
    assert intent["amount_received"] == 5000
    # Every mutating call carried our deterministic key.
    keys = [r.idempotency_key for r in standin.log if r.method == "POST"]
    assert f"deposit:{hold_id}:1" in keys and all(keys)

    cancelled = client.delete(f"/api/reservations/{reservation.id}", json={}, headers=bearer(customer))
    assert cancelled.get_json()["refundAmount"] == 50
    (refund,) = standin.refunds.values()
    assert refund["amount"] == 5000 and refund["payment_intent"] == intent["id"]


def test_a_decline_at_stripe_is_402_and_charges_nothing(stripe_app, standin, customer):
    client = stripe_app.test_client()
    _, response = hold_and_confirm(client, app_restaurant(), customer, token="pm_card_chargeDeclined")
    assert (response.status_code, response.get_json()["code"]) == (402, "PAYMENT_DECLINED")
    assert standin.charges_created == 0


def test_a_lost_capture_answer_is_finished_by_the_reconciler(stripe_app, standin, customer):
    client = stripe_app.test_client()
    restaurant = app_restaurant()
    headers = bearer(customer)
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, future_day(restaurant, 7)), headers=headers
    ).get_json()["hold"]["holdId"]
    real_capture = checkout.payments_service.capture_payment

    def capture_and_lose_answer(**kwargs):
        # Stripe captures, and no answer ever arrives (not even to the SDK's own retries).
        standin.lose_next_responses(MAX_NETWORK_RETRIES + 1)
        return real_capture(**kwargs)

    checkout.payments_service.capture_payment = capture_and_lose_answer
    try:
        response = client.post("/api/reservations/confirm", json=confirm_body(hold_id, customer), headers=headers)
    finally:
        checkout.payments_service.capture_payment = real_capture
    assert response.status_code == 201  # the reservation stands
    reservation = db.session.get(Reservation, uuid.UUID(response.get_json()["reservation"]["reservationId"]))
    assert reservation.deposit_paid is False

    checkout.reconcile_payments(datetime.now(UTC) + timedelta(minutes=5))
    db.session.expire_all()
    payment = db.session.query(Payment).filter_by(subject_id=uuid.UUID(hold_id)).one()
    assert payment.status == "captured" and db.session.get(Reservation, reservation.id).deposit_paid is True
    assert standin.charges_created == 1
    assert [i["amount_received"] for i in standin.intents.values()] == [5000]
