"""Fixtures for the payments tests: both gateways, and apps wired to each.

- `standin`: a Stripe stand-in on loopback (tests/support/stripe_standin.py).
- `stripe_gateway` / `fake_gateway`: the two `PaymentGateway` implementations; `gateway` runs a
  test once with each.
- `payments_app`: an app on the test database whose gateway is the fake or Stripe (against the
  stand-in), for service and route tests; it depends on `app`, so each test stays inside the
  outer transaction that is rolled back (the fake gateway's own tables are written on a
  connection of their own and keep their rows, as a real gateway would).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import create_engine

from api.extensions import db
from api.payments import service as payments_service
from api.payments.fake_gateway import FakeGateway
from api.payments.gateway import PaymentGateway, get_gateway
from api.payments.stripe_gateway import StripeGateway
from tests.support.stripe_standin import API_KEY, StripeStandIn, stripe_standin

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with stripe_standin() as server:
        yield server


@pytest.fixture
def stripe_gateway(standin: StripeStandIn) -> StripeGateway:
    return StripeGateway(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=standin.base_url)


@pytest.fixture
def fake_gateway(database_url: str) -> Iterator[FakeGateway]:
    engine = create_engine(database_url)
    yield FakeGateway(engine, webhook_secret=WEBHOOK_SECRET)
    engine.dispose()


@dataclass
class Charges:
    """Counts real charges (successful authorizations) at whichever gateway a test uses."""

    gateway: PaymentGateway
    standin: StripeStandIn | None

    def count(self, idempotency_key: str | None = None) -> int:
        if isinstance(self.gateway, FakeGateway):
            return self.gateway.charge_count(idempotency_key)
        assert self.standin is not None
        intents = self.standin.intents.values()
        if idempotency_key is not None:
            intents = [i for i in intents if i["metadata"].get("idempotency_key") == idempotency_key]
        return sum(
            1 for i in intents if i["status"] in ("requires_capture", "succeeded", "canceled") and i["latest_charge"]
        )

    def requests(self, path_suffix: str) -> int:
        """POSTs that reached the gateway's endpoint (Stripe only; the fake has no HTTP)."""
        assert self.standin is not None
        return len([r for r in self.standin.requests_to(path_suffix) if not r.replayed])


@pytest.fixture(params=["fake", "stripe"])
def gateway_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def gateway(gateway_kind: str, request: pytest.FixtureRequest) -> PaymentGateway:
    return request.getfixturevalue(f"{gateway_kind}_gateway")


@pytest.fixture
def payments_app(app: Flask, make_app, gateway_kind: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app whose gateway is `gateway_kind`, its context pushed for the test."""
    settings: dict[str, object] = {"stripe_webhook_secret": WEBHOOK_SECRET}
    if gateway_kind == "stripe":
        server: StripeStandIn = request.getfixturevalue("standin")
        settings.update(stripe_secret_key=API_KEY, stripe_api_base=server.base_url)
    application = make_app(**settings)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def charges(payments_app: Flask, gateway_kind: str, request: pytest.FixtureRequest) -> Charges:
    server = request.getfixturevalue("standin") if gateway_kind == "stripe" else None
    return Charges(get_gateway(), server)


@pytest.fixture(autouse=True)
def _no_leftover_webhook_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handlers a test registers disappear with it."""
    monkeypatch.setattr(payments_service, "_handlers", {})
