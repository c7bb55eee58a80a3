"""alembic is the only way the schema is made: it must round-trip and match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

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


def test_exact_time_occupancy_migration_moves_bucket_claims_over_and_back(postgres_server_url, template_database):
    """Bucket claims become one exact-time claim per owner; the downgrade cuts them back into buckets."""
    name, url = databases.clone_database(postgres_server_url, template_database, prefix="sk_mig")
    engine = create_engine(url)
    try:
        config = databases.alembic_config(url)
        command.downgrade(config, "95889dada2c6")
        with engine.begin() as conn:
            conn.execute(
                text(
                    """
                    INSERT INTO restaurants (id, slug, name, timezone, slot_minutes, default_duration_minutes,
                        durations_by_party, min_party_size, max_party_size, booking_horizon_days, min_lead_minutes,
                        deposit_per_person_cents, currency, refund_policy, accepts_reservations, description,
                        cuisines, price_range, rating, review_count, images, features, address, city, state,
                        zip_code, phone, email)
                    VALUES ('00000000-0000-0000-0000-000000000001', 'm', 'M', 'UTC', 30, 90, '[]', 1, 12, 60, 0,
                        0, 'usd', '[]', true, '', '{}', 2, 0, 0, '{}', '{}', '', '', '', '', '', '');
                    INSERT INTO dining_tables (id, restaurant_id, number, label, min_seats, max_seats, area, is_active)
                    VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001',
                        1, 'T1', 1, 2, 'main', true);
                    INSERT INTO customers (id, email, name, phone)
                    VALUES ('00000000-0000-0000-0000-0000000000c1', 'a@example.com', 'A', '');
                    INSERT INTO reservations (id, restaurant_id, table_id, customer_id, confirmation_code,
                        party_size, starts_at, ends_at, service_date, status, source, special_requests,
                        deposit_cents, deposit_paid, refund_policy, refund_cents)
                    VALUES ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-000000000001',
                        '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000c1', 'FT-AAAAAA',
                        2, '2030-01-01 19:00Z', '2030-01-01 20:30Z', '2030-01-01', 'confirmed', 'web', '', 0, false,
                        '[]', 0);
                    INSERT INTO table_occupancies (restaurant_id, table_id, slot_start, reservation_id)
                    SELECT '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000a1', b,
                        '00000000-0000-0000-0000-0000000000e1'
                    FROM generate_series('2030-01-01 19:00Z'::timestamptz, '2030-01-01 20:00Z', '30 minutes') b;
                    """
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            claims = conn.execute(text("SELECT starts_at, ends_at, table_key FROM table_occupancies")).all()
            key = conn.execute(text("SELECT occupancy_key FROM dining_tables")).scalar_one()
        assert [(c.starts_at.isoformat(), c.ends_at.isoformat(), c.table_key) for c in claims] == [
            ("2030-01-01T19:00:00+00:00", "2030-01-01T20:30:00+00:00", key)
        ]
        command.downgrade(config, "95889dada2c6")
        with engine.connect() as conn:
            buckets = conn.execute(text("SELECT slot_start FROM table_occupancies ORDER BY slot_start")).scalars()
            assert [b.strftime("%H:%M") for b in buckets] == ["19:00", "19:30", "20:00"]
    finally:
        engine.dispose()
        databases.drop_database(postgres_server_url, name)
