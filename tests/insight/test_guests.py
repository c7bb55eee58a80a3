"""Guest profiles built from the bookings: visits, no-shows, late cancellations, notes and tags."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from api.accounts.models import Role
from api.guests.service import guest_id_for
from tests.conftest import bearer
from tests.insight import fixtures

D = date(2026, 2, 2)


@pytest.fixture
def place(app):
    return fixtures.restaurant(tables=2)


@pytest.fixture
def staff(place, make_user):
    return bearer(make_user(Role.STAFF, restaurant_id=place.id))


@pytest.fixture
def ada(place):
    r = fixtures.reservation
    email = "ada@example.com"
    r(place, table=1, day=D, start=time(18), status="completed", email=email, name="Ada", phone="555-0100")
    r(place, table=1, day=D + timedelta(days=1), start=time(18), status="completed", email=email, phone="555-0100")
    r(place, table=1, day=D + timedelta(days=2), start=time(18), status="no_show", email=email)
    r(
        place,
        table=1,
        day=D + timedelta(days=3),
        start=time(18),
        status="cancelled",
        email=email,
        cancelled_before=timedelta(hours=3),
    )  # late
    r(
        place,
        table=1,
        day=D + timedelta(days=4),
        start=time(18),
        status="cancelled",
        email=email,
        cancelled_before=timedelta(days=3),
    )  # in good time
    # The same phone under another address: counted in Ada's profile.
    r(place, table=2, day=D, start=time(20), status="seated", email="ada.work@example.com", phone="555-0100")
    r(place, table=2, day=D + timedelta(days=1), start=time(20), status="completed", email="bob@example.com")
    return guest_id_for(email)  # fmt: skip


def test_profile_counts_visits_no_shows_and_late_cancellations(client, place, staff, ada):
    response = client.get(f"/api/restaurants/{place.id}/guests/{ada}", headers=staff)
    assert response.status_code == 200, response.json
    profile = response.json
    assert profile["email"] == "ada@example.com" and profile["name"] == "Ada"
    assert (profile["bookings"], profile["visits"], profile["noShows"], profile["lateCancellations"]) == (6, 3, 1, 1)
    assert "regular" in profile["tags"]  # three visits
    assert len(profile["recentBookings"]) == 6


def test_staff_notes_and_tags_are_kept_and_shown(client, place, staff, ada):
    changed = client.patch(
        f"/api/restaurants/{place.id}/guests/{ada}",
        json={"notes": "Prefers the window", "tags": ["VIP", "allergy:nuts", "vip"]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["tags"] == ["vip", "allergy:nuts", "regular"]
    again = client.get(f"/api/restaurants/{place.id}/guests/{ada}", headers=staff).json
    assert again["notes"] == "Prefers the window"
    tagged = client.get(f"/api/restaurants/{place.id}/guests", query_string={"tag": "vip"}, headers=staff).json
    assert [g["email"] for g in tagged["items"]] == ["ada@example.com"]


def test_list_searches_and_orders_by_visits(client, place, staff, ada):
    listed = client.get(f"/api/restaurants/{place.id}/guests", headers=staff).json
    assert [g["email"] for g in listed["items"]] == ["ada@example.com", "ada.work@example.com", "bob@example.com"]
    assert listed["pagination"]["total"] == 3
    found = client.get(f"/api/restaurants/{place.id}/guests", query_string={"q": "BOB"}, headers=staff).json
    assert [g["email"] for g in found["items"]] == ["bob@example.com"]


def test_unknown_or_malformed_guest_ids_are_not_found(client, place, staff, ada):
    for guest_id in (guest_id_for("nobody@example.com"), "not-base64!", "x"):
        response = client.get(f"/api/restaurants/{place.id}/guests/{guest_id}", headers=staff)
        assert response.status_code == 404 and response.json["code"] == "GUEST_NOT_FOUND"


def test_the_day_listing_shows_each_guests_tags_and_visits(client, place, staff, ada):
    client.patch(f"/api/restaurants/{place.id}/guests/{ada}", json={"tags": ["vip"]}, headers=staff)
    listing = client.get(
        "/api/reservations", query_string={"restaurantId": str(place.id), "date": D.isoformat()}, headers=staff
    )
    assert listing.status_code == 200, listing.json
    guests = {item["email"]: item["guest"] for item in listing.json["items"]}
    assert guests["ada@example.com"] == {
        "guestId": ada,
        # The listing counts bookings under the guest's email (two visits: not yet "regular"); the
        # profile also counts the visit under another address with the same phone.
        "tags": ["vip"],
        "visits": 2,
        "noShows": 1,
        "lateCancellations": 1,
        "hasNotes": False,
    }
    assert guests["ada.work@example.com"]["visits"] == 1
