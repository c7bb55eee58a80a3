"""`PaymentGateway` on the real `stripe` SDK: PaymentIntents with manual capture.

- `authorize` creates and confirms a PaymentIntent in one call (`confirm=true`,
  `capture_method=manual`, card only), so one idempotency key covers the whole authorisation.
- Every POST carries our idempotency key: Stripe replays the first answer to a retry, and the
  SDK's own network retries (`max_network_retries`) reuse the same key.
- Brand and last 4 come from the PaymentIntent's `latest_charge.payment_method_details.card`
  (expanded in the same call), never from the client.
- A `card_error` (HTTP 402) becomes `PaymentDeclined`; an unknown PaymentMethod too (the client
  sent a bad token). Connection errors, 5xx, 429 and authentication problems become
  `GatewayUnavailable`; other 4xx become `GatewayRejected`.
- Capturing a captured PaymentIntent or cancelling a cancelled one (a retry whose key Stripe has
  forgotten after 24 h) answers `payment_intent_unexpected_state`; we then retrieve the intent and
  return its state, so completion steps stay idempotent.

`api_base` points the SDK elsewhere: tests use a loopback stand-in (tests/support/stripe_standin.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stripe

from api.payments.gateway import (
    GatewayEvent,
    GatewayRejected,
    GatewayResult,
    GatewayStatus,
    GatewayUnavailable,
    PaymentDeclined,
    RefundResult,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    event_from_json,
)

# Short enough that a gunicorn worker (30 s) survives the SDK's retries, long enough for Stripe.
REQUEST_TIMEOUT_SECONDS = 8
MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300

_STATUS = {
    "requires_capture": GatewayStatus.AUTHORIZED,
    "succeeded": GatewayStatus.CAPTURED,
    "canceled": GatewayStatus.CANCELED,
    "requires_payment_method": GatewayStatus.FAILED,
    "requires_confirmation": GatewayStatus.FAILED,
    "requires_action": GatewayStatus.REQUIRES_ACTION,
    "processing": GatewayStatus.PROCESSING,
}
_EXPAND = ["latest_charge"]


class StripeGateway:
    """`PaymentGateway` for Stripe; see the module docstring."""

    name = "stripe"

    def __init__(self, *, api_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
        )
        self._webhook_secret = webhook_secret

    def authorize(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> GatewayResult:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "metadata": {**metadata, "idempotency_key": idempotency_key},
            "expand": _EXPAND,
        }
        try:
            intent = self._client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as err:
            raise _declined(err) from err
        except stripe.InvalidRequestError as err:
            if err.param == "payment_method":
                raise PaymentDeclined(
                    err.code or "invalid_payment_method", "The payment method is not usable."
                ) from err
            raise _rejected(err) from err
        except stripe.StripeError as err:
            raise _translate(err) from err
        return _result(intent.to_dict())

    def capture(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        return self._transition("capture", gateway_payment_id, idempotency_key)

    def void(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        return self._transition("cancel", gateway_payment_id, idempotency_key)

    def refund(self, *, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        try:
            refund = self._client.v1.refunds.create(
                {"payment_intent": gateway_payment_id, "amount": amount_cents},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as err:
            raise _translate(err) from err
        data = refund.to_dict()
        return RefundResult(
            gateway_refund_id=data["id"],
            gateway_payment_id=data.get("payment_intent") or gateway_payment_id,
            amount_cents=int(data["amount"]),
            status=str(data.get("status") or "succeeded"),
        )

    def retrieve(self, gateway_payment_id: str) -> GatewayResult:
        try:
            intent = self._client.v1.payment_intents.retrieve(gateway_payment_id, {"expand": _EXPAND})
        except stripe.StripeError as err:
            raise _translate(err) from err
        return _result(intent.to_dict())

    def find_by_idempotency_key(self, idempotency_key: str) -> GatewayResult | None:
        # Stripe keeps idempotency keys for 24 h only; our key is also in the metadata, which
        # Search finds for good (Search lags writes by up to a minute, so the reconciler waits
        # longer than that before it concludes that nothing was charged).
        query = "metadata['idempotency_key']:'{}'".format(idempotency_key.replace("'", "\\'"))
        try:
            found = self._client.v1.payment_intents.search({"query": query, "limit": 1})
        except stripe.StripeError as err:
            raise _translate(err) from err
        data = found.to_dict().get("data") or []
        if not data:
            return None
        return self.retrieve(data[0]["id"])

    def parse_webhook(self, payload: bytes, signature_header: str) -> GatewayEvent:
        try:
            event = self._client.construct_event(
                payload, signature_header, self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as err:
            raise WebhookSignatureInvalid(str(err)) from err
        except ValueError as err:  # signed, but not a JSON event
            raise WebhookPayloadInvalid(str(err)) from err
        return event_from_json(json.loads(json.dumps(event.to_dict(for_json=True))))

    def _transition(self, action: str, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        method = getattr(self._client.v1.payment_intents, action)
        try:
            intent = method(gateway_payment_id, {"expand": _EXPAND}, {"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as err:
            if err.code == "payment_intent_unexpected_state":
                # Already captured / cancelled (or the other one): report where it stands.
                return self.retrieve(gateway_payment_id)
            raise _rejected(err) from err
        except stripe.StripeError as err:
            raise _translate(err) from err
        return _result(intent.to_dict())


def _result(intent: Mapping[str, Any]) -> GatewayResult:
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, Mapping) else {}
    card = ((charge.get("payment_method_details") or {}).get("card")) or {}
    last_error = intent.get("last_payment_error") or {}
    return GatewayResult(
        gateway_payment_id=intent["id"],
        status=_STATUS.get(str(intent.get("status")), GatewayStatus.PROCESSING),
        amount_cents=int(intent["amount"]),
        currency=str(intent["currency"]),
        amount_captured_cents=int(charge.get("amount_captured") or intent.get("amount_received") or 0),
        amount_refunded_cents=int(charge.get("amount_refunded") or 0),
        card_brand=card.get("brand"),
        card_last4=card.get("last4"),
        failure_code=last_error.get("decline_code") or last_error.get("code"),
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
    )


def _declined(err: stripe.CardError) -> PaymentDeclined:
    body = err.json_body if isinstance(err.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    decline_code = error.get("decline_code") or err.code or "card_declined"
    intent = error.get("payment_intent")
    gateway_payment_id = intent.get("id") if isinstance(intent, dict) else None
    return PaymentDeclined(
        str(decline_code), err.user_message or "The card was declined.", gateway_payment_id=gateway_payment_id
    )


def _rejected(err: stripe.StripeError) -> GatewayRejected:
    return GatewayRejected(err.code or "invalid_request", err.user_message or "Stripe refused the request.")


def _translate(err: stripe.StripeError) -> Exception:
    if isinstance(err, stripe.CardError):
        return _declined(err)
    if isinstance(err, (stripe.InvalidRequestError, stripe.IdempotencyError)):
        return _rejected(err)
    # Connection errors, 5xx, rate limits, a wrong API key: the outcome is unknown or the fault
    # is ours, never the guest's; the same idempotency key makes a later retry safe.
    return GatewayUnavailable(f"{type(err).__name__}: {err.user_message or 'Stripe did not answer.'}")
