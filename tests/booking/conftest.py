"""Fixtures of the booking tests."""

from __future__ import annotations

import pytest

from api.restaurants.demo import ensure_cafe_fausse
from api.restaurants.models import Restaurant
from tests.booking.helpers import settle


@pytest.fixture
def cafe(app) -> Restaurant:
    """Café Fausse (the default restaurant): 10x2, 12x4, 6x6, 2x8 seats, New York, Mon-Sat 17-23, Sun 17-21."""
    restaurant, _ = ensure_cafe_fausse()
    settle()
    return restaurant
