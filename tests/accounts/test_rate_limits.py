"""Brute-force limits on login, register and refresh: per IP and per email, 429 RATE_LIMITED with Retry-After.

Each limiter test builds its own app with limits on (the default test app has them off) and
runs against in-memory storage and against the real Redis on 127.0.0.1:6379 when it answers.
The Redis runs use a key prefix of their own and delete their keys afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from tests.accounts.conftest import login, present_refresh_token, refresh_cookie
from tests.support.live_server import gunicorn_server

REDIS_URI = "redis://127.0.0.1:6379/0"


def redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis is not answering on 127.0.0.1:6379 ({err.__class__.__name__})")
    return client


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, make_app, app) -> Iterator[Flask]:
    """An app with limits on: login 5/min, register 3/min, refresh 3/min.

    Depends on `app` so that the test runs inside the rolled-back outer transaction too.
    """
    prefix = f"sk-test-{uuid.uuid4().hex}"
    redis_client = redis_or_skip() if request.param == "redis" else None
    app = make_app(
        ratelimit_enabled=True,
        ratelimit_storage_uri=REDIS_URI if redis_client else "memory://",
        ratelimit_login="5 per minute",
        ratelimit_register="3 per minute",
        ratelimit_refresh="3 per minute",
        ratelimit_key_prefix=prefix,
    )
    yield app
    if redis_client is not None:
        keys = list(redis_client.scan_iter(match=f"*{prefix}*"))
        assert keys, "the Redis run should have written its counters under its own prefix"
        redis_client.delete(*keys)
        redis_client.close()


def client_from(app: Flask, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.get_json()
    assert response.get_json()["code"] == "RATE_LIMITED"
    assert set(response.get_json()) == {"code", "message", "details"}
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 61


def test_sixth_wrong_password_for_one_email_in_a_minute_is_429(limited_app, customer):
    # Each attempt from another address: the per-email limit alone must stop the guessing.
    for attempt in range(5):
        response = login(client_from(limited_app, f"10.0.0.{attempt + 1}"), customer.email, "wrong password!")
        assert (response.status_code, response.get_json()["code"]) == (401, "INVALID_CREDENTIALS")
    response = login(client_from(limited_app, "10.0.0.99"), customer.email.upper(), "wrong password!")
    assert_rate_limited(response)
    # the right password does not get through either, and no cookie is handed out
    response = login(client_from(limited_app, "10.0.0.100"), customer.email)
    assert_rate_limited(response)
    assert "Set-Cookie" not in response.headers
    # another account is unaffected
    response = login(client_from(limited_app, "10.0.0.101"), "someone-else@example.com", "wrong password!")
    assert response.status_code == 401


def test_one_address_trying_many_emails_is_429_on_the_sixth(limited_app):
    client = client_from(limited_app, "192.0.2.7")
    for attempt in range(5):
        assert login(client, f"victim{attempt}@example.com", "guess guess guess").status_code == 401
    assert_rate_limited(login(client, "victim5@example.com", "guess guess guess"))
    assert login(client_from(limited_app, "192.0.2.8"), "victim5@example.com", "guess guess").status_code == 401


def test_register_is_limited_per_address(limited_app):
    client = client_from(limited_app, "198.51.100.1")
    for attempt in range(3):
        response = client.post(
            "/api/auth/register", json={"email": f"new{attempt}@example.com", "password": "long enough pass"}
        )
        assert response.status_code == 201
    assert_rate_limited(
        client.post("/api/auth/register", json={"email": "new3@example.com", "password": "long enough pass"})
    )


def test_refresh_is_limited_per_address(limited_app, customer):
    client = client_from(limited_app, "203.0.113.5")
    token = refresh_cookie(login(client, customer.email))["value"]
    for _ in range(3):
        response = client.post("/api/auth/refresh")
        assert response.status_code == 200
    present_refresh_token(client, token)
    assert_rate_limited(client.post("/api/auth/refresh"))


def test_limits_are_off_when_ratelimit_enabled_is_false(client, customer):
    for _ in range(12):
        assert login(client, customer.email, "wrong password!").status_code == 401


def test_each_app_keeps_its_own_limiter_settings(make_app, customer):
    """flask-limiter's Limiter is one module-level object; a later app must not switch another's limits."""
    limited = make_app(ratelimit_enabled=True, ratelimit_login="2 per minute")
    unlimited = make_app(ratelimit_enabled=False)
    for _ in range(5):
        assert login(unlimited.test_client(), customer.email, "wrong password!").status_code == 401
    client = limited.test_client()
    assert login(client, customer.email, "wrong password!").status_code == 401
    assert login(client, customer.email, "wrong password!").status_code == 401
    assert_rate_limited(login(client, customer.email, "wrong password!"))


def test_gunicorn_workers_share_one_budget_through_redis(committing_database):
    """Four worker processes, one counter: with memory:// each worker would allow its own five."""
    redis_client = redis_or_skip()
    prefix = f"sk-test-{uuid.uuid4().hex}"
    env = {
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": REDIS_URI,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_LOGIN": "5 per minute",
    }
    try:
        with gunicorn_server(committing_database, workers=4, env=env) as server:
            statuses = [
                requests.post(
                    server.url("/api/auth/login"),
                    json={"email": "target@example.com", "password": "guess guess guess"},
                    timeout=30,
                ).status_code
                for _ in range(8)
            ]
    finally:
        keys = list(redis_client.scan_iter(match=f"*{prefix}*"))
        if keys:
            redis_client.delete(*keys)
    assert statuses == [401] * 5 + [429] * 3
