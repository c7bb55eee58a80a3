"""Real PostgreSQL for the test suite: the embedded server by default, or TEST_DATABASE_URL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def postgres_server(variable: str = "TEST_DATABASE_URL") -> Iterator[str]:
    """Yield a URL to a server where we may create databases: the one `variable` names, else an embedded one."""
    explicit = os.environ.get(variable)
    if explicit:
        yield explicit
        return
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    from api.embedded_pg import sqlalchemy_url

    with tempfile.TemporaryDirectory(prefix="sk-pg-") as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            yield sqlalchemy_url(server.get_uri(), "postgres")
        finally:
            server.cleanup()


def url_for_database(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(url_for_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    return config


def create_migrated_template(server_url: str) -> tuple[str, str]:
    """Create a database, run `alembic upgrade head` on it, return (name, url)."""
    name = f"sk_template_{uuid.uuid4().hex[:10]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    url = url_for_database(server_url, name)
    command.upgrade(alembic_config(url), "head")
    return name, url


def clone_database(server_url: str, template: str, prefix: str = "sk_test") -> tuple[str, str]:
    """`CREATE DATABASE ... TEMPLATE` (nothing may be connected to the template)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, url_for_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_database(variable: str) -> Iterator[str]:
    """A fresh database migrated to head, on `variable`'s server or an embedded one; dropped afterwards."""
    with postgres_server(variable) as server_url:
        name, url = create_migrated_template(server_url)
        try:
            yield url
        finally:
            drop_database(server_url, name)
