"""Both gateways behave alike: each test runs with the fake and with Stripe (the real SDK over
HTTP against the loopback stand-in)."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from api.payments.gateway import (
    GatewayRejected,
    GatewayStatus,
    PaymentDeclined,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    sign_webhook_payload,
)
from tests.payments.conftest import WEBHOOK_SECRET, Charges


def key() -> str:
    return f"deposit:{uuid.uuid4()}:1"


def authorize(gateway, idempotency_key: str, payment_method: str = "pm_card_visa", amount_cents: int = 5000):
    return gateway.authorize(
        amount_cents=amount_cents,
        currency="usd",
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        metadata={"payment_id": idempotency_key},
    )


@pytest.fixture
def charges_at(gateway, gateway_kind, request) -> Charges:
    return Charges(gateway, request.getfixturevalue("standin") if gateway_kind == "stripe" else None)


@pytest.mark.parametrize(
    ("payment_method", "brand", "last4"),
    [("pm_card_visa", "visa", "4242"), ("pm_card_mastercard", "mastercard", "4444"), ("pm_card_amex", "amex", "8431")],
)
def test_authorization_holds_the_amount_and_reports_brand_and_last4_from_the_gateway(
    gateway, charges_at, payment_method, brand, last4
):
    k = key()
    result = authorize(gateway, k, payment_method)
    assert result.status == GatewayStatus.AUTHORIZED
    assert (result.card_brand, result.card_last4) == (brand, last4)
    assert result.amount_cents == 5000
    assert result.amount_captured_cents == 0
    assert charges_at.count(k) == 1


@pytest.mark.parametrize(
    ("payment_method", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_visa_chargeDeclinedLostCard", "lost_card"),
    ],
)
def test_declined_card_raises_payment_declined_with_its_code(gateway, charges_at, payment_method, decline_code):
    k = key()
    with pytest.raises(PaymentDeclined) as declined:
        authorize(gateway, k, payment_method)
    assert declined.value.decline_code == decline_code
    assert declined.value.gateway_payment_id
    assert charges_at.count(k) == 0


def test_unknown_payment_method_is_a_decline_not_an_outage(gateway):
    with pytest.raises(PaymentDeclined) as declined:
        authorize(gateway, key(), "pm_not_a_real_one")
    assert declined.value.decline_code in ("resource_missing", "invalid_payment_method")


def test_retry_with_the_same_key_charges_once_and_answers_the_same(gateway, charges_at):
    k = key()
    first = authorize(gateway, k)
    second = authorize(gateway, k)
    assert second.gateway_payment_id == first.gateway_payment_id
    assert charges_at.count(k) == 1


def test_declined_retry_with_the_same_key_answers_the_same_decline(gateway):
    k = key()
    with pytest.raises(PaymentDeclined) as first:
        authorize(gateway, k, "pm_card_chargeDeclined")
    with pytest.raises(PaymentDeclined) as second:
        authorize(gateway, k, "pm_card_chargeDeclined")
    assert first.value.gateway_payment_id == second.value.gateway_payment_id


def test_same_key_with_other_parameters_is_refused(gateway, charges_at):
    k = key()
    authorize(gateway, k, amount_cents=5000)
    with pytest.raises(GatewayRejected):
        authorize(gateway, k, amount_cents=9000)
    assert charges_at.count(k) == 1


def test_capture_takes_the_money_and_capturing_again_is_harmless(gateway):
    auth = authorize(gateway, key())
    captured = gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"capture:{uuid.uuid4()}")
    assert captured.status == GatewayStatus.CAPTURED
    assert captured.amount_captured_cents == 5000
    assert (captured.card_brand, captured.card_last4) == ("visa", "4242")
    # Same key (a retry) and another key (Stripe forgot the first after 24 h): both report the state.
    again = gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"capture:{uuid.uuid4()}")
    assert again.status == GatewayStatus.CAPTURED
    assert gateway.retrieve(auth.gateway_payment_id).amount_captured_cents == 5000


def test_void_releases_the_authorization_and_voiding_again_is_harmless(gateway):
    auth = authorize(gateway, key())
    voided = gateway.void(gateway_payment_id=auth.gateway_payment_id, idempotency_key="void:a")
    assert voided.status == GatewayStatus.CANCELED
    assert gateway.void(gateway_payment_id=auth.gateway_payment_id, idempotency_key="void:b").status == (
        GatewayStatus.CANCELED
    )
    assert gateway.retrieve(auth.gateway_payment_id).status == GatewayStatus.CANCELED


def test_void_after_capture_reports_captured_and_takes_nothing_back(gateway):
    auth = authorize(gateway, key())
    gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"capture:{uuid.uuid4()}")
    result = gateway.void(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"void:{uuid.uuid4()}")
    assert result.status == GatewayStatus.CAPTURED


def test_refund_with_the_same_key_refunds_once(gateway):
    auth = authorize(gateway, key())
    gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"capture:{uuid.uuid4()}")
    refund_key = f"refund:{uuid.uuid4()}:cancel"
    first = gateway.refund(gateway_payment_id=auth.gateway_payment_id, amount_cents=2500, idempotency_key=refund_key)
    second = gateway.refund(gateway_payment_id=auth.gateway_payment_id, amount_cents=2500, idempotency_key=refund_key)
    assert first.gateway_refund_id == second.gateway_refund_id
    assert first.status == "succeeded"
    assert gateway.retrieve(auth.gateway_payment_id).amount_refunded_cents == 2500


def test_refund_beyond_what_was_taken_is_refused(gateway):
    auth = authorize(gateway, key())
    gateway.capture(gateway_payment_id=auth.gateway_payment_id, idempotency_key=f"capture:{uuid.uuid4()}")
    gateway.refund(gateway_payment_id=auth.gateway_payment_id, amount_cents=4000, idempotency_key=f"r:{uuid.uuid4()}")
    with pytest.raises(GatewayRejected):
        gateway.refund(
            gateway_payment_id=auth.gateway_payment_id, amount_cents=1001, idempotency_key=f"r:{uuid.uuid4()}"
        )


def test_refund_of_an_uncaptured_payment_is_refused(gateway):
    auth = authorize(gateway, key())
    with pytest.raises(GatewayRejected):
        gateway.refund(
            gateway_payment_id=auth.gateway_payment_id, amount_cents=100, idempotency_key=f"r:{uuid.uuid4()}"
        )


def test_find_by_idempotency_key_finds_without_charging(gateway, charges_at):
    k = key()
    assert gateway.find_by_idempotency_key(k) is None
    auth = authorize(gateway, k)
    found = gateway.find_by_idempotency_key(k)
    assert found is not None and found.gateway_payment_id == auth.gateway_payment_id
    assert found.status == GatewayStatus.AUTHORIZED
    assert charges_at.count(k) == 1


def test_retrieve_of_an_unknown_payment_is_refused(gateway):
    with pytest.raises(GatewayRejected):
        gateway.retrieve("pi_doesnotexist")


def _event(event_type: str = "payment_intent.succeeded", intent_id: str = "pi_123") -> bytes:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type,
            "data": {"object": {"id": intent_id, "object": "payment_intent", "metadata": {"payment_id": "p-1"}}},
        }
    ).encode()


def _stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's scheme written out by hand: t=..., v1=HMAC-SHA256(secret, f"{t}.{payload}")."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), f"{timestamp}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_webhook_with_a_valid_signature_parses(gateway):
    payload = _event(intent_id="pi_abc")
    event = gateway.parse_webhook(payload, _stripe_signature(payload, WEBHOOK_SECRET, int(time.time())))
    assert event.type == "payment_intent.succeeded"
    assert event.gateway_payment_id == "pi_abc"
    assert event.metadata == {"payment_id": "p-1"}
    assert event.id.startswith("evt_")


def test_our_signing_helper_matches_stripes_scheme(gateway):
    payload = _event()
    gateway.parse_webhook(payload, sign_webhook_payload(payload, WEBHOOK_SECRET))


@pytest.mark.parametrize(
    "signature",
    [
        "forged",
        "",
        "t=1700000000,v1=" + "0" * 64,
        "signed-with-another-secret",
        "stale",
        "body-changed",
    ],
)
def test_webhook_with_a_bad_signature_is_refused(gateway, signature):
    payload = _event()
    now = int(time.time())
    if signature == "signed-with-another-secret":
        signature = _stripe_signature(payload, "whsec_someone_else", now)
    elif signature == "stale":
        signature = _stripe_signature(payload, WEBHOOK_SECRET, now - 3600)
    elif signature == "body-changed":
        signature = _stripe_signature(payload, WEBHOOK_SECRET, now)
        payload = payload.replace(b"succeeded", b"canceled")
    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(payload, signature)


def test_signed_body_that_is_not_an_event_is_refused(gateway):
    payload = b"not json"
    with pytest.raises((WebhookPayloadInvalid, WebhookSignatureInvalid)):
        gateway.parse_webhook(payload, _stripe_signature(payload, WEBHOOK_SECRET, int(time.time())))


def test_a_body_that_is_not_utf8_is_not_an_event(gateway):
    payload = b"\xed\x9bm_D\x1f"
    with pytest.raises(WebhookPayloadInvalid):
        gateway.parse_webhook(payload, "t=1700000000,v1=" + "0" * 64)
