"""The demo catalogue `flask seed` loads: deterministic, idempotent, varied."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from api.restaurants.demo import demo_catalogue, ensure_demo_catalogue
from api.restaurants.models import Restaurant


def test_demo_catalogue_is_the_same_on_every_run():
    assert demo_catalogue() == demo_catalogue()


def test_demo_catalogue_loads_once_with_cafe_fausse_among_a_hundred_restaurants(app):
    created, present = ensure_demo_catalogue()
    again = ensure_demo_catalogue()

    assert (created, present) == (100, 0)
    assert again == (0, 100)
    assert db.session.scalar(select(func.count()).select_from(Restaurant)) == 100
    assert db.session.scalar(select(Restaurant.name).where(Restaurant.slug == "cafe-fausse")) == "Café Fausse"


def test_demo_catalogue_is_varied():
    specs = demo_catalogue()

    assert {s["city"] for s in specs} == {"New York", "Washington", "Chicago", "San Francisco"}
    assert len({c for s in specs for c in s["cuisines"]}) >= 12
    assert {s["price_range"] for s in specs} == {1, 2, 3, 4}
    assert len({s["slug"] for s in specs}) == len(specs)
    assert all(s["tables"] and s["hours"] and s["latitude"] is not None for s in specs)
