"""Helpers shared by the accounts tests.

A note on the harness: requests made by the test client run inside the test's own app context,
so they share its session. A service that raises inside `atomic()` rolls that session back,
and with it every row the test only *flushed*. Tests that go on after an error call
`keep_setup()` first: in the test harness a commit only releases a savepoint, and the outer
transaction is still rolled back when the test ends.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.accounts.tokens import REFRESH_COOKIE, REFRESH_COOKIE_PATH
from api.extensions import db

# The password tests/conftest.py gives every user it makes.
FIXTURE_PASSWORD = "correct horse battery staple"


def refresh_cookie(response: TestResponse, name: str = REFRESH_COOKIE) -> dict[str, object]:
    """The refresh cookie a response sets: its value and attributes (`httponly`/`secure` are booleans)."""
    for header in response.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            return {"value": morsel.value, **{key: value for key, value in morsel.items()}}
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def present_refresh_token(client: FlaskClient, token: str, name: str = REFRESH_COOKIE) -> None:
    """Put `token` in the client's cookie jar, as a browser holding it would send it."""
    client.set_cookie(name, token, path=REFRESH_COOKIE_PATH)


def login(client: FlaskClient, email: str, password: str = FIXTURE_PASSWORD) -> TestResponse:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def keep_setup() -> None:
    """Let the rows created so far survive a rollback later in the test (see the module docstring)."""
    db.session.commit()
