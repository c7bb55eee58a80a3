"""No password, password hash or token reaches a log line, whatever happens during a sign-in story.

Everything is captured at DEBUG: pytest's caplog on the root logger and, separately, the exact
text our JSON formatter writes. The story runs on an app of its own against a committing
database so that the SQL engine opens its connections while DEBUG is on and logs every statement
(SQLAlchemy's statement log is opened too: its parameters must be hidden even then).
"""

from __future__ import annotations

import io
import logging

from sqlalchemy import select

from api.accounts.models import RefreshToken, User
from api.accounts.tokens import hash_refresh_token
from api.extensions import db
from api.logging import JsonFormatter
from tests.accounts.conftest import present_refresh_token, refresh_cookie

PASSWORD = "Tr0ub4dor&3-horse-battery"
WRONG_PASSWORD = "not-my-password-at-all"


def test_full_flow_logs_no_password_hash_or_token(make_app, committing_database, caplog):
    app = make_app(database_url=committing_database, log_level="DEBUG", ratelimit_enabled=True)
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy pins its own loggers at WARNING; open them as `echo=True` would: every statement with
    # its parameters. (`echo="debug"` would also print result rows, password hashes included: never in prod.)
    caplog.set_level(logging.INFO, logger="sqlalchemy")
    formatted = io.StringIO()
    json_handler = logging.StreamHandler(formatted)
    json_handler.setFormatter(JsonFormatter())
    json_handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(json_handler)
    secrets: dict[str, str] = {"password": PASSWORD, "wrong password": WRONG_PASSWORD}
    try:
        client = app.test_client()
        email = "secretive@example.com"
        assert client.post("/api/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
        # a duplicate: the unique violation goes through IntegrityError
        assert client.post("/api/auth/register", json={"email": email, "password": PASSWORD}).status_code == 409
        assert client.post("/api/auth/login", json={"email": email, "password": WRONG_PASSWORD}).status_code == 401
        response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200
        secrets["access token"] = response.get_json()["accessToken"]
        secrets["refresh token"] = first = refresh_cookie(response)["value"]
        assert (
            client.get("/api/auth/me", headers={"Authorization": f"Bearer {secrets['access token']}"}).status_code
            == 200
        )
        response = client.post("/api/auth/refresh")
        assert response.status_code == 200
        secrets["rotated access token"] = response.get_json()["accessToken"]
        secrets["rotated refresh token"] = refresh_cookie(response)["value"]
        present_refresh_token(client, first)
        reused = client.post("/api/auth/refresh", headers={"User-Agent": "another client"})
        assert reused.get_json()["code"] == "TOKEN_REUSED"
        assert client.post("/api/auth/logout").status_code == 204
        # brute force until the limiter logs its breach
        for _ in range(6):
            client.post("/api/auth/login", json={"email": email, "password": WRONG_PASSWORD})
        with app.app_context():
            secrets["argon2 hash"] = db.session.scalar(select(User.password_hash).where(User.email == email))
            secrets["refresh token hash"] = hash_refresh_token(first)
            stored = db.session.scalars(select(RefreshToken.token_hash)).all()
            assert secrets["refresh token hash"] in stored
            db.engine.dispose()
    finally:
        root.removeHandler(json_handler)

    # the argon2 hash without its parameter prefix: the salt and digest alone must not appear either
    secrets["argon2 salt+digest"] = (
        secrets["argon2 hash"].rsplit("$", 2)[-2] + "$" + secrets["argon2 hash"].rsplit("$")[-1]
    )
    captured = [
        "\n".join(
            f"{record.name} {record.levelname} {record.getMessage()} {record.args!r} {vars(record)!r}"
            for record in caplog.records
        ),
        caplog.text,
        formatted.getvalue(),
    ]
    assert len(caplog.records) > 20, "the story should have produced plenty of log records"
    assert any(record.name.startswith("sqlalchemy.engine") for record in caplog.records), "SQL must be logged"
    assert any(record.name == "flask-limiter" for record in caplog.records), "the limiter breach must be logged"
    assert any(record.name == "api.accounts" for record in caplog.records), "the reuse warning must be logged"
    for name, secret in secrets.items():
        for text in captured:
            assert secret not in text, f"the {name} appears in the logs"
