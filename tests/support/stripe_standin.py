"""A small Stripe stand-in on loopback, for testing `StripeGateway` through the real SDK over HTTP.

It implements only what Seatkeeper calls, with Stripe's shapes:

    POST /v1/payment_intents                   (confirm=true in the same call, or later:)
    POST /v1/payment_intents/{id}/confirm
    POST /v1/payment_intents/{id}/capture
    POST /v1/payment_intents/{id}/cancel
    GET  /v1/payment_intents/{id}              (expand[]=latest_charge)
    GET  /v1/payment_intents/search            (query=metadata['key']:'value')
    POST /v1/refunds

Like Stripe, a POST with an `Idempotency-Key` seen before answers the first response again
(`Idempotent-Replayed: true`) and a key reused with other parameters is a 400 idempotency_error.
Stripe's test PaymentMethods decide outcomes (`pm_card_visa` succeeds, `pm_card_chargeDeclined`
answers 402 card_error). `charges_created` counts successful authorizations: the "real charges".

Faults for tests: `fail_next(n)` answers the next n requests 500 without doing anything;
`lose_next_responses(n)` does the work of the next n requests and then drops the connection
without answering (the charge happened, the caller never heard).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from api.payments.fake_gateway import describe_test_card

API_KEY = "sk_test_standin_0123456789"

_ROUTE = re.compile(r"^/v1/payment_intents/(?P<id>pi_[A-Za-z0-9]+)(?:/(?P<action>confirm|capture|cancel))?$")
_SEARCH_CLAUSE = re.compile(r"metadata\['(?P<key>[^']+)'\]:'(?P<value>(?:[^'\\]|\\.)*)'")
_KEY_REUSED = "Keys for idempotent requests can only be used with the same parameters they were first used with."
_CANCELABLE = {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}


class StripeApiError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.status = status
        self.error = error


@dataclass
class LoggedRequest:
    method: str
    path: str
    idempotency_key: str | None
    replayed: bool
    status: int


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`metadata[k]=v`, `expand[0]=x`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"([^\[\]]+)|\[([^\]]*)\]", raw_key)
        keys = [a or b for a, b in parts]
        node = root
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


class StripeStandIn:
    """The stand-in's state and its HTTP server; use `stripe_standin()` to run one."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.charges_created = 0
        self.log: list[LoggedRequest] = []
        self._idempotency: dict[str, tuple[str, int, bytes]] = {}
        self._lock = threading.Lock()
        self._fail_next = 0
        self._lose_next = 0
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # --- test controls --------------------------------------------------------------------

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._fail_next += count

    def lose_next_responses(self, count: int = 1) -> None:
        with self._lock:
            self._lose_next += count

    def requests_to(self, path_suffix: str) -> list[LoggedRequest]:
        return [r for r in self.log if r.path.endswith(path_suffix)]

    # --- server -----------------------------------------------------------------------------

    def start(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                standin._serve(self, "GET")

            def do_POST(self) -> None:
                standin._serve(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-standin", daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        params = decode_form(body if method == "POST" else url.query)
        key = handler.headers.get("Idempotency-Key") if method == "POST" else None
        lose = False
        replayed = False
        with self._lock:
            if self._fail_next:
                self._fail_next -= 1
                status, payload = 500, _error_body("api_error", "An unknown error occurred (injected).")
            elif handler.headers.get("Authorization") != f"Bearer {self.api_key}":
                status, payload = 401, _error_body("invalid_request_error", "Invalid API Key provided.")
            else:
                fingerprint = f"{method} {url.path} {json.dumps(params, sort_keys=True)}"
                cached = self._idempotency.get(key) if key else None
                if cached is not None and cached[0] != fingerprint:
                    status, payload = 400, _error_body("idempotency_error", _KEY_REUSED)
                elif cached is not None:
                    status, payload, replayed = cached[1], cached[2], True
                else:
                    try:
                        status, obj = 200, self._dispatch(method, url.path, params)
                    except StripeApiError as err:
                        status, obj = err.status, {"error": err.error}
                    payload = json.dumps(obj).encode()
                    # Like Stripe, only requests that started executing are remembered (not
                    # validation errors); a card decline is remembered.
                    if key and status in (200, 402):
                        self._idempotency[key] = (fingerprint, status, payload)
                if self._lose_next:
                    self._lose_next -= 1
                    lose = True
            self.log.append(LoggedRequest(method, url.path, key, replayed, status))
        if lose:
            # The work is done and remembered under the key; the caller just never hears.
            handler.close_connection = True
            handler.connection.close()
            return
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(payload)

    # --- the API ----------------------------------------------------------------------------

    def _dispatch(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        expand = params.pop("expand", [])
        if method == "POST" and path == "/v1/payment_intents":
            return self._render(self._create_intent(params), expand)
        if method == "GET" and path == "/v1/payment_intents/search":
            return self._search(params.get("query", ""), expand)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        match = _ROUTE.match(path)
        if match is None:
            raise StripeApiError(
                404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})."}
            )
        intent = self.intents.get(match["id"])
        if intent is None:
            raise StripeApiError(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "intent",
                    "message": f"No such payment_intent: '{match['id']}'",
                },
            )
        action = match["action"]
        if method == "GET" and action is None:
            return self._render(intent, expand)
        if method == "POST" and action == "confirm":
            if params.get("payment_method"):
                intent["payment_method"] = params["payment_method"]
            self._confirm(intent)
        elif method == "POST" and action == "capture":
            self._capture(intent)
        elif method == "POST" and action == "cancel":
            self._cancel(intent, params.get("cancellation_reason"))
        else:
            raise StripeApiError(
                404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})."}
            )
        return self._render(intent, expand)

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise StripeApiError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "parameter_missing",
                    "param": "amount",
                    "message": "Missing required param: amount.",
                },
            ) from None
        if amount < 50:
            raise StripeApiError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "amount_too_small",
                    "param": "amount",
                    "message": "Amount must be at least $0.50 usd",
                },
            )
        payment_method = params.get("payment_method")
        if payment_method and describe_test_card(payment_method) is None:
            raise StripeApiError(400, _no_such_payment_method(payment_method))
        intent = {
            "id": f"pi_{secrets.token_hex(12)}",
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": params.get("capture_method", "automatic"),
            "confirmation_method": "automatic",
            "currency": params.get("currency", "usd"),
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "payment_method": payment_method,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
            "canceled_at": None,
            "cancellation_reason": None,
        }
        self.intents[intent["id"]] = intent
        if params.get("confirm") == "true":
            self._confirm(intent)
        return intent

    def _confirm(self, intent: dict[str, Any]) -> None:
        if intent["status"] not in ("requires_confirmation", "requires_payment_method"):
            raise _unexpected_state(intent, "confirm")
        card = describe_test_card(intent["payment_method"] or "")
        if card is None:
            raise StripeApiError(400, _no_such_payment_method(intent["payment_method"]))
        charge = {
            "id": f"ch_{secrets.token_hex(12)}",
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "captured": False,
            "refunded": False,
            "currency": intent["currency"],
            "metadata": dict(intent["metadata"]),
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": 12,
                    "exp_year": 2034,
                    "funding": "credit",
                },
            },
            "status": "failed" if card.error_code else "succeeded",
        }
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        if card.error_code:
            error = {
                "type": "card_error",
                "code": card.error_code,
                "decline_code": card.decline_code,
                "message": "Your card was declined.",
                "charge": charge["id"],
                "payment_method": {"id": intent["payment_method"], "object": "payment_method", "type": "card"},
            }
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = error
            raise StripeApiError(402, {**error, "payment_intent": self._render(intent, [])})
        self.charges_created += 1
        if intent["capture_method"] == "manual":
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
        else:
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            charge["captured"] = True
            charge["amount_captured"] = intent["amount"]

    def _capture(self, intent: dict[str, Any]) -> None:
        if intent["status"] != "requires_capture":
            raise _unexpected_state(intent, "capture")
        charge = self.charges[intent["latest_charge"]]
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["amount_capturable"] = 0
        charge["captured"] = True
        charge["amount_captured"] = intent["amount"]

    def _cancel(self, intent: dict[str, Any], reason: str | None) -> None:
        if intent["status"] not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel")
        intent["status"] = "canceled"
        intent["amount_capturable"] = 0
        intent["canceled_at"] = int(time.time())
        intent["cancellation_reason"] = reason or "requested_by_customer"

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            raise StripeApiError(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "payment_intent",
                    "message": "No such payment_intent.",
                },
            )
        if intent["status"] != "succeeded":
            raise StripeApiError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "charge_not_captured",
                    "message": "This PaymentIntent has not been captured.",
                },
            )
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = int(params.get("amount", remaining))
        if amount < 1 or amount > remaining:
            raise StripeApiError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "amount_too_large",
                    "param": "amount",
                    "message": "Refund amount is greater than unrefunded amount on charge.",
                },
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "currency": intent["currency"],
            "metadata": params.get("metadata") or {},
            "payment_intent": intent["id"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return refund

    def _search(self, query: str, expand: list[str]) -> dict[str, Any]:
        clauses = [(m["key"], m["value"].replace("\\'", "'")) for m in _SEARCH_CLAUSE.finditer(query)]
        found = [
            self._render(intent, [e.removeprefix("data.") for e in expand])
            for intent in self.intents.values()
            if clauses and all(intent["metadata"].get(k) == v for k, v in clauses)
        ]
        return {
            "object": "search_result",
            "data": found,
            "has_more": False,
            "next_page": None,
            "url": "/v1/payment_intents/search",
        }

    def _render(self, intent: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        rendered = json.loads(json.dumps(intent))
        if "latest_charge" in expand and intent["latest_charge"]:
            rendered["latest_charge"] = json.loads(json.dumps(self.charges[intent["latest_charge"]]))
        return rendered


def _error_body(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


def _no_such_payment_method(payment_method: str | None) -> dict[str, Any]:
    return {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "payment_method",
        "message": f"No such PaymentMethod: '{payment_method}'",
    }


def _unexpected_state(intent: dict[str, Any], action: str) -> StripeApiError:
    return StripeApiError(
        400,
        {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": f"This PaymentIntent could not be {action}d because it has a status of {intent['status']}.",
            "payment_intent": intent,
        },
    )


@contextmanager
def stripe_standin(api_key: str = API_KEY) -> Iterator[StripeStandIn]:
    """Run a stand-in on a free loopback port for the duration of the block."""
    standin = StripeStandIn(api_key)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
