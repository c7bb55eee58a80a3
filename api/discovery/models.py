"""A user's dining preferences and their like/pass swipes on restaurants."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, DateTime, Float, ForeignKey, Index, SmallInteger, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, check_constraint_for

DEFAULT_MAX_DISTANCE_MILES = 10.0
MAX_DISTANCE_MILES_LIMIT = 500.0


class SwipeAction(enum.StrEnum):
    LIKE = "like"
    PASS = "pass"


class UserPreferences(Base):
    """What a user wants from the feed: hard filters (cuisines, prices, distance) and a home location."""

    __tablename__ = "user_preferences"
    __table_args__ = (
        CheckConstraint("(home_latitude IS NULL) = (home_longitude IS NULL)", name="home_complete"),
        CheckConstraint("home_latitude BETWEEN -90 AND 90", name="home_latitude_range"),
        CheckConstraint("home_longitude BETWEEN -180 AND 180", name="home_longitude_range"),
        CheckConstraint(
            f"max_distance_miles > 0 AND max_distance_miles <= {MAX_DISTANCE_MILES_LIMIT:g}",
            name="max_distance_range",
        ),
        CheckConstraint("price_ranges <@ ARRAY[1, 2, 3, 4]::smallint[]", name="price_ranges_1_4"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Empty lists mean "no filter".
    cuisines: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    price_ranges: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    home_latitude: Mapped[float | None] = mapped_column(Float)
    home_longitude: Mapped[float | None] = mapped_column(Float)
    max_distance_miles: Mapped[float] = mapped_column(Float, default=DEFAULT_MAX_DISTANCE_MILES)
    # The app frontend's profile (kept for it, not used by the feed); NULL means never set.
    dietary_restrictions: Mapped[list[str] | None] = mapped_column(ARRAY(String(60)))
    home_address: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Swipe(Base):
    """The latest like or pass of one user on one restaurant.

    The primary key (user_id, restaurant_id) makes a swipe idempotent (an upsert on it, the
    latest action wins) and is the index the feed's "not swiped yet" anti-join reads.
    """

    __tablename__ = "swipes"
    __table_args__ = (
        CheckConstraint(check_constraint_for(SwipeAction, "action"), name="action_valid"),
        CheckConstraint("match_score BETWEEN 0 AND 100", name="match_score_0_100"),
        # Deleting a restaurant cascades here; without it that delete scans every swipe.
        Index("ix_swipes_restaurant_id", "restaurant_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    restaurant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("restaurants.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(10))
    # A like made from the app's favourites carries the score the feed showed (NULL otherwise).
    match_score: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


SWIPES_PRIMARY_KEY = "pk_swipes"
