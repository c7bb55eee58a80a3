"""The Idempotency-Key header: replay, reuse with another body, in flight, expiry, scope, purge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.views import MethodView
from sqlalchemy import func, select

from api.booking.models import Hold
from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.idempotency import service
from api.idempotency.decorator import idempotent
from api.idempotency.models import IdempotencyKey
from api.payments.models import Payment
from tests.booking.app_flow import app_restaurant, confirm_body, future_day, hold_body

pytestmark = pytest.mark.usefixtures("app")

HOLD = "/api/reservations/hold"


@pytest.fixture
def restaurant():
    return app_restaurant()


@pytest.fixture
def day(restaurant):
    return future_day(restaurant, 7)


def post(client, url, body, headers, key):
    return client.post(url, json=body, headers={**headers, "Idempotency-Key": key})


def holds_of(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Hold).where(Hold.user_id == user.id))


def test_same_key_same_body_replays_the_first_answer(client, restaurant, day, customer, auth_headers):
    body = hold_body(restaurant, customer, day)
    first = post(client, HOLD, body, auth_headers(customer), "k-1")
    again = post(client, HOLD, body, auth_headers(customer), "k-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert holds_of(customer) == 1


def test_without_the_header_a_repeat_runs_again(client, restaurant, day, customer, auth_headers):
    body = hold_body(restaurant, customer, day)
    assert client.post(HOLD, json=body, headers=auth_headers(customer)).status_code == 201
    assert client.post(HOLD, json=body, headers=auth_headers(customer)).get_json()["code"] == "ACTIVE_HOLD_EXISTS"


def test_same_key_with_another_body_is_refused(client, restaurant, day, customer, auth_headers):
    assert (
        post(client, HOLD, hold_body(restaurant, customer, day, "19:00"), auth_headers(customer), "k-2").status_code
        == 201
    )
    other = post(client, HOLD, hold_body(restaurant, customer, day, "20:00"), auth_headers(customer), "k-2")
    assert (other.status_code, other.get_json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_client_errors_are_replayed_too(client, restaurant, day, customer, auth_headers):
    body = hold_body(restaurant, customer, day, "12:00")  # closed: BAD_TIME
    first = post(client, HOLD, body, auth_headers(customer), "k-3")
    again = post(client, HOLD, body, auth_headers(customer), "k-3")
    assert (first.status_code, first.get_json()["code"]) == (422, "BAD_TIME")
    assert (again.status_code, again.get_json()) == (422, first.get_json())
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_a_duplicate_while_the_first_is_in_flight_is_409(client, restaurant, day, customer, auth_headers):
    body = hold_body(restaurant, customer, day)
    scope = service.scope_for(caller=f"user:{customer.id}", method="POST", path=HOLD)
    claimed = service.claim_key(
        scope=scope, key="k-4", request_hash=service.request_fingerprint(body=body), now=datetime.now(UTC)
    )
    assert isinstance(claimed, service.Claimed)
    response = post(client, HOLD, body, auth_headers(customer), "k-4")
    assert (response.status_code, response.get_json()["code"]) == (409, "IDEMPOTENCY_KEY_IN_USE")
    assert response.headers["Retry-After"] == "1"
    assert holds_of(customer) == 0


def test_a_first_attempt_that_died_is_taken_over_after_its_lease(client, restaurant, day, customer, auth_headers):
    body = hold_body(restaurant, customer, day)
    scope = service.scope_for(caller=f"user:{customer.id}", method="POST", path=HOLD)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)  # the default lease is 90 s
    service.claim_key(scope=scope, key="k-5", request_hash=service.request_fingerprint(body=body), now=long_ago)
    response = post(client, HOLD, body, auth_headers(customer), "k-5")
    assert response.status_code == 201
    assert post(client, HOLD, body, auth_headers(customer), "k-5").get_json() == response.get_json()


def test_an_expired_key_is_a_new_key(client, restaurant, day, customer, auth_headers):
    scope = service.scope_for(caller=f"user:{customer.id}", method="POST", path=HOLD)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    first = service.claim_key(scope=scope, key="k-6", request_hash="0" * 64, now=two_days_ago)
    service.record_response(key_id=first.key_id, status=201, body={"old": True})
    # Another body would be a reuse within 24 h; after the key expired it simply runs.
    response = post(client, HOLD, hold_body(restaurant, customer, day), auth_headers(customer), "k-6")
    assert response.status_code == 201 and "hold" in response.get_json()


def test_keys_are_scoped_by_caller(client, restaurant, day, customer, other_customer, auth_headers):
    mine = post(client, HOLD, hold_body(restaurant, customer, day), auth_headers(customer), "shared-key")
    theirs = post(client, HOLD, hold_body(restaurant, other_customer, day), auth_headers(other_customer), "shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["hold"]["holdId"] != theirs.get_json()["hold"]["holdId"]


def test_keys_are_scoped_by_endpoint():
    hold_scope = service.scope_for(caller="user:1", method="POST", path="/api/reservations/hold")
    confirm_scope = service.scope_for(caller="user:1", method="POST", path="/api/reservations/confirm")
    assert hold_scope != confirm_scope
    assert len(service.scope_for(caller="ip:1", method="POST", path="/x" * 400)) <= 300


def test_a_replayed_confirm_charges_once(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(HOLD, json=hold_body(restaurant, customer, day), headers=auth_headers(customer)).get_json()[
        "hold"
    ]["holdId"]
    body = confirm_body(hold_id, customer)
    first = post(client, "/api/reservations/confirm", body, auth_headers(customer), "pay-1")
    again = post(client, "/api/reservations/confirm", body, auth_headers(customer), "pay-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    count = select(func.count()).select_from(Payment).where(Payment.subject_id == uuid.UUID(hold_id))
    assert db.session.scalar(count) == 1


def test_a_refused_card_number_is_not_kept(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(HOLD, json=hold_body(restaurant, customer, day), headers=auth_headers(customer)).get_json()[
        "hold"
    ]["holdId"]
    body = {"holdId": hold_id, "paymentMethod": {"type": "card", "number": "4242424242424242", "token": "pm_x"}}
    response = post(client, "/api/reservations/confirm", body, auth_headers(customer), "card-1")
    assert response.get_json()["code"] == "RAW_CARD_REJECTED"
    assert (
        db.session.scalar(select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "card-1")) == 0
    )


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_malformed_key_is_a_validation_error(client, restaurant, day, customer, auth_headers, key):
    response = post(client, HOLD, hold_body(restaurant, customer, day), auth_headers(customer), key)
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_purge_deletes_only_expired_keys(app):
    now = datetime.now(UTC)
    old = service.claim_key(scope="ip:1|POST /x", key="old", request_hash="a", now=now - timedelta(hours=25))
    fresh = service.claim_key(scope="ip:1|POST /x", key="fresh", request_hash="a", now=now - timedelta(hours=23))
    assert service.purge_expired_keys(now) == 1
    assert db.session.get(IdempotencyKey, old.key_id) is None
    assert db.session.get(IdempotencyKey, fresh.key_id) is not None


@pytest.fixture
def probe_app(make_app) -> Flask:
    """An app with two extra routes behind @idempotent: one fails with 500, one counts its runs."""
    application = make_app()
    runs = {"count": 0}

    @application.post("/_probe/boom")
    @idempotent
    def boom():
        raise RuntimeError("unexpected")

    @application.post("/_probe/count")
    @idempotent
    def count():
        runs["count"] += 1
        if runs["count"] == 1:
            raise Unprocessable(ErrorCode.VALIDATION_ERROR, "first run refuses")
        return {"runs": runs["count"]}, 201

    class Things(MethodView):
        @idempotent
        def post(self):
            runs["count"] += 1
            return {"made": runs["count"]}, 201

    application.add_url_rule("/_probe/things", view_func=Things.as_view("probe_things"))
    application.config["PROBE_RUNS"] = runs
    return application


def test_server_errors_are_not_stored_so_a_retry_runs_again(probe_app):
    client = probe_app.test_client()
    assert client.post("/_probe/boom", json={}, headers={"Idempotency-Key": "b-1"}).status_code == 500
    with probe_app.app_context():
        stored = select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "b-1")
        assert db.session.scalar(stored) == 0


def test_public_routes_scope_keys_by_client_address(probe_app):
    client = probe_app.test_client()
    first = client.post("/_probe/count", json={"a": 1}, headers={"Idempotency-Key": "c-1"})
    again = client.post("/_probe/count", json={"a": 1}, headers={"Idempotency-Key": "c-1"})
    assert first.status_code == again.status_code == 422
    assert probe_app.config["PROBE_RUNS"]["count"] == 1
    with probe_app.app_context():
        scope = db.session.scalar(select(IdempotencyKey.scope).where(IdempotencyKey.key == "c-1"))
    assert scope == "ip:127.0.0.1|POST /_probe/count"


def test_the_decorator_works_on_a_method_view(probe_app):
    client = probe_app.test_client()
    first = client.post("/_probe/things", json={"name": "x"}, headers={"Idempotency-Key": "m-1"})
    again = client.post("/_probe/things", json={"name": "x"}, headers={"Idempotency-Key": "m-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() == {"made": 1}
