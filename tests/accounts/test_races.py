"""Races with real commits: one refresh token cannot be redeemed twice, one email cannot be registered twice.

Each race has a deterministic form: a second connection holds the contested row (a consumed
refresh token, an inserted email) in an open transaction while the HTTP request queues behind
it in PostgreSQL; we then commit or roll back the holder and see what the request answers.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from api.accounts.tokens import hash_refresh_token
from tests.accounts.conftest import login, present_refresh_token, refresh_cookie

PASSWORD = "a long enough passphrase"


@pytest.fixture
def race_app(make_app, committing_database):
    app = make_app(database_url=committing_database)
    yield app
    from api.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def side_engine(committing_database) -> Iterator[Engine]:
    engine = create_engine(committing_database)
    yield engine
    engine.dispose()


def register(app, email: str):
    return app.test_client().post("/api/auth/register", json={"email": email, "password": PASSWORD})


def signed_in_token(app, email: str) -> str:
    assert register(app, email).status_code == 201
    return refresh_cookie(login(app.test_client(), email, PASSWORD))["value"]


def refresh(app, token: str):
    client = app.test_client()
    present_refresh_token(client, token)
    return client.post("/api/auth/refresh")


def wait_until_blocked(engine: Engine, deadline_s: float = 30.0) -> None:
    """Poll pg_stat_activity until some backend of this database waits on a lock."""
    started = time.monotonic()
    with engine.connect() as conn:
        while time.monotonic() - started < deadline_s:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            # pg_stat_activity is a snapshot per transaction: end it to see the next state.
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the request never queued behind the held row")


def run_behind(engine: Engine, hold: Callable[[Connection], None], finish: str, request: Callable[[], object]):
    """Hold a row in an open transaction, send `request` (which queues behind it), then `finish` the holder."""
    with engine.connect() as conn:
        tx = conn.begin()
        hold(conn)
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(request)
            wait_until_blocked(engine)
            tx.commit() if finish == "commit" else tx.rollback()
            return future.result(timeout=60)


def consume(token: str) -> Callable[[Connection], None]:
    """What a competing refresh does first: mark the token consumed (the row lock is held until commit).

    No successor is written for the request's client: to it, the competitor is another client.
    """

    def hold(conn: Connection) -> None:
        conn.execute(
            text("UPDATE refresh_tokens SET consumed_at = :now WHERE token_hash = :hash AND consumed_at IS NULL"),
            {"now": datetime.now(UTC), "hash": hash_refresh_token(token)},
        )

    return hold


def test_refresh_queued_behind_another_clients_refresh_that_commits_is_reuse(race_app, side_engine):
    token = signed_in_token(race_app, "race-commit@example.com")
    response = run_behind(side_engine, consume(token), "commit", lambda: refresh(race_app, token))
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REUSED")
    with side_engine.connect() as conn:
        unrevoked = conn.execute(text("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")).scalar_one()
    assert unrevoked == 0


def test_control_refresh_queued_behind_a_competitor_that_rolls_back_succeeds(race_app, side_engine):
    token = signed_in_token(race_app, "race-rollback@example.com")
    response = run_behind(side_engine, consume(token), "rollback", lambda: refresh(race_app, token))
    assert response.status_code == 200, response.get_json()


def test_ten_parallel_refreshes_by_one_client_leave_one_valid_session(race_app, side_engine):
    """Ten tabs of one browser refresh with the same cookie at once: one rotation, everyone gets its pair."""
    token = signed_in_token(race_app, "race-many@example.com")
    contenders = 10
    barrier = threading.Barrier(contenders)

    def contend() -> tuple[int, str | None, str | None]:
        barrier.wait()
        response = refresh(race_app, token)
        body = response.get_json() or {}
        cookie = refresh_cookie(response)["value"] if response.status_code == 200 else None
        return response.status_code, body.get("accessToken") or body.get("code"), cookie

    with ThreadPoolExecutor(max_workers=contenders) as pool:
        results = list(pool.map(lambda _: contend(), range(contenders)))
    assert {status for status, _, _ in results} == {200}, results
    assert len({(access, cookie) for _, access, cookie in results}) == 1, "everyone must get the same pair"
    _, access, new_token = results[0]
    with side_engine.connect() as conn:
        rows = conn.execute(text("SELECT consumed_at IS NOT NULL, revoked_at IS NOT NULL FROM refresh_tokens")).all()
    assert sorted(rows) == [(False, False), (True, False)], "one rotation, nothing revoked"
    # the session lives on: its access token works and its refresh token rotates
    assert race_app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert refresh(race_app, new_token).status_code == 200


def insert_user(email: str) -> Callable[[Connection], None]:
    """What a competing registration does: insert the email (the unique index entry is held until commit)."""

    def hold(conn: Connection) -> None:
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, name, phone, role, is_active) "
                "VALUES (:id, :email, 'x', '', '', 'customer', true)"
            ),
            {"id": uuid.uuid4(), "email": email},
        )

    return hold


def test_registration_queued_behind_an_uncommitted_one_for_the_same_email_is_409(race_app, side_engine):
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    response = run_behind(side_engine, insert_user(email), "commit", lambda: register(race_app, email.upper()))
    assert (response.status_code, response.get_json()["code"]) == (409, "EMAIL_TAKEN")


def test_control_registration_queued_behind_one_that_rolls_back_succeeds(race_app, side_engine):
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    response = run_behind(side_engine, insert_user(email), "rollback", lambda: register(race_app, email))
    assert response.status_code == 201, response.get_json()
