"""Brute-force limits on login, register and refresh, 429 RATE_LIMITED with Retry-After and X-RateLimit-*.

Login: failures per email, with a growing back-off that a success resets; every attempt per
client address. Each limiter test builds its own app with limits on (the default test app has
them off) and runs against in-memory storage and against the real Redis on 127.0.0.1:6379:
skipped (with the reason in the summary) when Redis does not answer, a failure when `CI` is set.
The Redis runs delete the keys of this test session's prefix afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from tests.accounts.conftest import FIXTURE_PASSWORD, login, present_refresh_token, refresh_cookie
from tests.conftest import TEST_SETTINGS
from tests.support.live_server import gunicorn_server

# A database of its own on the shared Redis: the suite's keys stay apart from anything else there.
REDIS_URI = "redis://127.0.0.1:6379/3"


def redis_or_skip():
    """A client of the local Redis; skip loudly without it, or fail when CI promises one."""
    import redis

    client = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        reason = f"Redis is not answering on 127.0.0.1:6379 ({err.__class__.__name__}): shared limits untested"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return client


def delete_keys(redis_client, prefix: str) -> int:
    keys = list(redis_client.scan_iter(match=f"*{prefix}*"))
    if keys:
        redis_client.delete(*keys)
    return len(keys)


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, make_app, app) -> Iterator[Flask]:
    """An app with limits on: login 5 failures/min per email and 5 attempts/min per address,
    register 3/min, refresh 3/min.

    Depends on `app` so that the test runs inside the rolled-back outer transaction too.
    """
    redis_client = redis_or_skip() if request.param == "redis" else None
    app = make_app(
        ratelimit_enabled=True,
        ratelimit_storage_uri=REDIS_URI if redis_client else "memory://",
        ratelimit_login="5 per minute",
        ratelimit_login_ip="5 per minute",
        ratelimit_register="3 per minute",
        ratelimit_refresh="3 per minute",
    )
    yield app
    if redis_client is not None:
        assert delete_keys(redis_client, TEST_SETTINGS["ratelimit_key_prefix"]), "counters belong under the prefix"
        redis_client.close()


def client_from(app: Flask, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def assert_rate_limited(response, longest_wait: int = 61) -> int:
    """A 429 in our envelope with the limiter's headers; returns Retry-After."""
    assert response.status_code == 429, response.get_json()
    assert response.get_json()["code"] == "RATE_LIMITED"
    assert set(response.get_json()) == {"code", "message", "details"}
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Limit"]) > 0
    assert int(response.headers["X-RateLimit-Reset"]) > time.time()
    retry_after = int(response.headers["Retry-After"])
    assert 0 <= retry_after <= longest_wait
    return retry_after


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


def test_successful_logins_do_not_count(limited_app, customer):
    for attempt in range(8):  # from several addresses: the per-address limit counts every attempt
        response = login(client_from(limited_app, f"10.0.1.{attempt}"), customer.email)
        assert response.status_code == 200, response.get_json()
        assert "X-RateLimit-Limit" in response.headers


def test_a_success_resets_the_failures_of_its_email(limited_app, customer):
    for attempt in range(4):
        assert (
            login(client_from(limited_app, f"10.0.2.{attempt}"), customer.email, "wrong password!").status_code == 401
        )
    response = login(client_from(limited_app, "10.0.2.50"), customer.email)
    assert response.status_code == 200
    # the budget is whole again: five more failures, then the back-off
    for attempt in range(5):
        response = login(client_from(limited_app, f"10.0.3.{attempt}"), customer.email, "wrong password!")
        assert response.status_code == 401, attempt
    assert_rate_limited(login(client_from(limited_app, "10.0.3.99"), customer.email, "wrong password!"))


def test_failed_logins_back_off_longer_and_longer(make_app, app, customer):
    """2 failures a second, 4 an hour: the first wait is a second, the next one the hour."""
    client = make_app(ratelimit_enabled=True, ratelimit_login="2 per 1 second; 4 per hour").test_client()
    assert [login(client, customer.email, "wrong password!").status_code for _ in range(2)] == [401, 401]
    assert assert_rate_limited(login(client, customer.email, "wrong password!")) <= 1
    time.sleep(1.1)
    assert [login(client, customer.email, "wrong password!").status_code for _ in range(2)] == [401, 401]
    assert assert_rate_limited(login(client, customer.email, "wrong password!"), 3600) > 60
    # not a lock: another account from the same address is unaffected
    assert login(client, "someone-else@example.com", "wrong password!").status_code == 401


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


def test_eight_logins_across_four_gunicorn_workers_share_one_budget_through_redis(committing_database):
    """Four worker processes, one counter: with memory:// each worker would allow its own five.

    The owner signs in first: a success is not a failure, so the five that follow still answer 401.
    """
    redis_client = redis_or_skip()
    prefix = f"sk-test-{uuid.uuid4().hex}"
    env = {
        "REDIS_URL": REDIS_URI,
        "RATELIMIT_STORAGE_URI": REDIS_URI,
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_LOGIN": "5 per minute",
        "JWT_SECRET_KEY": TEST_SETTINGS["jwt_secret_key"],
    }
    email = "target@example.com"
    try:
        with gunicorn_server(committing_database, workers=4, env=env) as server:
            url = server.url("/api/auth/login")
            registered = requests.post(
                server.url("/api/auth/register"), json={"email": email, "password": FIXTURE_PASSWORD}, timeout=30
            )
            assert registered.status_code == 201, registered.text
            assert requests.post(url, json={"email": email, "password": FIXTURE_PASSWORD}, timeout=30).ok
            answers = [
                requests.post(url, json={"email": email, "password": "guess guess guess"}, timeout=30) for _ in range(8)
            ]
    finally:
        delete_keys(redis_client, prefix)
    assert [answer.status_code for answer in answers] == [401] * 5 + [429] * 3
    for answer in answers[5:]:
        assert answer.json()["code"] == "RATE_LIMITED"
        assert 1 <= int(answer.headers["Retry-After"]) <= 61
        assert (answer.headers["X-RateLimit-Limit"], answer.headers["X-RateLimit-Remaining"]) == ("5", "0")
