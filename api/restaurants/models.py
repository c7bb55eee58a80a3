"""Restaurants, their tables, weekly opening hours and dated exceptions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base

DEFAULT_REFUND_POLICY: list[dict[str, int]] = [
    {"minHoursBefore": 24, "percent": 100},
    {"minHoursBefore": 4, "percent": 50},
]

# The platform whose ids the app frontend (FoodTok, fed by Yelp) knows restaurants by.
APP_PLATFORM = "yelp"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def describe_refund_policy(policy: list[dict[str, int]]) -> str:
    """The guest-facing sentence for a refund policy: tiers from the longest notice down.

    `[{24, 100}, {4, 50}]` reads "Full refund 24+ hours before your reservation; 50% refund
    4-24 hours before; no refund within 4 hours."
    """
    tiers = sorted(policy or [], key=lambda tier: -int(tier["minHoursBefore"]))
    if not tiers:
        return "Deposits are not refundable."
    parts: list[str] = []
    previous: int | None = None
    for tier in tiers:
        hours, percent = int(tier["minHoursBefore"]), int(tier["percent"])
        amount = "full refund" if percent >= 100 else "no refund" if percent <= 0 else f"{percent}% refund"
        if previous is None:
            window = f"{hours}+ hours before your reservation" if hours > 0 else "up to your reservation time"
        else:
            window = f"{hours}-{previous} hours before" if hours > 0 else f"within {previous} hours"
        parts.append(f"{amount} {window}")
        previous = hours
    if previous:
        parts.append(f"no refund within {previous} hours")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


class Restaurant(Base):
    __tablename__ = "restaurants"
    __table_args__ = (
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        CheckConstraint("default_duration_minutes BETWEEN 15 AND 720", name="duration_range"),
        CheckConstraint("min_party_size >= 1 AND max_party_size >= min_party_size", name="party_limits"),
        CheckConstraint("booking_horizon_days >= 1", name="horizon_positive"),
        CheckConstraint("min_lead_minutes >= 0", name="lead_non_negative"),
        CheckConstraint("deposit_per_person_cents >= 0", name="deposit_non_negative"),
        CheckConstraint("price_range BETWEEN 1 AND 4", name="price_range_1_4"),
        CheckConstraint("rating BETWEEN 0 AND 5", name="rating_0_5"),
        CheckConstraint("review_count >= 0", name="review_count_non_negative"),
        # The discovery feed filters on cuisine overlap (`cuisines && :wanted`) and on a
        # latitude/longitude bounding box before the exact haversine test (docs/discovery.md).
        Index("ix_restaurants_cuisines", "cuisines", postgresql_using="gin"),
        Index("ix_restaurants_latitude_longitude", "latitude", "longitude"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, default=30)
    default_duration_minutes: Mapped[int] = mapped_column(SmallInteger, default=90)
    # [{"maxParty": 4, "minutes": 90}, {"maxParty": 99, "minutes": 120}], first match wins.
    durations_by_party: Mapped[list[dict[str, int]]] = mapped_column(JSONB, default=list)
    min_party_size: Mapped[int] = mapped_column(SmallInteger, default=1)
    max_party_size: Mapped[int] = mapped_column(SmallInteger, default=12)
    booking_horizon_days: Mapped[int] = mapped_column(SmallInteger, default=60)
    min_lead_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    deposit_per_person_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    # [{"minHoursBefore": 24, "percent": 100}, ...], checked from the largest threshold down.
    refund_policy: Mapped[list[dict[str, int]]] = mapped_column(JSONB, default=lambda: list(DEFAULT_REFUND_POLICY))
    accepts_reservations: Mapped[bool] = mapped_column(Boolean, default=True)
    # Seed 002: the guest's "requested"/"confirmed" email when they book (docs/notifications.md).
    send_confirmation_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    description: Mapped[str] = mapped_column(Text, default="")
    cuisines: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    price_range: Mapped[int] = mapped_column(SmallInteger, default=2)
    rating: Mapped[float] = mapped_column(Float, default=0.0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    features: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(50), default="")
    zip_code: Mapped[str] = mapped_column(String(20), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    tables: Mapped[list[DiningTable]] = relationship(
        back_populates="restaurant", order_by="DiningTable.number", cascade="all, delete-orphan"
    )
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="(OpeningHours.weekday, OpeningHours.opens_at)", cascade="all, delete-orphan"
    )
    external_id_rows: Mapped[list[ExternalId]] = relationship(
        order_by="ExternalId.platform", cascade="all, delete-orphan"
    )

    @property
    def external_ids(self) -> dict[str, str]:
        """`{"yelp": "gR9D..."}`: the ids other platforms know this restaurant by."""
        return {row.platform: row.external_id for row in self.external_id_rows}

    @property
    def app_id(self) -> str:
        """The id the app frontend knows this restaurant by: its Yelp id when registered, else ours."""
        return self.external_ids.get(APP_PLATFORM) or str(self.id)

    @property
    def full_address(self) -> str:
        """One line for the app: "234 Greenwich Ave, New York, NY 10011" (empty parts left out)."""
        region = " ".join(part for part in (self.state, self.zip_code) if part)
        return ", ".join(part for part in (self.address, self.city, region) if part)

    @property
    def cancellation_policy(self) -> str:
        """The refund policy in words (seed 000's `cancellationPolicy`)."""
        return describe_refund_policy(self.refund_policy)

    @property
    def weekly_hours(self) -> dict[str, dict[str, object]]:
        """Seed 000's `hours`: per weekday, open or not, from the earliest opening to the latest closing."""
        week: dict[str, dict[str, object]] = {}
        for weekday, name in enumerate(WEEKDAYS):
            periods = [p for p in self.opening_hours if p.weekday == weekday]
            if not periods:
                week[name] = {"is_open": False, "open_time": None, "close_time": None}
                continue
            week[name] = {
                "is_open": True,
                "open_time": min(p.opens_at for p in periods),
                "close_time": max(p.closes_at for p in periods),
            }
        return week

    def duration_minutes_for(self, party_size: int) -> int:
        """How long a party of this size occupies its table."""
        for rule in self.durations_by_party or []:
            if party_size <= int(rule["maxParty"]):
                return int(rule["minutes"])
        return self.default_duration_minutes


class ExternalId(Base):
    """The restaurant's id on another platform (`yelp`): the app frontend may name it by that id."""

    __tablename__ = "restaurant_external_ids"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        CheckConstraint("platform = lower(platform)", name="platform_lowercase"),
        Index("ix_restaurant_external_ids_external_id", "external_id"),
    )

    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(30), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200))


EXTERNAL_ID_UNIQUE_CONSTRAINT = "uq_restaurant_external_ids_platform_external_id"


class DiningTable(Base):
    __tablename__ = "dining_tables"
    __table_args__ = (
        UniqueConstraint("restaurant_id", "number"),
        # The target of table_occupancies' (table_id, table_key) foreign key: a claim's key is its table's.
        UniqueConstraint("id", "occupancy_key"),
        CheckConstraint("min_seats >= 1 AND max_seats >= min_seats", name="seats_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # The table's number in the occupancy exclusion constraint: GiST has no uuid equality without
    # btree_gist (which the embedded PostgreSQL lacks), but it compares int8ranges; each claim
    # carries its table's key as the one-point range [key, key] (docs/booking-flow.md).
    occupancy_key: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40), default="")
    min_seats: Mapped[int] = mapped_column(SmallInteger, default=1)
    max_seats: Mapped[int] = mapped_column(SmallInteger)
    area: Mapped[str] = mapped_column(String(60), default="main")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    restaurant: Mapped[Restaurant] = relationship(back_populates="tables")


class OpeningHours(Base):
    """One service period on one weekday (0 = Monday), in the restaurant's local time.

    Several periods per day are allowed (lunch and dinner). Seatings start from `opens_at`
    every slot up to, but not including, `closes_at`.
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        UniqueConstraint("restaurant_id", "weekday", "opens_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)

    @property
    def day(self) -> str:
        return WEEKDAYS[self.weekday]


class SpecialHours(Base):
    """A dated exception: closed all day (no times) or open for one period instead of the week's."""

    __tablename__ = "special_hours"
    __table_args__ = (
        CheckConstraint(
            "(opens_at IS NULL AND closes_at IS NULL) OR (opens_at IS NOT NULL AND closes_at > opens_at)",
            name="closed_or_period",
        ),
        UniqueConstraint("restaurant_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    service_date: Mapped[date] = mapped_column(Date)
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    reason: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_closed(self) -> bool:
        return self.opens_at is None


class SettingsChange(Base):
    """The audit of `PUT /api/restaurants/<id>/settings`: who changed what, when, before and after."""

    __tablename__ = "restaurant_settings_changes"
    __table_args__ = (Index("ix_restaurant_settings_changes_restaurant_id_at", "restaurant_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The whole settings document before and after (camelCase, as the API shows it), and the keys that changed.
    old: Mapped[dict[str, object]] = mapped_column(JSONB)
    new: Mapped[dict[str, object]] = mapped_column(JSONB)
    changed: Mapped[list[str]] = mapped_column(ARRAY(String(60)))


class FloorArea(Base):
    """A room of the floor plan (dining room, terrace, bar): a rectangle on the plan, in plan units."""

    __tablename__ = "floor_areas"
    __table_args__ = (
        UniqueConstraint("restaurant_id", "name"),
        CheckConstraint("kind IN ('room', 'terrace', 'bar', 'private', 'other')", name="kind_valid"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), default="room")
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[float] = mapped_column(Float)
    height: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)


class TableLayout(Base):
    """Where a table stands on the floor plan: its area, position, size, shape and rotation."""

    __tablename__ = "table_layouts"
    __table_args__ = (
        CheckConstraint("shape IN ('rect', 'round')", name="shape_valid"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint("rotation >= 0 AND rotation < 360", name="rotation_range"),
    )

    table_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dining_tables.id", ondelete="CASCADE"), primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("floor_areas.id", ondelete="SET NULL"))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    width: Mapped[float] = mapped_column(Float)
    height: Mapped[float] = mapped_column(Float)
    shape: Mapped[str] = mapped_column(String(10), default="rect")
    rotation: Mapped[float] = mapped_column(Float, default=0.0)


class PrimetimeWindow(Base):
    """A weekly window (0 = Monday, local time) in which bookings wait for the restaurant's approval (seed 002).

    A booking whose local start falls in `[start_time, end_time)` of an active window of its
    weekday is created `pending` and holds its table until staff approve or reject it.
    """

    __tablename__ = "primetime_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_starts"),
        Index("ix_primetime_windows_restaurant_id_weekday", "restaurant_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restaurant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("restaurants.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def day(self) -> str:
        return WEEKDAYS[self.weekday]
