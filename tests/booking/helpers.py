"""Restaurants and times for the booking tests (shared with tests/concurrency)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.booking import service
from api.extensions import db
from api.restaurants.models import DiningTable, OpeningHours, Restaurant

NEW_YORK = ZoneInfo("America/New_York")


def build_restaurant(
    *,
    tables: list[tuple[int, int]],
    slug: str | None = None,
    timezone: str = "America/New_York",
    opens_at: time = time(17, 0),
    closes_at: time = time(23, 0),
    slot_minutes: int = 30,
    duration_minutes: int = 90,
    durations_by_party: list[dict[str, int]] | None = None,
    horizon_days: int = 365,
    max_party_size: int = 12,
) -> Restaurant:
    """A restaurant open every day from `opens_at` to `closes_at`, with `(count, seats)` tables numbered from 1."""
    restaurant = Restaurant(
        slug=slug or f"test-{uuid.uuid4().hex[:10]}",
        name="Test Bistro",
        timezone=timezone,
        slot_minutes=slot_minutes,
        default_duration_minutes=duration_minutes,
        durations_by_party=durations_by_party or [],
        min_party_size=1,
        max_party_size=max_party_size,
        booking_horizon_days=horizon_days,
        min_lead_minutes=0,
    )
    number = 1
    for count, seats in tables:
        for _ in range(count):
            restaurant.tables.append(DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=seats))
            number += 1
    for weekday in range(7):
        restaurant.opening_hours.append(OpeningHours(weekday=weekday, opens_at=opens_at, closes_at=closes_at))
    db.session.add(restaurant)
    settle()
    return restaurant


def settle() -> None:
    """Commit the test's setup.

    Inside the test's outer transaction this only releases the session's savepoint, so a
    service that rolls back (FULLY_BOOKED, BAD_TIME) undoes its own work, not the setup.
    """
    db.session.commit()


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK) -> datetime:
    """An aware local datetime (fold=0)."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def booking(when: datetime, guests: int = 2, email: str | None = None, name: str = "Alex") -> service.BookingRequest:
    return service.BookingRequest(
        time=when,
        guests=guests,
        name=name,
        email=f"guest-{uuid.uuid4().hex[:8]}@example.com" if email is None else email,
    )


def upcoming_service_day(days_ahead: int = 14, weekday: int = 2) -> date:
    """A local New York day at least `days_ahead` from today, on `weekday` (Wednesday by default)."""
    start = datetime.now(NEW_YORK).date() + timedelta(days=days_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def utc_z(moment: datetime) -> str:
    """`2025-09-10T23:12:00Z`, the seed's way of writing an instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
