"""The app refuses to start with unsafe settings anywhere but tests; DATABASE_URL is read in one place."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from api import create_app
from api.config import Settings, normalize_database_url

SECRET = "s" * 48
SAFE = {"JWT_SECRET_KEY": SECRET, "DATABASE_URL": "postgresql://u:p@db/seatkeeper"}


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_development_jwt_secret_is_refused_outside_test(env):
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        Settings.from_env({"ENV": env, "DATABASE_URL": "postgresql://u:p@db/seatkeeper"})


def test_the_app_factory_refuses_to_start_with_the_development_secret(monkeypatch):
    monkeypatch.setenv("ENV", "production")
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app({"database_url": "postgresql://u:p@db/seatkeeper"})


def test_tests_may_use_the_development_secret():
    assert Settings.from_env({"ENV": "test"}).env == "test"


def test_stripe_without_a_webhook_secret_is_refused_outside_test():
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        Settings.from_env({**SAFE, "ENV": "development", "STRIPE_SECRET_KEY": "sk_test_x"})
    Settings.from_env({**SAFE, "ENV": "development", "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "w"})


@pytest.mark.parametrize("env", ["development", "production"])
def test_memory_rate_limits_with_several_workers_are_refused(env):
    several = {**SAFE, "ENV": env, "WEB_CONCURRENCY": "4"}
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        Settings.from_env({**several, "RATELIMIT_STORAGE_URI": "memory://"})
    Settings.from_env({**several, "RATELIMIT_STORAGE_URI": "redis://redis:6379/0"})
    Settings.from_env({**SAFE, "ENV": env, "WEB_CONCURRENCY": "1", "RATELIMIT_STORAGE_URI": "memory://"})
    Settings.from_env({**several, "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": "false"})


def test_overrides_are_checked_too():
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        Settings.from_env({"ENV": "test"}, overrides={"env": "production", "database_url": "postgresql://x/y"})


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p%40ss@db:5432/seatkeeper?sslmode=require",
        "postgresql://u:p%40ss@db:5432/seatkeeper?sslmode=require",
        "postgresql+psycopg2://u:p%40ss@db:5432/seatkeeper?sslmode=require",
    ],
)
def test_every_postgres_url_form_becomes_the_psycopg2_url(url):
    expected = "postgresql+psycopg2://u:p%40ss@db:5432/seatkeeper?sslmode=require"
    assert normalize_database_url(url) == expected
    assert Settings.from_env({"ENV": "test", "DATABASE_URL": url}).database_url == expected


def test_a_socket_url_keeps_its_host_query():
    normalized = make_url(normalize_database_url("postgresql://postgres@/seatkeeper?host=/tmp/sock"))
    assert (normalized.drivername, normalized.database, normalized.query["host"]) == (
        "postgresql+psycopg2",
        "seatkeeper",
        "/tmp/sock",
    )


def test_a_url_of_another_database_is_refused():
    with pytest.raises(ValueError, match="DATABASE_URL"):
        normalize_database_url("mysql://u:p@db/seatkeeper")
