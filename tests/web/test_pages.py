"""The website's pages render the restaurant's own facts from the database (the browser tests drive them)."""

from __future__ import annotations

from datetime import time

import pytest

from api.restaurants.demo import ensure_cafe_fausse
from api.restaurants.models import OpeningHours
from api.web import content
from api.web.content import DASH

PAGES = ["/", "/menu", "/reservations", "/about", "/gallery"]


@pytest.fixture
def cafe_fausse(app):
    restaurant, _ = ensure_cafe_fausse()
    return restaurant


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_layout_its_landmarks_and_the_restaurants_facts(client, cafe_fausse, path):
    response = client.get(path)

    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page and '<nav aria-label="Main">' in page and "<footer" in page
    assert page.count('aria-current="page"') == 1
    assert "1234 Culinary Ave, Suite 100" in page and "(202) 555-4567" in page
    assert f"Mon{DASH}Sat</th><td>17:00{DASH}23:00" in page and f"Sun</th><td>17:00{DASH}21:00" in page
    assert 'id="newsletter-form"' in page and '<label for="newsletter-email">' in page


def test_the_menu_lists_every_dish_with_its_price(client, cafe_fausse):
    page = client.get("/menu").get_data(as_text=True)

    for section in content.MENU:
        assert f'id="{section.slug}-title">{section.title}</h2>' in page
        for dish in section.dishes:
            assert dish.name in page and dish.price in page
    assert "$8.50" in page and "$28<" in page  # cents shown only when there are some


def test_the_reservation_page_knows_its_restaurant_and_its_party_limits(client, cafe_fausse):
    page = client.get("/reservations").get_data(as_text=True)

    assert f'data-restaurant-id="{cafe_fausse.id}"' in page
    assert '<option value="1">1 guest</option>' in page and '<option value="12">12 guests</option>' in page
    assert '<script src="/static/site/js/reservations.js" defer>' in page


def test_without_the_restaurant_the_pages_still_render_and_booking_says_it_is_closed(client):
    assert all(client.get(path).status_code == 200 for path in PAGES)
    assert "Online reservations are not open yet" in client.get("/reservations").get_data(as_text=True)


def test_the_unsubscribe_page_never_unsubscribes_on_its_own(client):
    with_token = client.get("/newsletter/unsubscribe?token=abc%22%3E%3Cscript%3E").get_data(as_text=True)
    assert 'value="abc&#34;&gt;&lt;script&gt;"' in with_token  # escaped into the form; a click submits it
    assert "This link is incomplete" in client.get("/newsletter/unsubscribe").get_data(as_text=True)


def test_the_manage_page_carries_its_token_for_its_script_and_the_websites_restaurant(client, cafe_fausse):
    page = client.get("/manage/tok%22en").get_data(as_text=True)

    assert 'data-token="tok&#34;en"' in page and f'data-restaurant-id="{cafe_fausse.id}"' in page
    assert '<script src="/static/site/js/manage.js" defer>' in page


@pytest.mark.parametrize(
    "asset",
    [
        "site/css/site.css",
        "site/js/site.js",
        "site/js/reservations.js",
        "site/js/manage.js",
        "site/img/dining-room.svg",
    ],
)
def test_assets_are_served_by_the_app(client, asset):
    assert client.get(f"/static/{asset}").status_code == 200


def test_the_demo_restaurants_picture_exists(client, cafe_fausse):
    [image] = cafe_fausse.images
    assert client.get(image).status_code == 200


def test_hours_lines_group_days_in_a_row_with_the_same_periods():
    week = [OpeningHours(weekday=d, opens_at=time(17), closes_at=time(22)) for d in (0, 1, 2, 4)] + [
        OpeningHours(weekday=5, opens_at=time(11, 30), closes_at=time(14)),
        OpeningHours(weekday=5, opens_at=time(18), closes_at=time(23)),
    ]
    assert content.hours_lines(week) == [
        (f"Mon{DASH}Wed", f"17:00{DASH}22:00"),
        ("Thu", "Closed"),
        ("Fri", f"17:00{DASH}22:00"),
        ("Sat", f"11:30{DASH}14:00, 18:00{DASH}23:00"),
        ("Sun", "Closed"),
    ]
