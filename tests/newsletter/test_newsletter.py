"""The newsletter form (seed 003): `{success: true}`, idempotent signups, BAD_EMAIL, rate limit, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.newsletter import service
from api.newsletter.models import Subscriber

pytestmark = pytest.mark.usefixtures("app")


def subscriber(email: str) -> Subscriber:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def count(email: str) -> int:
    return db.session.scalar(select(func.count()).where(Subscriber.email == email))


def test_signup_answers_success(client):
    response = client.post("/api/newsletter", json={"email": "Fan@Example.com", "name": "Fan", "phone": "555"})
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    row = subscriber("fan@example.com")
    assert (row.name, row.phone, row.unsubscribed_at) == ("Fan", "555", None)
    assert len(row.unsubscribe_token) >= 40


def test_email_only_is_enough(client):
    assert client.post("/api/newsletter", json={"email": "solo@example.com"}).get_json() == {"success": True}


def test_a_repeat_signup_is_not_an_error_and_makes_no_duplicate(client):
    for body in ({"email": "twice@example.com", "name": "Two"}, {"email": " TWICE@example.com "}):
        response = client.post("/api/newsletter", json=body)
        assert (response.status_code, response.get_json()) == (200, {"success": True})
    assert count("twice@example.com") == 1
    assert subscriber("twice@example.com").name == "Two"  # a blank name does not erase it


@pytest.mark.parametrize("email", ["x", "", None, 42, "a@", "a" * 250 + "@example.com"])
def test_bad_email(client, email):
    response = client.post("/api/newsletter", json={"email": email})
    assert response.status_code == 422
    assert response.get_json()["code"] == "BAD_EMAIL"


def test_missing_email_is_bad_email(client):
    response = client.post("/api/newsletter", json={"name": "No Address"})
    assert (response.status_code, response.get_json()["code"]) == (422, "BAD_EMAIL")


def test_unknown_fields_are_a_validation_error(client):
    response = client.post("/api/newsletter", json={"email": "ok@example.com", "consent": True})
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_unsubscribe_with_the_token_and_resubscribe(client):
    client.post("/api/newsletter", json={"email": "leaver@example.com"})
    token = subscriber("leaver@example.com").unsubscribe_token
    for _ in range(2):  # idempotent
        response = client.post("/api/newsletter/unsubscribe", json={"token": token})
        assert (response.status_code, response.get_json()) == (200, {"success": True})
    assert subscriber("leaver@example.com").unsubscribed_at is not None
    client.post("/api/newsletter", json={"email": "leaver@example.com"})
    back = subscriber("leaver@example.com")
    assert back.unsubscribed_at is None
    assert back.unsubscribe_token == token
    assert count("leaver@example.com") == 1


def test_unsubscribe_with_an_unknown_token_is_404(client):
    response = client.post("/api/newsletter/unsubscribe", json={"token": "not-a-token"})
    assert (response.status_code, response.get_json()["code"]) == (404, "SUBSCRIPTION_NOT_FOUND")
    empty = client.post("/api/newsletter/unsubscribe", json={"token": ""})
    assert (empty.status_code, empty.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_signup_is_rate_limited(app, make_app):
    limited = make_app(ratelimit_enabled=True, ratelimit_newsletter="2 per minute").test_client()
    for i in range(2):
        assert limited.post("/api/newsletter", json={"email": f"r{i}@example.com"}).status_code == 200
    response = limited.post("/api/newsletter", json={"email": "r3@example.com"})
    assert (response.status_code, response.get_json()["code"]) == (429, "RATE_LIMITED")


def test_service_reports_new_and_repeat_and_resubscribe_time():
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    first = service.subscribe(email="svc@example.com", now=now)
    again = service.subscribe(email="svc@example.com", now=now + timedelta(days=1))
    assert (first.created, again.created) == (True, False)
    assert first.subscriber_id == again.subscriber_id
    assert subscriber("svc@example.com").subscribed_at == now  # still subscribed: the date stays
    service.unsubscribe(token=subscriber("svc@example.com").unsubscribe_token, now=now + timedelta(days=2))
    service.subscribe(email="svc@example.com", now=now + timedelta(days=3))
    assert subscriber("svc@example.com").subscribed_at == now + timedelta(days=3)


def test_newsletter_is_in_the_openapi_spec(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/newsletter"] and "post" in paths["/api/newsletter/unsubscribe"]
