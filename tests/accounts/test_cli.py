"""`flask prune-tokens` and `flask create-admin`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from api.accounts import service
from api.accounts.models import RefreshToken, Role
from api.extensions import db
from tests.accounts.conftest import FIXTURE_PASSWORD, login


def test_prune_tokens_deletes_expired_refresh_tokens(app, customer):
    now = datetime.now(UTC)
    service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now - timedelta(days=30))
    service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    result = app.test_cli_runner().invoke(args=["prune-tokens"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 expired refresh token(s)" in result.output
    assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 1


def test_create_admin_makes_an_admin_who_can_sign_in(app, client, monkeypatch):
    monkeypatch.setenv("SK_TEST_ADMIN_PASSWORD", "a long admin passphrase")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Boss@Example.com", "--password-env", "SK_TEST_ADMIN_PASSWORD"]
    )
    assert result.exit_code == 0, result.output
    assert "admin created" in result.output
    assert "a long admin passphrase" not in result.output
    response = login(client, "boss@example.com", "a long admin passphrase")
    assert response.status_code == 200
    assert response.get_json()["user"]["role"] == Role.ADMIN
