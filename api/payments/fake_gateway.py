"""A local payment gateway for development and tests, the default when `STRIPE_SECRET_KEY` is unset.

It behaves like Stripe in test mode, as far as Seatkeeper can tell:

- Stripe's test PaymentMethods decide the outcome: `pm_card_visa` (Visa 4242), `pm_card_mastercard`
  (4444), `pm_card_amex` (8431), ... succeed; `pm_card_chargeDeclined` and its variants
  (`pm_card_chargeDeclinedInsufficientFunds`, `pm_card_visa_chargeDeclinedLostCard`, ...) decline;
  any other token is declined as `invalid_payment_method`.
- Idempotency keys hold across processes: intents and refunds live in PostgreSQL tables of their
  own (`fake_gateway_intents`, `fake_gateway_refunds`) with the key under a unique constraint,
  written on a connection and in a short transaction of their own (never the caller's), so two
  gunicorn workers authorising with one key get one charge, and the caller's rollback cannot
  undo a "charge" the way it could never undo a real one.
- Webhooks are signed with Stripe's scheme, so `POST /api/payments/webhook` verifies them the same
  way; `make_event()` builds a signed event for tests and local experiments.

`charge_count()` counts successful authorizations: tests use it to prove that retries never
charge twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError

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
    sign_webhook_payload,
)
from api.payments.models import FakeGatewayIntent, FakeGatewayRefund

_intents = FakeGatewayIntent.__table__
_refunds = FakeGatewayRefund.__table__


@dataclass(frozen=True)
class TestCard:
    """What a Stripe test PaymentMethod stands for."""

    brand: str
    last4: str
    # None: the charge succeeds. Else Stripe's error `code` and `decline_code`.
    error_code: str | None = None
    decline_code: str | None = None


# Stripe's test PaymentMethods (docs.stripe.com/testing) with the brand and last 4 Stripe reports.
TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_mastercard_debit": TestCard("mastercard", "8210"),
    "pm_card_mastercard_prepaid": TestCard("mastercard", "5100"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_discover": TestCard("discover", "1117"),
    "pm_card_diners": TestCard("diners", "0004"),
    "pm_card_jcb": TestCard("jcb", "0505"),
    "pm_card_unionpay": TestCard("unionpay", "0005"),
}

# pm_card_chargeDeclined<Reason> and pm_card_visa_chargeDeclined<Reason>.
_DECLINES: dict[str, TestCard] = {
    "": TestCard("visa", "0002", "card_declined", "generic_decline"),
    "InsufficientFunds": TestCard("visa", "9995", "card_declined", "insufficient_funds"),
    "LostCard": TestCard("visa", "9987", "card_declined", "lost_card"),
    "StolenCard": TestCard("visa", "9979", "card_declined", "stolen_card"),
    "ExpiredCard": TestCard("visa", "0069", "expired_card", "expired_card"),
    "IncorrectCvc": TestCard("visa", "0127", "incorrect_cvc", "incorrect_cvc"),
    "ProcessingError": TestCard("visa", "0119", "processing_error", "processing_error"),
    "Fraudulent": TestCard("visa", "0019", "card_declined", "fraudulent"),
}
_DECLINE_TOKEN = re.compile(r"^pm_card_(?:visa_)?chargeDeclined(?P<reason>[A-Za-z]*)$")


def describe_test_card(payment_method: str) -> TestCard | None:
    """The test card a token stands for, or None for a token Stripe would not know."""
    if payment_method in TEST_CARDS:
        return TEST_CARDS[payment_method]
    match = _DECLINE_TOKEN.match(payment_method)
    if match:
        return _DECLINES.get(match["reason"])
    return None


# The test card behind each last 4 digits, for the app frontend's card-shaped payment method
# (`{type: "credit-card", last4: "4242"}`, no token): 4242 succeeds, 0002 is declined, as in seed 000.
_TOKEN_BY_LAST4: dict[str, str] = {
    **{card.last4: f"pm_card_chargeDeclined{reason}" for reason, card in _DECLINES.items()},
    **{card.last4: token for token, card in TEST_CARDS.items()},
}


def test_token_for_last4(last4: str) -> str:
    """The test token for a card's last 4 digits; an unknown card gets a token Stripe would decline."""
    return _TOKEN_BY_LAST4.get(last4, "pm_card_unknown")


# Stripe's PaymentIntent statuses, folded into ours.
_STATUS = {
    "requires_capture": GatewayStatus.AUTHORIZED,
    "succeeded": GatewayStatus.CAPTURED,
    "canceled": GatewayStatus.CANCELED,
    "requires_payment_method": GatewayStatus.FAILED,
}


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake_{secrets.token_hex(12)}"


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class FakeGateway:
    """`PaymentGateway` backed by two PostgreSQL tables; see the module docstring."""

    name = "fake"

    def __init__(self, engine: Engine, *, webhook_secret: str) -> None:
        self._engine = engine
        self.webhook_secret = webhook_secret

    # --- PaymentGateway ---------------------------------------------------------------------

    def authorize(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> GatewayResult:
        card = describe_test_card(payment_method)
        if card is None:
            # Stripe answers 400 resource_missing and creates nothing.
            raise PaymentDeclined("invalid_payment_method", "No such PaymentMethod.")
        if amount_cents < 1:
            raise GatewayRejected("amount_too_small", "The amount must be at least 1 cent.")
        declined = card.error_code is not None
        values = {
            "id": _new_id("pi"),
            "idempotency_key": idempotency_key,
            "request_fingerprint": _fingerprint(amount_cents, currency, payment_method, dict(metadata)),
            "amount_cents": amount_cents,
            "currency": currency,
            "payment_method": payment_method,
            "status": "requires_payment_method" if declined else "requires_capture",
            "card_brand": card.brand,
            "card_last4": card.last4,
            "decline_code": card.decline_code,
            "amount_captured_cents": 0,
            "amount_refunded_cents": 0,
            "authorized_at": None if declined else func.now(),
            "metadata": dict(metadata),
        }
        with self._transaction() as conn:
            # A second worker with the same key waits here for the first to commit, then inserts
            # nothing and reads the first one's intent: one key, one charge.
            conn.execute(insert(_intents).values(**values).on_conflict_do_nothing(index_elements=["idempotency_key"]))
            row = conn.execute(select(_intents).where(_intents.c.idempotency_key == idempotency_key)).mappings().one()
        if row["request_fingerprint"] != values["request_fingerprint"]:
            raise GatewayRejected(
                "idempotency_key_in_use", "Keys for idempotent requests can only be used with the same parameters."
            )
        if row["status"] == "requires_payment_method":
            raise PaymentDeclined(row["decline_code"] or "generic_decline", gateway_payment_id=row["id"])
        return self._result(row)

    def capture(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        with self._transaction() as conn:
            row = self._lock_intent(conn, gateway_payment_id)
            if row["status"] == "requires_capture":
                row = self._set(conn, gateway_payment_id, status="succeeded", amount_captured_cents=row["amount_cents"])
        return self._result(row)

    def void(self, *, gateway_payment_id: str, idempotency_key: str) -> GatewayResult:
        with self._transaction() as conn:
            row = self._lock_intent(conn, gateway_payment_id)
            if row["status"] in ("requires_capture", "requires_payment_method"):
                row = self._set(conn, gateway_payment_id, status="canceled")
        return self._result(row)

    def refund(self, *, gateway_payment_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        with self._transaction() as conn:
            # Lock the intent first, then look for the key: a concurrent twin waits and then finds it.
            intent = self._lock_intent(conn, gateway_payment_id)
            existing = (
                conn.execute(select(_refunds).where(_refunds.c.idempotency_key == idempotency_key)).mappings().first()
            )
            if existing is not None:
                if existing["intent_id"] != gateway_payment_id or existing["amount_cents"] != amount_cents:
                    raise GatewayRejected(
                        "idempotency_key_in_use",
                        "Keys for idempotent requests can only be used with the same parameters.",
                    )
                return self._refund_result(existing)
            if intent["status"] != "succeeded":
                raise GatewayRejected("charge_not_captured", "This payment has not been captured.")
            if amount_cents < 1 or amount_cents > intent["amount_captured_cents"] - intent["amount_refunded_cents"]:
                raise GatewayRejected("amount_too_large", "The refund is larger than what is left to refund.")
            refund = (
                conn.execute(
                    insert(_refunds)
                    .values(
                        id=_new_id("re"),
                        intent_id=gateway_payment_id,
                        idempotency_key=idempotency_key,
                        amount_cents=amount_cents,
                    )
                    .returning(*_refunds.c)
                )
                .mappings()
                .one()
            )
            self._set(conn, gateway_payment_id, amount_refunded_cents=intent["amount_refunded_cents"] + amount_cents)
        return self._refund_result(refund)

    def retrieve(self, gateway_payment_id: str) -> GatewayResult:
        with self._transaction() as conn:
            row = conn.execute(select(_intents).where(_intents.c.id == gateway_payment_id)).mappings().first()
        if row is None:
            raise GatewayRejected("resource_missing", f"No such payment_intent: {gateway_payment_id!r}")
        return self._result(row)

    def find_by_idempotency_key(self, idempotency_key: str) -> GatewayResult | None:
        with self._transaction() as conn:
            row = conn.execute(select(_intents).where(_intents.c.idempotency_key == idempotency_key)).mappings().first()
        return None if row is None else self._result(row)

    def parse_webhook(self, payload: bytes, signature_header: str) -> GatewayEvent:
        try:
            stripe.WebhookSignature.verify_header(payload, signature_header, self.webhook_secret, tolerance=300)
        except stripe.SignatureVerificationError as err:
            raise WebhookSignatureInvalid(str(err)) from err
        except ValueError as err:  # a body that is not UTF-8 (the SDK decodes it first), as StripeGateway reads it
            raise WebhookPayloadInvalid("The webhook body is not UTF-8 text.") from err
        try:
            data = json.loads(payload)
        except ValueError as err:
            raise WebhookPayloadInvalid("The webhook body is not JSON.") from err
        if not isinstance(data, dict):
            raise WebhookPayloadInvalid("The webhook body is not an event.")
        return event_from_json(data)

    # --- for tests and local experiments ----------------------------------------------------

    def charge_count(self, idempotency_key: str | None = None) -> int:
        """Successful authorizations so far (all of them, or those made with one key)."""
        query = select(func.count()).select_from(_intents).where(_intents.c.authorized_at.is_not(None))
        if idempotency_key is not None:
            query = query.where(_intents.c.idempotency_key == idempotency_key)
        with self._transaction() as conn:
            return int(conn.execute(query).scalar_one())

    def make_event(self, event_type: str, gateway_payment_id: str, *, event_id: str | None = None) -> tuple[bytes, str]:
        """A signed Stripe-shaped event about an intent: (body, Stripe-Signature header)."""
        with self._transaction() as conn:
            row = conn.execute(select(_intents).where(_intents.c.id == gateway_payment_id)).mappings().one()
        intent = _intent_json(row)
        obj: dict[str, Any] = intent
        if event_type.startswith("charge."):
            obj = {
                "id": f"ch_{row['id'][3:]}",
                "object": "charge",
                "amount": row["amount_cents"],
                "amount_captured": row["amount_captured_cents"],
                "amount_refunded": row["amount_refunded_cents"],
                "currency": row["currency"],
                "payment_intent": row["id"],
                "refunded": row["amount_refunded_cents"] >= row["amount_cents"],
                "metadata": intent["metadata"],
            }
        event = {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "data": {"object": obj},
        }
        body = json.dumps(event).encode()
        return body, sign_webhook_payload(body, self.webhook_secret)

    # --- internals ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except OperationalError as err:
            raise GatewayUnavailable("The fake gateway's database is unreachable.") from err

    @staticmethod
    def _lock_intent(conn: Connection, gateway_payment_id: str) -> Mapping[str, Any]:
        row = (
            conn.execute(select(_intents).where(_intents.c.id == gateway_payment_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            raise GatewayRejected("resource_missing", f"No such payment_intent: {gateway_payment_id!r}")
        return row

    @staticmethod
    def _set(conn: Connection, gateway_payment_id: str, **values: Any) -> Mapping[str, Any]:
        return (
            conn.execute(
                update(_intents).where(_intents.c.id == gateway_payment_id).values(**values).returning(*_intents.c)
            )
            .mappings()
            .one()
        )

    @staticmethod
    def _result(row: Mapping[str, Any]) -> GatewayResult:
        return GatewayResult(
            gateway_payment_id=row["id"],
            status=_STATUS[row["status"]],
            amount_cents=row["amount_cents"],
            currency=row["currency"],
            amount_captured_cents=row["amount_captured_cents"],
            amount_refunded_cents=row["amount_refunded_cents"],
            card_brand=row["card_brand"],
            card_last4=row["card_last4"],
            failure_code=row["decline_code"],
            metadata=dict(row["metadata"] or {}),
        )

    @staticmethod
    def _refund_result(row: Mapping[str, Any]) -> RefundResult:
        return RefundResult(
            gateway_refund_id=row["id"],
            gateway_payment_id=row["intent_id"],
            amount_cents=row["amount_cents"],
            status="succeeded",
        )


def _intent_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "payment_intent",
        "amount": row["amount_cents"],
        "amount_received": row["amount_captured_cents"],
        "capture_method": "manual",
        "currency": row["currency"],
        "status": row["status"],
        "payment_method": row["payment_method"],
        "metadata": dict(row["metadata"] or {}),
        "livemode": False,
    }
