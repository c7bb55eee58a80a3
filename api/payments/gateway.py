"""The payment gateway interface: what Seatkeeper needs from Stripe, and nothing more.

Two implementations satisfy `PaymentGateway`: `StripeGateway` (the real `stripe` SDK) and
`FakeGateway` (local development and tests; the default when `STRIPE_SECRET_KEY` is unset).
`create_gateway(app)` picks one at start-up and stores it in `app.extensions["payment_gateway"]`;
code reaches it through `get_gateway()`.

Every mutating call takes an idempotency key derived from our own row ids, so calling it again
after a timeout or a crash returns the first outcome instead of moving money twice.

Errors: a card the issuer refuses raises `PaymentDeclined` (with a decline code); a request the
gateway refuses for any other reason (unknown object, wrong state, bad amount) raises
`GatewayRejected`; a gateway that cannot be reached or answers 5xx raises `GatewayUnavailable`.
A mutating call on an object already in the target state (capture twice, cancel twice) is not an
error: the gateway returns the object's current state and the caller reads `status`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger("api.payments")

# The fake gateway and the development webhook endpoint sign with this when
# STRIPE_WEBHOOK_SECRET is unset, so the endpoint behaves the same with either gateway.
DEV_WEBHOOK_SECRET = "whsec_seatkeeper_development_only"


class GatewayStatus(enum.StrEnum):
    """Where a payment stands at the gateway (Stripe PaymentIntent statuses, folded)."""

    AUTHORIZED = "authorized"  # requires_capture: the money is held, not yet taken
    CAPTURED = "captured"  # succeeded
    CANCELED = "canceled"  # the authorization was released
    FAILED = "failed"  # requires_payment_method after a decline
    REQUIRES_ACTION = "requires_action"  # 3-D Secure wanted; we confirm server-side, so a failure for us
    PROCESSING = "processing"  # not settled yet


@dataclass(frozen=True)
class GatewayResult:
    """A payment as the gateway sees it. Brand and last 4 come from here, never from the client."""

    gateway_payment_id: str
    status: GatewayStatus
    amount_cents: int
    currency: str
    amount_captured_cents: int = 0
    amount_refunded_cents: int = 0
    card_brand: str | None = None
    card_last4: str | None = None
    failure_code: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    gateway_refund_id: str
    gateway_payment_id: str
    amount_cents: int
    # "succeeded" or "pending" (accepted, the money is on its way back), or "failed".
    status: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook event, reduced to what the domains need."""

    id: str
    type: str
    # The payment (PaymentIntent) the event is about, when it is about one.
    gateway_payment_id: str | None
    # `metadata` of the event's object (ours: payment_id, subject_id, idempotency_key).
    metadata: Mapping[str, str]
    # The event's `data.object`, as plain JSON data.
    data: Mapping[str, Any]


class GatewayError(Exception):
    """Base class of everything a gateway raises."""


class PaymentDeclined(GatewayError):
    """The card was refused (`decline_code` like generic_decline, insufficient_funds)."""

    def __init__(
        self, decline_code: str, message: str = "The card was declined.", *, gateway_payment_id: str | None = None
    ):
        super().__init__(message)
        self.decline_code = decline_code
        self.gateway_payment_id = gateway_payment_id


class GatewayRejected(GatewayError):
    """The gateway refused the request for a reason that is not the card (a bug or a state mismatch)."""

    def __init__(self, code: str, message: str = "The payment gateway refused the request."):
        super().__init__(message)
        self.code = code


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or failed; the outcome is unknown and a retry is safe."""


class WebhookSignatureInvalid(GatewayError):
    """The webhook body was not signed with our secret (or the signature is stale or malformed)."""


class WebhookPayloadInvalid(GatewayError):
    """The webhook was signed but its body is not an event."""


class PaymentGateway(Protocol):
    """What the payments service needs from a gateway."""

    name: str

    def authorize(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> GatewayResult:
        """Hold `amount_cents` on the card (manual capture). Raises PaymentDeclined."""
        ...

    def capture(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        """Take the held amount. Already captured: returns the payment as it is."""
        ...

    def void(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        """Release an uncaptured authorization. Already canceled: returns the payment as it is."""
        ...

    def refund(self, *, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Give back `amount_cents` of a captured payment."""
        ...

    def retrieve(self, gateway_payment_id: str) -> GatewayResult:
        """The payment's current state (the reconciler and the webhook use it)."""
        ...

    def find_by_idempotency_key(self, idempotency_key: str) -> GatewayResult | None:
        """The payment `authorize` made with this key, if any, without creating one."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str) -> GatewayEvent:
        """Verify a webhook's `Stripe-Signature` and parse it. Raises WebhookSignatureInvalid."""
        ...


def sign_webhook_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `payload` (Stripe's scheme: t=..., v1=HMAC-SHA256 of "t.payload")."""
    import stripe

    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    return stripe.WebhookSignature.generate_signature_header(text, secret, timestamp)


def event_from_json(data: Mapping[str, Any]) -> GatewayEvent:
    """Reduce a Stripe-shaped event (already verified) to a `GatewayEvent`."""
    obj = (data.get("data") or {}).get("object") or {}
    if not isinstance(obj, Mapping):
        obj = {}
    kind = obj.get("object")
    gateway_payment_id: str | None = None
    if kind == "payment_intent":
        gateway_payment_id = obj.get("id")
    elif isinstance(obj.get("payment_intent"), str):  # charge, refund, dispute
        gateway_payment_id = obj["payment_intent"]
    elif isinstance(obj.get("payment_intent"), Mapping):
        gateway_payment_id = obj["payment_intent"].get("id")
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    return GatewayEvent(
        id=str(data.get("id") or ""),
        type=str(data.get("type") or ""),
        gateway_payment_id=gateway_payment_id,
        metadata={str(k): str(v) for k, v in metadata.items()},
        data=dict(obj),
    )


def create_gateway(app: Flask) -> PaymentGateway:
    """Stripe when `STRIPE_SECRET_KEY` is set, else the local fake; stored in `app.extensions`."""
    settings = app.config["SETTINGS"]
    gateway: PaymentGateway
    if settings.stripe_secret_key:
        from api.payments.stripe_gateway import StripeGateway

        gateway = StripeGateway(
            api_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base or None,
        )
    else:
        from api.extensions import db
        from api.payments.fake_gateway import FakeGateway

        if settings.env == "production":
            logger.warning("STRIPE_SECRET_KEY is unset: the fake gateway takes no real payments")
        with app.app_context():
            engine = db.engine
        gateway = FakeGateway(engine, webhook_secret=settings.stripe_webhook_secret or DEV_WEBHOOK_SECRET)
    app.extensions["payment_gateway"] = gateway
    return gateway


def get_gateway() -> PaymentGateway:
    """The app's gateway (`create_app` made it)."""
    from flask import current_app

    return current_app.extensions["payment_gateway"]
