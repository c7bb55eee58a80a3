"""Restaurants for the catalogue and discovery tests.

Rows are committed (`keep`): a service that raises rolls the session back, and a commit in the
test harness only releases a savepoint, so the outer transaction still discards everything.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import time
from typing import Any

from api.extensions import db
from api.restaurants.models import DiningTable, OpeningHours, Restaurant

_numbers = itertools.count(1)


def make_restaurant(
    *,
    hours: list[tuple[int, time, time]] | None = None,
    tables: list[int] | None = None,
    keep: bool = True,
    **values: Any,
) -> Restaurant:
    """A restaurant with sensible defaults; `hours` are (weekday, opens, closes), `tables` their seats."""
    n = next(_numbers)
    defaults: dict[str, Any] = {
        "slug": f"test-{n}-{uuid.uuid4().hex[:8]}",
        "name": f"Test Restaurant {n}",
        "timezone": "America/New_York",
        "description": "A test restaurant.",
        "cuisines": ["Italian"],
        "price_range": 2,
        "rating": 4.0,
        "review_count": 100,
        "images": ["https://img.example/1.jpg"],
        "features": [],
        "address": "1 Test St",
        "city": "New York",
        "state": "NY",
        "zip_code": "10011",
        "latitude": 40.7359,
        "longitude": -74.0014,
        "deposit_per_person_cents": 2500,
        "min_party_size": 1,
        "max_party_size": 12,
    }
    restaurant = Restaurant(**{**defaults, **values})
    for weekday, opens_at, closes_at in hours if hours is not None else [(d, time(17), time(22)) for d in range(7)]:
        restaurant.opening_hours.append(OpeningHours(weekday=weekday, opens_at=opens_at, closes_at=closes_at))
    for number, seats in enumerate(tables or [], start=1):
        restaurant.tables.append(DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=seats))
    db.session.add(restaurant)
    db.session.flush()
    if keep:
        db.session.commit()
    return restaurant
