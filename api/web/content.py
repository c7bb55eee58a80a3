"""The Café Fausse website's own words: the menu, the story, the awards, the gallery captions.

The restaurant's facts (name, address, phone, hours, description, features) come from the
database, seeded by `api/restaurants/demo.py`; this module holds what only the website shows.
Prices are integer cents, as everywhere else.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time

from api.restaurants.models import OpeningHours

DASH = "\u2013"  # the en dash of "Mon-Sat 17:00-23:00" as typeset
DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Dish:
    name: str
    description: str
    price_cents: int

    @property
    def price(self) -> str:
        return f"${self.price_cents // 100}" if self.price_cents % 100 == 0 else f"${self.price_cents / 100:.2f}"


@dataclass(frozen=True)
class MenuSection:
    slug: str
    title: str
    dishes: tuple[Dish, ...]


MENU: tuple[MenuSection, ...] = (
    MenuSection(
        "starters",
        "Starters",
        (
            Dish("Bruschetta", "Grilled sourdough, heirloom tomatoes, basil and Ligurian olive oil.", 850),
            Dish("Caesar Salad", "Little gem, anchovy dressing, Parmigiano crisps and garlic croutons.", 900),
            Dish("Burrata", "Creamy burrata, roasted peaches, pistachio and aged balsamic.", 1400),
        ),
    ),
    MenuSection(
        "mains",
        "Main courses",
        (
            Dish("Grilled Salmon", "Lemon butter, charred fennel and crushed new potatoes.", 2200),
            Dish("Ribeye Steak", "Twelve ounces, dry-aged, with rosemary jus and hand-cut fries.", 2800),
            Dish("Vegetable Risotto", "Carnaroli rice, spring vegetables, mascarpone and mint.", 1800),
            Dish("Tagliatelle al Ragù", "Fresh egg pasta with a slow-cooked beef and pork ragù.", 2100),
        ),
    ),
    MenuSection(
        "desserts",
        "Desserts",
        (
            Dish("Tiramisu", "Espresso-soaked savoiardi, mascarpone cream and cocoa.", 750),
            Dish("Cheesecake", "Baked vanilla cheesecake with a wild berry compote.", 700),
            Dish("Affogato", "Vanilla gelato drowned in a shot of hot espresso.", 600),
        ),
    ),
    MenuSection(
        "beverages",
        "Beverages",
        (
            Dish("Red Wine (glass)", "A rotating selection of Italian reds; ask your server.", 1000),
            Dish("White Wine (glass)", "Crisp whites from Friuli, Alto Adige and Sicily.", 1000),
            Dish("Craft Beer", "Local brews on tap from Washington, DC breweries.", 600),
            Dish("Espresso", "Single origin, pulled short.", 300),
        ),
    ),
)

FOUNDERS = (
    ("Chef Antonio Rossi", "Trained in Bologna and Lyon; his menus follow the Italian seasons."),
    ("Maria Lopez", "Restaurateur and sommelier; she built the wine list and the welcome."),
)
FOUNDED_YEAR = 2010

AWARDS = (
    "Culinary Excellence Award — 2022",
    "Restaurant of the Year — 2023",
    "Best Fine Dining Experience — Foodie Magazine, 2023",
)

REVIEWS = (
    ("Exceptional ambiance and unforgettable flavors.", "Gourmet Review"),
    ("A must-visit restaurant for food enthusiasts.", "The Daily Bite"),
)


@dataclass(frozen=True)
class Picture:
    file: str
    alt: str
    caption: str


# Drawn for this site (SVG, in api/static/site/img/): no stock photos, nothing from another server.
GALLERY: tuple[Picture, ...] = (
    Picture("dining-room.svg", "The dining room at dusk: round tables with candles under warm pendant lights.",
            "The dining room"),
    Picture("pasta.svg", "A plate of tagliatelle with ragù and a basil leaf.", "Tagliatelle al ragù"),
    Picture("wine.svg", "Two glasses of red wine beside a bottle.", "From Maria's wine list"),
    Picture("tiramisu.svg", "A square of tiramisu dusted with cocoa.", "Tiramisu"),
    Picture("kitchen.svg", "The open kitchen's wood-fired oven with flames inside.", "The open kitchen"),
    Picture("terrace.svg", "The terrace with string lights over three small tables.", "The terrace in summer"),
)  # fmt: skip


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def hours_lines(periods: list[OpeningHours]) -> list[tuple[str, str]]:
    """The week as ("Mon-Sat", "17:00-23:00") lines (en dashes): days in a row with the same periods share one."""
    by_day = [
        ", ".join(f"{_clock(p.opens_at)}{DASH}{_clock(p.closes_at)}" for p in periods if p.weekday == day) or "Closed"
        for day in range(7)
    ]
    lines = []
    day = 0
    for text, group in itertools.groupby(by_day):
        length = len(list(group))
        first, last = DAY_ABBREVIATIONS[day], DAY_ABBREVIATIONS[day + length - 1]
        lines.append((first if length == 1 else f"{first}{DASH}{last}", text))
        day += length
    return lines
