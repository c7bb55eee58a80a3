"""The sign-in story over HTTP: register, login, me, refresh rotation, reuse detection, logout."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from api.accounts.models import RefreshToken, User
from api.accounts.tokens import REFRESH_COOKIE_PATH, SECURE_REFRESH_COOKIE, hash_refresh_token
from api.config import Settings
from api.extensions import db
from tests.accounts.conftest import FIXTURE_PASSWORD, login, present_refresh_token, refresh_cookie

PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_login_me_refresh_reuse_logout(client):
    # register: emails are stored lower-cased; no hash in the answer
    response = client.post(
        "/api/auth/register", json={"email": "Ada.Lovelace@Example.COM", "password": PASSWORD, "name": "Ada"}
    )
    assert response.status_code == 201, response.get_json()
    user = response.get_json()
    assert user["email"] == "ada.lovelace@example.com"
    assert user["role"] == "customer" and user["isActive"] is True and user["name"] == "Ada"
    assert set(user) == {"id", "email", "name", "phone", "role", "isActive", "restaurantId", "createdAt"}

    # login (with different case): access token in the body, refresh token only in the cookie
    response = login(client, "ADA.lovelace@example.com", PASSWORD)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 15 * 60
    assert body["user"]["id"] == user["id"]
    assert "refreshToken" not in body
    first = refresh_cookie(response)
    assert first["path"] == REFRESH_COOKIE_PATH
    assert first["httponly"] is True and first["samesite"] == "Strict"
    assert int(first["max-age"]) == 14 * 24 * 3600
    assert first["value"] not in response.get_data(as_text=True)

    # me
    response = client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert response.status_code == 200
    assert response.get_json()["email"] == "ada.lovelace@example.com"

    # refresh: the browser sends the cookie; a new access token and a rotated cookie come back
    response = client.post("/api/auth/refresh")
    assert response.status_code == 200, response.get_json()
    refreshed = response.get_json()
    assert refreshed["tokenType"] == "Bearer" and refreshed["user"]["id"] == user["id"]
    second = refresh_cookie(response)
    assert second["value"] != first["value"]
    assert client.get("/api/auth/me", headers=bearer(refreshed["accessToken"])).status_code == 200

    # the old token again from the same browser within seconds (a second tab): the same pair
    present_refresh_token(client, first["value"])
    response = client.post("/api/auth/refresh")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["accessToken"] == refreshed["accessToken"]
    assert refresh_cookie(response)["value"] == second["value"]

    # the old token from another client: reuse, the whole family is revoked...
    present_refresh_token(client, first["value"])
    response = client.post("/api/auth/refresh", headers={"User-Agent": "somebody else"})
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REUSED")
    family = db.session.scalars(select(RefreshToken).join(User).where(User.email == "ada.lovelace@example.com")).all()
    assert len(family) == 2 and all(token.revoked_at is not None for token in family)

    # ...so the newer refresh token stops working too, and the access token issued with it at once
    present_refresh_token(client, second["value"])
    response = client.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    response = client.get("/api/auth/me", headers=bearer(refreshed["accessToken"]))
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")

    # a new sign-in starts a new family; logout ends it and clears the cookie
    response = login(client, "ada.lovelace@example.com", PASSWORD)
    third = refresh_cookie(response)
    response = client.post("/api/auth/logout")
    assert response.status_code == 204
    cleared = refresh_cookie(response)
    assert cleared["value"] == "" and cleared["max-age"] == "0" and cleared["path"] == REFRESH_COOKIE_PATH
    assert client.get_cookie("refresh_token", path=REFRESH_COOKIE_PATH) is None
    present_refresh_token(client, third["value"])
    response = client.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")


def test_access_token_is_refused_right_after_logout(client, customer):
    response = login(client, customer.email)
    access = response.get_json()["accessToken"]
    assert client.get("/api/auth/me", headers=bearer(access)).status_code == 200

    assert client.post("/api/auth/logout").status_code == 204

    response = client.get("/api/auth/me", headers=bearer(access))
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    # another session of the same user (another device) is untouched
    other_device = login(client, customer.email).get_json()["accessToken"]
    assert client.get("/api/auth/me", headers=bearer(other_device)).status_code == 200


def test_refresh_tokens_are_stored_only_as_sha256_hashes(client, customer):
    token = refresh_cookie(login(client, customer.email))["value"]
    stored = db.session.scalars(select(RefreshToken.token_hash).where(RefreshToken.user_id == customer.id)).all()
    assert stored == [hash_refresh_token(token)]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64


def test_register_refuses_a_taken_email_whatever_its_case(client, customer):
    response = client.post("/api/auth/register", json={"email": "GUEST@example.com", "password": PASSWORD})
    assert (response.status_code, response.get_json()["code"]) == (409, "EMAIL_TAKEN")


def test_register_refuses_weak_passwords(client):
    for password in ("short", "ada@example.com", "ADA@EXAMPLE.COM", "adalovelace", " " * 12):
        email = "ada@example.com" if "@" in password else "adalovelace@example.com"
        response = client.post("/api/auth/register", json={"email": email, "password": password})
        assert (response.status_code, response.get_json()["code"]) == (422, "WEAK_PASSWORD"), password


def test_register_refuses_bad_input_with_field_details(client):
    response = client.post("/api/auth/register", json={"email": "not-an-email", "password": PASSWORD})
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "VALIDATION_ERROR")
    assert "email" in body["details"]["fields"]
    response = client.post("/api/auth/register", json={"email": "a@example.com", "password": PASSWORD, "role": "admin"})
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "VALIDATION_ERROR")
    assert "role" in body["details"]["fields"]


def test_wrong_password_and_unknown_email_answer_alike(client, customer, monkeypatch):
    verifications: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verifications.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    wrong = login(client, customer.email, "not the right password")
    unknown = login(client, "nobody@example.com", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["code"] == "INVALID_CREDENTIALS"
    # one full argon2 verification each: the unknown email is checked against a dummy hash
    assert len(verifications) == 2
    assert verifications[0] == customer.password_hash and verifications[1] != customer.password_hash
    assert "Set-Cookie" not in wrong.headers


def test_deactivated_user_gets_invalid_credentials(client, customer):
    customer.is_active = False
    db.session.flush()
    response = login(client, customer.email)
    assert (response.status_code, response.get_json()["code"]) == (401, "INVALID_CREDENTIALS")


def test_login_rehashes_when_argon2_parameters_changed(client, make_user):
    user = make_user(email="old-hash@example.com")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(FIXTURE_PASSWORD)
    db.session.flush()
    old_hash = user.password_hash
    assert PasswordHasher().check_needs_rehash(old_hash)

    assert login(client, user.email).status_code == 200
    db.session.refresh(user)
    assert user.password_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert login(client, user.email).status_code == 200


def test_refresh_without_or_with_an_unknown_cookie_is_401(client):
    response = client.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "UNAUTHORIZED")
    present_refresh_token(client, "made-up-token")
    response = client.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_INVALID")


def test_logout_without_a_cookie_is_fine(client):
    response = client.post("/api/auth/logout")
    assert response.status_code == 204


def test_secure_cookie_is_secure_prefixed_and_the_only_one_read(make_app, customer):
    app = make_app(refresh_cookie_secure=True)
    client = app.test_client()
    response = login(client, customer.email)
    assert response.status_code == 200
    cookie = refresh_cookie(response, SECURE_REFRESH_COOKIE)
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["path"] == REFRESH_COOKIE_PATH

    # an unprefixed cookie (one a network attacker or a sibling subdomain could plant) is not read
    bare = app.test_client()
    present_refresh_token(bare, str(cookie["value"]))
    response = bare.post("/api/auth/refresh", base_url="https://localhost")
    assert (response.status_code, response.get_json()["code"]) == (401, "UNAUTHORIZED")

    present_refresh_token(client, str(cookie["value"]), SECURE_REFRESH_COOKIE)
    response = client.post("/api/auth/refresh", base_url="https://localhost")
    assert response.status_code == 200, response.get_json()
    assert refresh_cookie(response, SECURE_REFRESH_COOKIE)["value"] != cookie["value"]


def test_production_refuses_a_refresh_cookie_without_secure():
    settings = {"ENV": "production", "JWT_SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql+psycopg2:///x"}
    with pytest.raises(RuntimeError, match="REFRESH_COOKIE_SECURE"):
        Settings.from_env({**settings, "REFRESH_COOKIE_SECURE": "false"})


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:8001"])
def test_refresh_and_logout_refuse_a_foreign_origin(client, customer, origin):
    token = refresh_cookie(login(client, customer.email))["value"]
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        present_refresh_token(client, token)
        response = client.post(path, headers={"Origin": origin})
        assert (response.status_code, response.get_json()["code"]) == (403, "ORIGIN_NOT_ALLOWED"), path
    # the session is untouched: our own page (PUBLIC_BASE_URL) refreshes it
    response = client.post("/api/auth/refresh", headers={"Origin": "http://localhost:8000"})
    assert response.status_code == 200, response.get_json()


def test_cors_origins_may_refresh_too(make_app, customer):
    client = make_app(cors_origins="https://app.example.com, https://admin.example.com/").test_client()
    login(client, customer.email)
    response = client.post("/api/auth/refresh", headers={"Origin": "https://admin.example.com"})
    assert response.status_code == 200, response.get_json()


def test_me_requires_a_token(client):
    response = client.get("/api/auth/me")
    assert (response.status_code, response.get_json()["code"]) == (401, "UNAUTHORIZED")


def test_auth_endpoints_are_in_the_openapi_spec(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("register", "login", "refresh", "logout", "me"):
        assert f"/api/auth/{path}" in paths
    assert paths["/api/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "429" in paths["/api/auth/login"]["post"]["responses"]
    assert "patch" in paths["/api/admin/users/{user_id}"]
