"""postgres:// and postgresql:// URLs (what hosts hand out) work end to end: alembic, the app, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url

from api import create_app
from tests.conftest import TEST_SETTINGS
from tests.support import databases
from tests.support.databases import ROOT


@pytest.fixture
def empty_database(postgres_server_url: str) -> Iterator[str]:
    name = f"sk_urls_{os.getpid()}_{id(object())}"
    databases._admin(postgres_server_url, f'CREATE DATABASE "{name}"')
    yield databases.url_for_database(postgres_server_url, name)
    databases.drop_database(postgres_server_url, name)


def _as_scheme(url: str, scheme: str) -> str:
    return make_url(url).set(drivername=scheme).render_as_string(hide_password=False)


def _run(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENV": "test", "DATABASE_URL": database_url, "JWT_SECRET_KEY": TEST_SETTINGS["jwt_secret_key"]}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_alembic_the_cli_and_the_app_accept_the_url(empty_database, scheme):
    url = _as_scheme(empty_database, scheme)

    migrated = _run(["alembic", "upgrade", "head"], url)
    assert migrated.returncode == 0, migrated.stderr
    seeded = _run(["flask", "--app", "wsgi", "seed"], url)
    assert seeded.returncode == 0, seeded.stderr
    assert "Café Fausse: created" in seeded.stdout

    app = create_app({**TEST_SETTINGS, "database_url": url})
    response = app.test_client().get("/health/ready")
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        from api.extensions import db

        db.engine.dispose()
