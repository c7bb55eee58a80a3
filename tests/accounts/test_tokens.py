"""Access tokens: `iss`, `aud` and `exp` required and checked; a token lives only as long as its session."""

from __future__ import annotations

import jwt
import pytest

from tests.accounts.conftest import login
from tests.conftest import TEST_SETTINGS


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def signed(claims: dict) -> str:
    """`claims` signed with the app's own secret: only the claims can be wrong."""
    return jwt.encode(claims, TEST_SETTINGS["jwt_secret_key"], algorithm="HS256")


def me(client, token: str):
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_a_signed_in_token_names_issuer_audience_and_expiry(client, customer):
    token = login(client, customer.email).get_json()["accessToken"]
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"]) == ("seatkeeper", "seatkeeper-api")
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert me(client, signed(claims)).status_code == 200  # the control: re-signing changes nothing


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-api"},
        {"aud": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"exp": None},
    ],
    ids=["wrong aud", "no aud", "wrong iss", "no iss", "no exp"],
)
def test_a_token_with_a_wrong_or_missing_claim_is_401(client, customer, change):
    claims = claims_of(login(client, customer.email).get_json()["accessToken"])
    for name, value in change.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    response = me(client, signed(claims))
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_INVALID")


def test_a_token_of_no_session_is_401(client, customer):
    """A token whose `jti` names no refresh token (one minted outside a sign-in) is refused."""
    claims = claims_of(login(client, customer.email).get_json()["accessToken"])
    claims["jti"] = "00000000-0000-0000-0000-000000000000"
    response = me(client, signed(claims))
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
