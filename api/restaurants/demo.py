"""Demo data: the Café Fausse restaurant with its tables and opening hours (idempotent)."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from api.extensions import db
from api.restaurants.models import DiningTable, OpeningHours, Restaurant

CAFE_FAUSSE_SLUG = "cafe-fausse"

# (number of tables, seats) — 30 tables as the Café Fausse brief describes.
_CAFE_FAUSSE_TABLES = [(10, 2), (12, 4), (6, 6), (2, 8)]
# Monday to Saturday 17:00-23:00, Sunday 17:00-21:00.
_CAFE_FAUSSE_HOURS = [(weekday, time(17, 0), time(23, 0)) for weekday in range(6)] + [(6, time(17, 0), time(21, 0))]


def ensure_cafe_fausse() -> tuple[Restaurant, bool]:
    """Create Café Fausse with 30 tables and its hours unless it exists. Flushes only."""
    existing = db.session.scalar(select(Restaurant).where(Restaurant.slug == CAFE_FAUSSE_SLUG))
    if existing is not None:
        return existing, False
    restaurant = Restaurant(
        slug=CAFE_FAUSSE_SLUG,
        name="Café Fausse",
        timezone="America/New_York",
        slot_minutes=30,
        default_duration_minutes=90,
        durations_by_party=[{"maxParty": 4, "minutes": 90}, {"maxParty": 12, "minutes": 120}],
        min_party_size=1,
        max_party_size=12,
        booking_horizon_days=90,
        deposit_per_person_cents=2500,
        description="Italian fine dining with a modern twist, in the heart of Washington, DC.",
        cuisines=["Italian", "Mediterranean"],
        price_range=4,
        rating=4.8,
        review_count=1250,
        images=["/static/cafe-fausse/dining-room.jpg"],
        features=["Romantic", "Wine Bar", "Private Dining"],
        address="1234 Culinary Ave, Suite 100",
        city="Washington",
        state="DC",
        zip_code="20002",
        latitude=38.8977,
        longitude=-76.9958,
        phone="(202) 555-4567",
        email="reservations@cafefausse.example",
    )
    number = 1
    for count, seats in _CAFE_FAUSSE_TABLES:
        for _ in range(count):
            restaurant.tables.append(
                DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=seats, area="main")
            )
            number += 1
    for weekday, opens_at, closes_at in _CAFE_FAUSSE_HOURS:
        restaurant.opening_hours.append(OpeningHours(weekday=weekday, opens_at=opens_at, closes_at=closes_at))
    db.session.add(restaurant)
    db.session.flush()
    return restaurant, True
