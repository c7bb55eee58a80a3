"""initial schema

Revision ID: aec94b4778da
Revises:
Create Date: 2026-11-21 19:49:04.497366
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "aec94b4778da"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_customers_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("email", name=op.f("uq_customers_email")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False)
    op.create_table(
        "newsletter_subscribers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_newsletter_subscribers_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_newsletter_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_newsletter_subscribers_email")),
        sa.UniqueConstraint("unsubscribe_token", name=op.f("uq_newsletter_subscribers_unsubscribe_token")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        "ix_outbox_messages_pending",
        "outbox_messages",
        ["available_at", "id"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "restaurants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("slot_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("default_duration_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("durations_by_party", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("min_party_size", sa.SmallInteger(), nullable=False),
        sa.Column("max_party_size", sa.SmallInteger(), nullable=False),
        sa.Column("booking_horizon_days", sa.SmallInteger(), nullable=False),
        sa.Column("min_lead_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("deposit_per_person_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refund_policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("accepts_reservations", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cuisines", sa.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("price_range", sa.SmallInteger(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("images", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("features", sa.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column("zip_code", sa.String(length=20), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("booking_horizon_days >= 1", name=op.f("ck_restaurants_horizon_positive")),
        sa.CheckConstraint("default_duration_minutes BETWEEN 15 AND 720", name=op.f("ck_restaurants_duration_range")),
        sa.CheckConstraint("deposit_per_person_cents >= 0", name=op.f("ck_restaurants_deposit_non_negative")),
        sa.CheckConstraint("min_lead_minutes >= 0", name=op.f("ck_restaurants_lead_non_negative")),
        sa.CheckConstraint(
            "min_party_size >= 1 AND max_party_size >= min_party_size",
            name=op.f("ck_restaurants_party_limits"),
        ),
        sa.CheckConstraint("price_range BETWEEN 1 AND 4", name=op.f("ck_restaurants_price_range_1_4")),
        sa.CheckConstraint("rating BETWEEN 0 AND 5", name=op.f("ck_restaurants_rating_0_5")),
        sa.CheckConstraint("review_count >= 0", name=op.f("ck_restaurants_review_count_non_negative")),
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 240", name=op.f("ck_restaurants_slot_minutes_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restaurants")),
        sa.UniqueConstraint("slug", name=op.f("uq_restaurants_slug")),
    )
    op.create_table(
        "dining_tables",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("min_seats", sa.SmallInteger(), nullable=False),
        sa.Column("max_seats", sa.SmallInteger(), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("min_seats >= 1 AND max_seats >= min_seats", name=op.f("ck_dining_tables_seats_range")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_dining_tables_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dining_tables")),
        sa.UniqueConstraint("restaurant_id", "number", name=op.f("uq_dining_tables_restaurant_id_number")),
    )
    op.create_index(op.f("ix_dining_tables_restaurant_id"), "dining_tables", ["restaurant_id"], unique=False)
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_opening_hours_closes_after_opens")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_opening_hours_weekday_range")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_opening_hours_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
        sa.UniqueConstraint(
            "restaurant_id",
            "weekday",
            "opens_at",
            name=op.f("uq_opening_hours_restaurant_id_weekday_opens_at"),
        ),
    )
    op.create_table(
        "special_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=True),
        sa.Column("closes_at", sa.Time(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "(opens_at IS NULL AND closes_at IS NULL) OR (opens_at IS NOT NULL AND closes_at > opens_at)",
            name=op.f("ck_special_hours_closed_or_period"),
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_special_hours_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_hours")),
        sa.UniqueConstraint("restaurant_id", "service_date", name=op.f("uq_special_hours_restaurant_id_service_date")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('customer', 'staff', 'admin')", name=op.f("ck_users_role_valid")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_users_restaurant_id_restaurants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("table_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("party_size", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("deposit_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_holds_ends_after_starts")),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_holds_expires_after_created")),
        sa.CheckConstraint("party_size >= 1", name=op.f("ck_holds_party_size_positive")),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_holds_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["dining_tables.id"],
            name=op.f("fk_holds_table_id_dining_tables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_holds_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("user_id", name=op.f("uq_holds_user_id")),
    )
    op.create_index("ix_holds_expires_at", "holds", ["expires_at"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("family_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_expires_at"), "refresh_tokens", ["expires_at"], unique=False)
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False)
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "reservations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("table_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("confirmation_code", sa.String(length=12), nullable=False),
        sa.Column("party_size", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("special_requests", sa.Text(), nullable=False),
        sa.Column("deposit_cents", sa.Integer(), nullable=False),
        sa.Column("deposit_paid", sa.Boolean(), nullable=False),
        sa.Column("payment_brand", sa.String(length=30), nullable=True),
        sa.Column("payment_last4", sa.String(length=4), nullable=True),
        sa.Column("refund_policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("refund_cents", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source IN ('web', 'app', 'staff')", name=op.f("ck_reservations_source_valid")),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_reservations_status_valid"),
        ),
        sa.CheckConstraint("customer_id IS NOT NULL OR user_id IS NOT NULL", name=op.f("ck_reservations_has_guest")),
        sa.CheckConstraint("deposit_cents >= 0", name=op.f("ck_reservations_deposit_non_negative")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_reservations_ends_after_starts")),
        sa.CheckConstraint("party_size >= 1", name=op.f("ck_reservations_party_size_positive")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_reservations_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_reservations_restaurant_id_restaurants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["dining_tables.id"],
            name=op.f("fk_reservations_table_id_dining_tables"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reservations_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("confirmation_code", name=op.f("uq_reservations_confirmation_code")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_reservations_hold_id")),
    )
    op.create_index(
        "ix_reservations_restaurant_id_service_date",
        "reservations",
        ["restaurant_id", "service_date", "starts_at"],
        unique=False,
    )
    op.create_index("ix_reservations_user_id_starts_at", "reservations", ["user_id", "starts_at"], unique=False)
    op.create_table(
        "table_occupancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restaurant_id", sa.UUID(), nullable=False),
        sa.Column("table_id", sa.UUID(), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reservation_id", sa.UUID(), nullable=True),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(hold_id IS NULL) = (expires_at IS NULL)", name=op.f("ck_table_occupancies_hold_rows_expire")
        ),
        sa.CheckConstraint("num_nonnulls(reservation_id, hold_id) = 1", name=op.f("ck_table_occupancies_one_owner")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_table_occupancies_hold_id_holds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_table_occupancies_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["restaurant_id"],
            ["restaurants.id"],
            name=op.f("fk_table_occupancies_restaurant_id_restaurants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["dining_tables.id"],
            name=op.f("fk_table_occupancies_table_id_dining_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_table_occupancies")),
        sa.UniqueConstraint(
            "restaurant_id",
            "table_id",
            "slot_start",
            name=op.f("uq_table_occupancies_restaurant_id_table_id_slot_start"),
        ),
    )
    op.create_index("ix_table_occupancies_hold_id", "table_occupancies", ["hold_id"], unique=False)
    op.create_index("ix_table_occupancies_reservation_id", "table_occupancies", ["reservation_id"], unique=False)
    op.create_index(
        "ix_table_occupancies_restaurant_id_slot_start",
        "table_occupancies",
        ["restaurant_id", "slot_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_table_occupancies_restaurant_id_slot_start", table_name="table_occupancies")
    op.drop_index("ix_table_occupancies_reservation_id", table_name="table_occupancies")
    op.drop_index("ix_table_occupancies_hold_id", table_name="table_occupancies")
    op.drop_table("table_occupancies")
    op.drop_index("ix_reservations_user_id_starts_at", table_name="reservations")
    op.drop_index("ix_reservations_restaurant_id_service_date", table_name="reservations")
    op.drop_table("reservations")
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_index(op.f("ix_refresh_tokens_expires_at"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_holds_expires_at", table_name="holds")
    op.drop_table("holds")
    op.drop_table("users")
    op.drop_table("special_hours")
    op.drop_table("opening_hours")
    op.drop_index(op.f("ix_dining_tables_restaurant_id"), table_name="dining_tables")
    op.drop_table("dining_tables")
    op.drop_table("restaurants")
    op.drop_index(
        "ix_outbox_messages_pending",
        table_name="outbox_messages",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("outbox_messages")
    op.drop_table("newsletter_subscribers")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("customers")
