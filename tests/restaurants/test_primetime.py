"""Primetime windows over HTTP: anyone reads them, the restaurant's staff and admins write them."""

from __future__ import annotations

import pytest

from api.accounts.models import Role
from tests.booking.helpers import build_restaurant
from tests.conftest import bearer


@pytest.fixture
def bistro(app):
    return build_restaurant(tables=[(1, 2)])


@pytest.fixture
def staff(bistro, make_user):
    return make_user(Role.STAFF, restaurant_id=bistro.id)


def path(restaurant, suffix: str = "") -> str:
    return f"/api/restaurants/{restaurant.id}/primetime{suffix}"


def test_staff_create_read_update_and_delete_a_window(client, bistro, staff):
    created = client.post(path(bistro), json={"weekday": 4, "start": "19:00", "end": "21:30"}, headers=bearer(staff))
    assert created.status_code == 201, created.get_json()
    window = created.get_json()
    assert {k: window[k] for k in ("weekday", "day", "start", "end", "active")} == {
        "weekday": 4,
        "day": "friday",
        "start": "19:00",
        "end": "21:30",
        "active": True,
    }
    one = path(bistro, f"/{window['id']}")
    assert client.get(one).get_json() == window  # anyone reads
    assert client.get(path(bistro)).get_json() == [window]
    patched = client.patch(one, json={"active": False, "end": "22:00"}, headers=bearer(staff))
    assert patched.status_code == 200
    assert (patched.get_json()["active"], patched.get_json()["end"]) == (False, "22:00")
    assert client.delete(one, headers=bearer(staff)).status_code == 204
    missing = client.get(one)
    assert missing.status_code == 404 and missing.get_json()["code"] == "PRIMETIME_WINDOW_NOT_FOUND"


def test_windows_are_listed_by_weekday_then_start(client, bistro, staff):
    for body in ({"weekday": 5, "start": "18:00", "end": "20:00"}, {"weekday": 4, "start": "20:00", "end": "22:00"},
                 {"weekday": 4, "start": "18:00", "end": "19:00"}):  # fmt: skip
        assert client.post(path(bistro), json=body, headers=bearer(staff)).status_code == 201
    listed = client.get(path(bistro)).get_json()
    assert [(w["weekday"], w["start"]) for w in listed] == [(4, "18:00"), (4, "20:00"), (5, "18:00")]


@pytest.mark.parametrize(
    "body",
    [
        {"weekday": 7, "start": "19:00", "end": "21:00"},
        {"weekday": -1, "start": "19:00", "end": "21:00"},
        {"weekday": 1, "start": "21:00", "end": "19:00"},
        {"weekday": 1, "start": "21:00", "end": "21:00"},
        {"weekday": 1, "start": "25:00", "end": "26:00"},
        {"weekday": 1, "start": "19:00"},
        {"weekday": 1, "start": "19:00", "end": "21:00", "color": "red"},
    ],
)
def test_bad_windows_are_422(client, bistro, staff, body):
    response = client.post(path(bistro), json=body, headers=bearer(staff))
    assert response.status_code == 422
    assert response.get_json()["code"] == "VALIDATION_ERROR"


def test_an_update_is_checked_on_the_merged_window(client, bistro, staff):
    window = client.post(path(bistro), json={"weekday": 1, "start": "19:00", "end": "21:00"}, headers=bearer(staff))
    response = client.patch(path(bistro, f"/{window.get_json()['id']}"), json={"start": "22:00"}, headers=bearer(staff))
    assert response.status_code == 422
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert client.get(path(bistro, f"/{window.get_json()['id']}")).get_json()["start"] == "19:00"


def test_only_the_restaurants_staff_and_admins_write(client, bistro, staff, make_user, admin):
    other_staff = make_user(Role.STAFF, restaurant_id=build_restaurant(tables=[(1, 2)]).id)
    body = {"weekday": 1, "start": "19:00", "end": "21:00"}
    assert client.post(path(bistro), json=body, headers=bearer(other_staff)).status_code == 403
    assert client.post(path(bistro), json=body, headers=bearer(make_user())).status_code == 403
    assert client.post(path(bistro), json=body).status_code == 401
    window = client.post(path(bistro), json=body, headers=bearer(admin))
    assert window.status_code == 201
    one = path(bistro, f"/{window.get_json()['id']}")
    assert client.delete(one, headers=bearer(other_staff)).status_code == 403
    # Another restaurant's path does not reach this window.
    other = build_restaurant(tables=[(1, 2)])
    assert client.get(path(other, f"/{window.get_json()['id']}")).status_code == 404


def test_an_unknown_restaurant_is_404(client):
    response = client.get("/api/restaurants/00000000-0000-0000-0000-000000000000/primetime")
    assert response.status_code == 404 and response.get_json()["code"] == "RESTAURANT_NOT_FOUND"
