"""Password reset end to end: the request, the email through the outbox to a real SMTP server
(aiosmtpd on loopback), the link's token, the new password, and every session ended.

The end-to-end tests run on a database of their own (real commits: the worker and the requests
use separate transactions); the others inside the usual rolled-back test transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select, text

from api.accounts import recovery
from api.accounts import service as accounts_service
from api.accounts.models import PasswordResetToken, Role
from api.errors import AppError
from api.extensions import db
from api.outbox import worker
from api.outbox.models import OutboxMessage
from tests.accounts.conftest import FIXTURE_PASSWORD, login, present_refresh_token, refresh_cookie
from tests.support.smtp import smtp_server

PUBLIC = "https://book.example.test"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def mail_app(make_app, committing_database):
    with smtp_server() as (inbox, port):
        app = make_app(database_url=committing_database, smtp_host="127.0.0.1", smtp_port=port, public_base_url=PUBLIC)
        yield app, inbox
        with app.app_context():
            db.engine.dispose()


def text_part(message) -> str:
    return next(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def html_part(message) -> str:
    return next(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/html"
    )


def link_token(message) -> str:
    """The token of the reset link in the email, checked to point at PUBLIC_BASE_URL/reset-password."""
    [link] = re.findall(r"https?://\S+", text_part(message))
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC}/reset-password"
    assert link in html_part(message).replace("&amp;", "&")
    [token] = parse_qs(parts.query)["token"]
    return token


def make_account(app, email: str, password: str = FIXTURE_PASSWORD, role: Role = Role.CUSTOMER):
    with app.app_context():
        user = accounts_service.register_user(
            email=email, password=password, name="Ada Lovelace", now=datetime.now(UTC)
        )
        if role != Role.CUSTOMER:
            with db.session.begin():
                db.session.merge(user).role = role
        return user


def test_reset_end_to_end_through_the_mail_server(mail_app):
    app, inbox = mail_app
    make_account(app, "ada@example.com")
    client = app.test_client()
    signed_in = login(client, "ada@example.com")
    assert signed_in.status_code == 200
    old_refresh = refresh_cookie(signed_in)["value"]
    old_access = signed_in.get_json()["accessToken"]

    response = client.post("/api/auth/password-reset", json={"email": "ADA@example.com"})
    assert response.status_code == 202
    with app.app_context():
        assert worker.run_once() == 1
        assert worker.run_once() == 0

    [message] = inbox.to("ada@example.com")
    assert "reset" in message["Subject"].lower()
    token = link_token(message)
    assert len(token) >= 43  # 256 bits, URL-safe base64
    with app.app_context():
        # stored hashed; the plaintext is nowhere in the database, not even in the outbox
        [stored] = db.session.scalars(select(PasswordResetToken)).all()
        assert stored.token_hash == recovery.hash_reset_token(token) != token
        assert stored.expires_at - stored.created_at == timedelta(minutes=30)
        leaks = db.session.scalar(select(func.count()).where(OutboxMessage.payload.cast(db.Text).contains(token)))
        assert leaks == 0

    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204, response.get_json()

    # the new password signs in, the old one no longer does
    assert login(app.test_client(), "ada@example.com", NEW_PASSWORD).status_code == 200
    assert login(app.test_client(), "ada@example.com").get_json()["code"] == "INVALID_CREDENTIALS"
    # every earlier session ended: its refresh token and its access token
    stale = app.test_client()
    present_refresh_token(stale, old_refresh)
    response = stale.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    response = stale.get("/api/auth/me", headers={"Authorization": f"Bearer {old_access}"})
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    # the link works once
    response = client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"}
    )
    assert (response.status_code, response.get_json()["code"]) == (410, "RESET_TOKEN_USED")
    assert login(app.test_client(), "ada@example.com", NEW_PASSWORD).status_code == 200


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_an_email(mail_app):
    app, inbox = mail_app
    make_account(app, "known@example.com")
    make_account(app, "gone@example.com")
    with app.app_context(), db.session.begin():
        db.session.execute(text("UPDATE users SET is_active = false WHERE email = 'gone@example.com'"))
    client = app.test_client()
    answers = [
        client.post("/api/auth/password-reset", json={"email": email})
        for email in ("known@example.com", "nobody@example.com", "gone@example.com")
    ]
    assert {(r.status_code, r.get_data(as_text=True)) for r in answers} == {(202, answers[0].get_data(as_text=True))}
    assert all("Set-Cookie" not in r.headers for r in answers)
    with app.app_context():
        assert worker.run_once() == 3  # all three are handled, two of them by doing nothing
        assert db.session.scalar(select(func.count()).select_from(PasswordResetToken)) == 1
    assert [m["To"] for m in inbox.messages] == ["known@example.com"]


def test_the_request_does_the_same_work_for_known_and_unknown_addresses(client, customer):
    # The answer's timing cannot tell them apart: the request runs the very same SQL either way
    # (one outbox INSERT, no read of `users`) and hashes no password.
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "SAVEPOINT" not in statement:  # the test harness's, numbered per call
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        per_email = []
        for email in (customer.email, "nobody-at-all@example.com"):
            statements.clear()
            assert client.post("/api/auth/password-reset", json={"email": email}).status_code == 202
            per_email.append(list(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert per_email[0] == per_email[1]
    assert len(per_email[0]) == 1 and per_email[0][0].startswith("INSERT INTO outbox_messages")
    assert not any("FROM users" in statement for statement in per_email[0])


def test_an_expired_link_fails_and_one_just_before_expiry_works(app, customer, now):
    token = _issued_token(app, customer.email, requested_at=now)
    with pytest.raises(AppError) as expired:
        recovery.confirm_password_reset(token=token, password=NEW_PASSWORD, now=now + timedelta(minutes=30))
    assert (expired.value.status, expired.value.code) == (410, "RESET_TOKEN_EXPIRED")
    user = recovery.confirm_password_reset(
        token=token, password=NEW_PASSWORD, now=now + timedelta(minutes=29, seconds=59)
    )
    assert user.id == customer.id
    assert accounts_service.sign_in(email=customer.email, password=NEW_PASSWORD, now=now).user.id == customer.id


def test_an_expired_link_is_refused_over_http(client, app, customer):
    token = _issued_token(app, customer.email, requested_at=datetime.now(UTC) - timedelta(minutes=31))
    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert (response.status_code, response.get_json()["code"]) == (410, "RESET_TOKEN_EXPIRED")
    assert login(client, customer.email).status_code == 200, "the old password still works"


def test_unknown_and_malformed_tokens_are_refused(client):
    response = client.post("/api/auth/password-reset/confirm", json={"token": "x" * 43, "password": NEW_PASSWORD})
    assert (response.status_code, response.get_json()["code"]) == (400, "RESET_TOKEN_INVALID")
    for body in ({"password": NEW_PASSWORD}, {"token": "", "password": NEW_PASSWORD}, {"token": "t"}, {"token": 5}):
        response = client.post("/api/auth/password-reset/confirm", json=body)
        assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR"), body
    response = client.post("/api/auth/password-reset", json={"email": "not an address"})
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_a_weak_password_does_not_burn_the_link(client, app, customer):
    token = _issued_token(app, customer.email, requested_at=datetime.now(UTC))
    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert (response.status_code, response.get_json()["code"]) == (422, "WEAK_PASSWORD")
    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204


def test_a_new_password_ends_every_other_link(client, app, customer):
    first = _issued_token(app, customer.email, requested_at=datetime.now(UTC))
    second = _issued_token(app, customer.email, requested_at=datetime.now(UTC))
    assert (
        client.post("/api/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD}).status_code
        == 204
    )
    response = client.post("/api/auth/password-reset/confirm", json={"token": first, "password": "an attacker's pick!"})
    assert (response.status_code, response.get_json()["code"]) == (410, "RESET_TOKEN_USED")


def test_a_deactivated_account_cannot_use_a_link_issued_before(client, app, admin, customer, now):
    token = _issued_token(app, customer.email, requested_at=datetime.now(UTC))
    accounts_service.update_user(user_id=customer.id, actor=admin, is_active=False, now=now)
    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert (response.status_code, response.get_json()["code"]) == (400, "RESET_TOKEN_INVALID")


def test_requests_are_rate_limited_per_email_known_or_not(make_app, app, customer):
    limited = make_app(ratelimit_enabled=True, ratelimit_password_reset="2 per minute")
    for email in (customer.email, "nobody@example.com"):
        answers = [
            limited.test_client().post("/api/auth/password-reset", json={"email": email}).status_code for _ in range(3)
        ]
        assert answers == [202, 202, 429], email


def test_confirmations_are_rate_limited_per_address(make_app, app):
    limited = make_app(ratelimit_enabled=True, ratelimit_password_reset_ip="2 per minute")
    client = limited.test_client()
    answers = [
        client.post("/api/auth/password-reset/confirm", json={"token": f"guess-{n}", "password": NEW_PASSWORD})
        for n in range(3)
    ]
    assert [r.status_code for r in answers] == [400, 400, 429]
    assert answers[2].get_json()["code"] == "RATE_LIMITED"


def test_an_admin_created_account_without_password_is_invited_by_email(mail_app):
    app, inbox = mail_app
    make_account(app, "boss@example.com", role=Role.ADMIN)
    client = app.test_client()
    access = login(client, "boss@example.com").get_json()["accessToken"]
    response = client.post(
        "/api/admin/users",
        json={"email": "newcomer@example.com", "role": "customer", "name": "New Comer"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        worker.run_once()
    [message] = inbox.to("newcomer@example.com")
    assert "choose" in message["Subject"].lower() and "New Comer" in text_part(message)
    token = link_token(message)
    response = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204
    assert login(app.test_client(), "newcomer@example.com", NEW_PASSWORD).status_code == 200


def test_old_tokens_are_pruned_a_day_after_expiry(app, customer, now):
    _issued_token(app, customer.email, requested_at=now)
    assert recovery.prune_password_reset_tokens(now=now + timedelta(hours=24)) == 0
    assert recovery.prune_password_reset_tokens(now=now + timedelta(hours=25)) == 1


def _issued_token(app, email: str, *, requested_at: datetime) -> str:
    """What the worker does for one request (minus the SMTP send): store the hashed token, return the token."""
    import uuid

    request_id = uuid.uuid4()
    token = recovery.reset_token_for(request_id)
    user = accounts_service.find_user_by_email(email=email)
    db.session.add(
        PasswordResetToken(
            id=request_id,
            user_id=user.id,
            token_hash=recovery.hash_reset_token(token),
            created_at=requested_at,
            expires_at=requested_at + timedelta(minutes=app.config["SETTINGS"].password_reset_minutes),
        )
    )
    db.session.commit()  # in the test transaction: releases a savepoint, survives an error response's rollback
    return token
