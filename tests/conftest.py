"""Test harness: one real PostgreSQL per session, schema built by alembic, each test isolated.

- `template_database`: a database migrated with `alembic upgrade head` once per session.
- `app` / `client`: bound to a clone of the template; every test runs inside an outer
  transaction that is rolled back (SQLAlchemy's "join a session into an external
  transaction" recipe), so route commits vanish after the test.
- `committing_database`: a fresh clone for tests that need real commits (gunicorn, several
  connections, workers); dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.accounts import service as accounts_service
from api.accounts.models import Role, User
from api.extensions import db, limiter
from tests.support import databases

TEST_SETTINGS: dict[str, Any] = {
    "env": "test",
    "ratelimit_enabled": False,
    # flask-limiter keeps the first key prefix it is given for the process: one per test session,
    # so parallel runs sharing a Redis never count each other's requests.
    "ratelimit_key_prefix": f"sk-test-{uuid.uuid4().hex[:12]}",
    # Many tests book one email several times in an evening; the guard has its own tests.
    "duplicate_guard_minutes": 0,
    "refresh_cookie_secure": False,
    "log_level": "WARNING",
    "jwt_secret_key": "test-secret-key-that-is-long-enough-0123456789",
}


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with databases.postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def template_database(postgres_server_url: str) -> Iterator[str]:
    name, _url = databases.create_migrated_template(postgres_server_url)
    yield name
    databases.drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str, template_database: str) -> Iterator[str]:
    name, url = databases.clone_database(postgres_server_url, template_database)
    yield url
    databases.drop_database(postgres_server_url, name)


@pytest.fixture
def committing_database(postgres_server_url: str, template_database: str) -> Iterator[str]:
    """A database of its own, cloned from the migrated template, where commits are real."""
    name, url = databases.clone_database(postgres_server_url, template_database, prefix="sk_commit")
    yield url
    databases.drop_database(postgres_server_url, name)


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build an app on the session's test database with extra settings."""

    def factory(**overrides: Any) -> Flask:
        return create_app({**TEST_SETTINGS, "database_url": database_url, **overrides})

    yield factory
    # flask-limiter has one configuration per process (the last `init_app` wins, as in production
    # where each process runs one app): an app built with limits on must not leave them on for the
    # apps of the next tests.
    limiter.enabled = TEST_SETTINGS["ratelimit_enabled"]


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app({**TEST_SETTINGS, "database_url": database_url})
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test inside an outer transaction that is rolled back afterwards."""
    if "committing_database" in request.fixturenames or "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        factory_kw = db.session.session_factory.kw
        saved = dict(factory_kw)
        factory_kw.update(bind=connection, join_transaction_mode="create_savepoint")
        db.session.remove()
        try:
            yield
        finally:
            db.session.remove()
            factory_kw.clear()
            factory_kw.update(saved)
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    """A fixed instant for service-level tests (routes use the real clock)."""
    return datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _make_user(role: Role, email: str, restaurant_id: Any = None) -> User:
    from argon2 import PasswordHasher

    user = User(
        email=email,
        password_hash=PasswordHasher().hash("correct horse battery staple"),
        name=email.split("@")[0].title(),
        role=role,
        restaurant_id=restaurant_id,
    )
    db.session.add(user)
    # In the test transaction a commit only releases the savepoint: the row survives a later
    # rollback caused by an error response, and still vanishes when the test ends.
    db.session.commit()
    return user


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user inside the test transaction."""

    def factory(role: Role = Role.CUSTOMER, email: str | None = None, restaurant_id: Any = None) -> User:
        email = email or f"{role}-{datetime.now(UTC).timestamp()}-{id(object())}@example.com"
        return _make_user(role, email.lower(), restaurant_id)

    return factory


def bearer(user: User) -> dict[str, str]:
    """Authorization header for `user`: the access token of a new session (committed; access tokens
    live only as long as their session)."""
    return {"Authorization": f"Bearer {session_token(user)}"}


def session_token(user: User) -> str:
    """A fresh session's access token for `user`, as sign-in would hand out."""
    return accounts_service.start_session(user=user, now=datetime.now(UTC)).access_token


@pytest.fixture
def auth_headers(app: Flask) -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        with app.app_context():
            return bearer(user)

    return headers


@pytest.fixture
def customer(make_user: Callable[..., User]) -> User:
    return make_user(Role.CUSTOMER, "guest@example.com")


@pytest.fixture
def other_customer(make_user: Callable[..., User]) -> User:
    return make_user(Role.CUSTOMER, "other-guest@example.com")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "admin@example.com")
