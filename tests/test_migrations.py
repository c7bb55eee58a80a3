"""alembic is the only way the schema is made: it must round-trip and match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from api import models  # noqa: F401
from api.db import Base
from tests.support import databases


def test_upgrade_downgrade_upgrade_round_trip(postgres_server_url, template_database):
    name, url = databases.clone_database(postgres_server_url, template_database, prefix="sk_mig")
    try:
        config = databases.alembic_config(url)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    finally:
        databases.drop_database(postgres_server_url, name)


def test_models_and_migrations_do_not_drift(postgres_server_url, template_database):
    engine = create_engine(databases.url_for_database(postgres_server_url, template_database))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
