"""StripeGateway through the real `stripe` SDK over HTTP, against the loopback stand-in: what only
an HTTP gateway can get wrong (keys on the wire, lost answers, outages, credentials)."""

from __future__ import annotations

import uuid

import pytest

from api.payments.gateway import GatewayStatus, GatewayUnavailable, PaymentDeclined
from api.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import WEBHOOK_SECRET


def authorize(gateway: StripeGateway, idempotency_key: str, payment_method: str = "pm_card_visa"):
    return gateway.authorize(
        amount_cents=5000,
        currency="usd",
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        metadata={"payment_id": "p"},
    )


def test_every_mutating_call_carries_our_idempotency_key(stripe_gateway, standin):
    auth = authorize(stripe_gateway, "deposit:s:1")
    stripe_gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key="capture:p")
    stripe_gateway.refund(gateway_payment_id=auth.gateway_payment_id, amount_cents=100, idempotency_key="refund:p:r")
    posts = [(r.path.rsplit("/", 1)[-1], r.idempotency_key) for r in standin.log if r.method == "POST"]
    assert posts == [("payment_intents", "deposit:s:1"), ("capture", "capture:p"), ("refunds", "refund:p:r")]


def test_authorization_is_created_and_confirmed_for_manual_capture_in_one_call(stripe_gateway, standin):
    auth = authorize(stripe_gateway, "deposit:one-call:1")
    intent = standin.intents[auth.gateway_payment_id]
    assert intent["capture_method"] == "manual"
    assert intent["status"] == "requires_capture"
    assert intent["metadata"] == {"payment_id": "p", "idempotency_key": "deposit:one-call:1"}
    assert len([r for r in standin.log if r.method == "POST"]) == 1


def test_a_lost_answer_is_recovered_by_the_sdk_retry_with_the_same_key(stripe_gateway, standin):
    standin.lose_next_responses(1)
    auth = authorize(stripe_gateway, "deposit:lost:1")
    assert auth.status == GatewayStatus.AUTHORIZED
    assert standin.charges_created == 1
    attempts = standin.requests_to("/v1/payment_intents")
    assert [r.replayed for r in attempts] == [False, True]


def test_an_outage_is_gateway_unavailable_and_the_retry_later_charges_once(stripe_gateway, standin):
    standin.fail_next(3)  # more than the SDK's own retries
    with pytest.raises(GatewayUnavailable):
        authorize(stripe_gateway, "deposit:outage:1")
    assert standin.charges_created == 0
    authorize(stripe_gateway, "deposit:outage:1")
    authorize(stripe_gateway, "deposit:outage:1")
    assert standin.charges_created == 1


def test_answers_lost_beyond_the_sdk_retries_leave_one_charge_that_a_later_retry_finds(stripe_gateway, standin):
    standin.lose_next_responses(3)
    with pytest.raises(GatewayUnavailable):
        authorize(stripe_gateway, "deposit:lost-more:1")
    assert standin.charges_created == 1  # it happened; we did not hear
    found = stripe_gateway.find_by_idempotency_key("deposit:lost-more:1")
    assert found is not None and found.status == GatewayStatus.AUTHORIZED
    again = authorize(stripe_gateway, "deposit:lost-more:1")
    assert again.gateway_payment_id == found.gateway_payment_id
    assert standin.charges_created == 1


def test_a_wrong_api_key_is_an_outage_for_the_guest_not_a_decline(standin):
    gateway = StripeGateway(api_key="sk_test_wrong", webhook_secret=WEBHOOK_SECRET, api_base=standin.base_url)
    with pytest.raises(GatewayUnavailable):
        authorize(gateway, "deposit:wrong-key:1")


def test_the_sdk_reaches_the_stand_in_not_stripe(stripe_gateway, standin):
    authorize(stripe_gateway, f"deposit:{uuid.uuid4()}:1")
    assert standin.log, "the SDK did not call the configured api_base"


def test_decline_reports_the_failed_payment_intent(stripe_gateway, standin):
    with pytest.raises(PaymentDeclined) as declined:
        authorize(stripe_gateway, "deposit:declined:1", "pm_card_chargeDeclined")
    intent = standin.intents[declined.value.gateway_payment_id]
    assert intent["status"] == "requires_payment_method"
    assert standin.charges_created == 0
    retrieved = stripe_gateway.retrieve(declined.value.gateway_payment_id)
    assert retrieved.status == GatewayStatus.FAILED
    assert retrieved.failure_code == "generic_decline"
