"""Demo data (idempotent): Café Fausse, and a deterministic catalogue of ~100 restaurants in four cities."""

from __future__ import annotations

import math
from datetime import time

from sqlalchemy import select

from api.extensions import db
from api.restaurants.models import DEFAULT_REFUND_POLICY, DiningTable, OpeningHours, Restaurant

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
        images=["/static/cafe-fausse/dining-room.svg"],
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


# ---------------------------------------------------------------- the demo catalogue

DEMO_SEED = 20261121  # fixed: the same catalogue on every machine and every run

# (city, state, time zone, centre latitude, centre longitude, zip prefix, neighbourhoods, streets, count)
_CITIES = [
    (
        "New York",
        "NY",
        "America/New_York",
        40.7359,
        -73.9911,
        "100",
        ["the West Village", "SoHo", "the East Village", "Chelsea", "Tribeca", "the Lower East Side"],
        ["Greenwich Ave", "Bleecker St", "Mulberry St", "Spring St", "Hudson St", "Bowery", "W 10th St"],
        25,
    ),
    (
        "Washington",
        "DC",
        "America/New_York",
        38.9072,
        -77.0369,
        "200",
        ["Georgetown", "Dupont Circle", "Capitol Hill", "Shaw", "Adams Morgan", "the Wharf"],
        ["M St NW", "14th St NW", "U St NW", "Pennsylvania Ave SE", "Connecticut Ave NW", "H St NE"],
        24,  # plus Café Fausse
    ),
    (
        "Chicago",
        "IL",
        "America/Chicago",
        41.8881,
        -87.6298,
        "606",
        ["the West Loop", "River North", "Wicker Park", "Logan Square", "Lincoln Park", "Pilsen"],
        ["W Randolph St", "N Clark St", "N Milwaukee Ave", "W Fulton Market", "N Halsted St", "W 18th St"],
        25,
    ),
    (
        "San Francisco",
        "CA",
        "America/Los_Angeles",
        37.7749,
        -122.4194,
        "941",
        ["the Mission", "North Beach", "Hayes Valley", "SoMa", "the Marina", "Chinatown"],
        ["Valencia St", "Columbus Ave", "Hayes St", "Folsom St", "Chestnut St", "Grant Ave"],
        25,
    ),
]

_CUISINE_WORDS = {
    "Italian": ["Trattoria", "Osteria", "Bella", "Nonna", "Forno", "Cucina"],
    "Japanese": ["Sushi", "Izakaya", "Kaze", "Hana", "Tsuki", "Umami"],
    "Mexican": ["Casa", "Cantina", "Taqueria", "Sol", "Maíz", "Agave"],
    "French": ["Bistro", "Brasserie", "Chez", "Maison", "Petit", "Café"],
    "Chinese": ["Golden", "Jade", "Dragon", "Lotus", "Red Lantern", "Dim Sum"],
    "Indian": ["Tandoor", "Masala", "Spice", "Chai", "Saffron", "Curry"],
    "Thai": ["Bangkok", "Lemongrass", "Siam", "Basil", "Orchid", "Tamarind"],
    "American": ["Tavern", "Grill", "Kitchen", "Diner", "Smokehouse", "Hearth"],
    "Mediterranean": ["Olive", "Aegean", "Cedar", "Fig", "Levant", "Azure"],
    "Korean": ["Seoul", "Kimchi", "Bapsang", "Hanok", "Gochu", "Jeju"],
    "Spanish": ["Tapas", "Bodega", "Taberna", "Paella", "Sevilla", "Rioja"],
    "Vietnamese": ["Pho", "Saigon", "Banh Mi", "Hanoi", "Mekong", "Lotus Leaf"],
    "Greek": ["Taverna", "Athena", "Mykonos", "Souvlaki", "Kouzina", "Ouzo"],
    "Seafood": ["Oyster", "Anchor", "Harbor", "Catch", "Tide", "Pier"],
    "Steakhouse": ["Prime", "Chophouse", "Ember", "Butcher", "Cut", "Iron"],
    "Vegetarian": ["Garden", "Sprout", "Harvest", "Greenhouse", "Root", "Leaf"],
}
_SECOND_CUISINE = {
    "Italian": "Mediterranean",
    "Japanese": "Seafood",
    "Mexican": "Latin American",
    "French": "Wine Bar",
    "Chinese": "Dim Sum",
    "Indian": "Vegetarian",
    "Thai": "Vegetarian",
    "American": "Steakhouse",
    "Mediterranean": "Greek",
    "Korean": "Barbecue",
    "Spanish": "Mediterranean",
    "Vietnamese": "Vegetarian",
    "Greek": "Mediterranean",
    "Seafood": "American",
    "Steakhouse": "American",
    "Vegetarian": "Vegan",
}
_NAME_ENDINGS = ["Notte", "House", "Room", "& Co.", "Social", "Table", "Corner", "Garden", "Bar", "Club", "Hall", "22"]
_FEATURES = [
    "Romantic",
    "Outdoor Seating",
    "Wine Bar",
    "Private Dining",
    "Live Music",
    "Rooftop",
    "Chef's Table",
    "Vegan Friendly",
    "Kid Friendly",
    "Cocktail Bar",
    "Late Night",
    "Brunch",
    "Waterfront",
    "Tasting Menu",
    "Dog Friendly",
]
_STYLES = ["Cozy", "Lively", "Elegant", "Modern", "Family-run", "Award-winning", "Neighbourhood", "Chef-driven"]
_KINDS = ["dining room", "kitchen", "spot", "restaurant", "favourite", "hideaway"]
# Weekly service patterns: (weekdays, periods); weekday 0 = Monday.
_HOURS_PATTERNS = [
    [(range(1, 7), [(time(17, 0), time(22, 0))])],  # dinner, closed Mondays
    [(range(7), [(time(11, 30), time(14, 30)), (time(17, 30), time(22, 30))])],  # lunch and dinner daily
    [(range(7), [(time(11, 0), time(23, 0))])],  # all day
    [(range(0, 4), [(time(17, 0), time(22, 0))]), (range(4, 6), [(time(17, 0), time(23, 30))])],  # Mon-Sat
    [(range(2, 7), [(time(18, 0), time(23, 0))]), (range(5, 7), [(time(11, 0), time(15, 0))])],  # Wed-Sun, brunch
]
_STRICT_REFUND_POLICY = [{"minHoursBefore": 48, "percent": 100}, {"minHoursBefore": 24, "percent": 50}]


def demo_catalogue() -> list[dict[str, object]]:
    """The generated restaurants as column values plus `tables` and `hours` (deterministic)."""
    import random

    from api.restaurants.service import slugify

    rng = random.Random(DEMO_SEED)
    specs: list[dict[str, object]] = []
    names: set[str] = {"Café Fausse"}
    cuisines = list(_CUISINE_WORDS)
    for city, state, zone, lat0, lon0, zip_prefix, hoods, streets, count in _CITIES:
        for _ in range(count):
            cuisine = rng.choice(cuisines)
            name = f"{rng.choice(_CUISINE_WORDS[cuisine])} {rng.choice(_NAME_ENDINGS)}"
            while name in names:
                name = f"{rng.choice(_CUISINE_WORDS[cuisine])} {rng.choice(_NAME_ENDINGS)}"
            names.add(name)
            slug = slugify(f"{name} {city}")
            price = rng.choices([1, 2, 3, 4], weights=[2, 5, 4, 2])[0]
            hood = rng.choice(hoods)
            hours = rng.choice(_HOURS_PATTERNS)
            table_count = rng.randint(4, 8)
            specs.append(
                {
                    "slug": slug,
                    "name": name,
                    "timezone": zone,
                    "description": f"{rng.choice(_STYLES)} {cuisine} {rng.choice(_KINDS)} in {hood}, {city}.",
                    "cuisines": [cuisine, _SECOND_CUISINE[cuisine]] if rng.random() < 0.4 else [cuisine],
                    "price_range": price,
                    "rating": round(rng.uniform(3.6, 4.9), 1),
                    "review_count": round(math.exp(rng.uniform(math.log(15), math.log(3500)))),
                    "images": [
                        f"https://picsum.photos/seed/{slug}/800/600",
                        f"https://picsum.photos/seed/{slug}-2/800/600",
                    ],
                    "features": sorted(rng.sample(_FEATURES, rng.randint(1, 3))),
                    "address": f"{rng.randint(10, 2400)} {rng.choice(streets)}",
                    "city": city,
                    "state": state,
                    "zip_code": f"{zip_prefix}{rng.randint(1, 99):02d}",
                    "latitude": round(lat0 + rng.uniform(-0.06, 0.06), 4),
                    "longitude": round(lon0 + rng.uniform(-0.08, 0.08), 4),
                    "deposit_per_person_cents": {1: 0, 2: rng.choice([0, 1000]), 3: 2500, 4: 5000}[price],
                    "refund_policy": _STRICT_REFUND_POLICY if price == 4 else list(DEFAULT_REFUND_POLICY),
                    "min_party_size": 1,
                    "max_party_size": rng.choice([6, 8, 10, 12]),
                    "phone": f"(555) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                    "tables": [rng.choice([2, 2, 4, 4, 6, 8]) for _ in range(table_count)],
                    "hours": hours,
                }
            )
    return specs


def ensure_demo_catalogue() -> tuple[int, int]:
    """Add the ~100-restaurant demo catalogue (Café Fausse included) where missing. Flushes only.

    Idempotent by slug: returns (created, already there).
    """
    _, fausse_created = ensure_cafe_fausse()
    specs = demo_catalogue()
    existing = set(db.session.scalars(select(Restaurant.slug).where(Restaurant.slug.in_([s["slug"] for s in specs]))))
    created = int(fausse_created)
    for spec in specs:
        if spec["slug"] in existing:
            continue
        values = {k: v for k, v in spec.items() if k not in {"tables", "hours"}}
        restaurant = Restaurant(
            slot_minutes=30, default_duration_minutes=90, booking_horizon_days=60, accepts_reservations=True, **values
        )
        for number, seats in enumerate(spec["tables"], start=1):  # type: ignore[arg-type]
            restaurant.tables.append(DiningTable(number=number, label=f"T{number}", min_seats=1, max_seats=seats))
        for weekdays, periods in spec["hours"]:  # type: ignore[attr-defined]
            for weekday in weekdays:
                for opens_at, closes_at in periods:
                    restaurant.opening_hours.append(
                        OpeningHours(weekday=weekday, opens_at=opens_at, closes_at=closes_at)
                    )
        db.session.add(restaurant)
        created += 1
    db.session.flush()
    return created, len(specs) + 1 - created
