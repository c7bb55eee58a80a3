"""Discovery over HTTP: seed 000's feed contract, preferences and swipes, and who may act for whom."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from api.accounts.models import Role
from api.discovery.models import Swipe
from api.extensions import db
from tests.restaurants.helpers import make_restaurant

FEED_ITEM_KEYS = {"restaurant", "matchScore", "matchReason"}
FEED_RESTAURANT_KEYS = {
    "id",
    "name",
    "description",
    "cuisine",
    "priceRange",
    "rating",
    "reviewCount",
    "images",
    "location",
    "reservationInfo",
}

# ---------------------------------------------------------------- seed 000 endpoint 7, exactly


def test_feed_items_have_exactly_the_seed_shape(client, customer, auth_headers):
    restaurant = make_restaurant(
        name="Bella Notte",
        description="Authentic Italian...",
        cuisines=["Italian"],
        price_range=2,
        rating=4.7,
        review_count=342,
        images=["https://img.example/b.jpg"],
        address="234 Greenwich Ave",
        city="New York",
        latitude=40.7359,
        longitude=-74.0014,
        deposit_per_person_cents=2500,
    )
    client.put(
        f"/api/users/{customer.id}/preferences",
        json={"homeLocation": {"latitude": 40.7359, "longitude": -73.9900}},
        headers=auth_headers(customer),
    )

    response = client.get(f"/api/restaurants/discovery?userId={customer.id}&limit=20", headers=auth_headers(customer))

    assert response.status_code == 200, response.get_json()
    feed = response.get_json()
    assert isinstance(feed, list) and len(feed) == 1
    item = feed[0]
    assert set(item) == FEED_ITEM_KEYS
    assert isinstance(item["matchScore"], int) and 0 <= item["matchScore"] <= 100
    assert isinstance(item["matchReason"], str) and item["matchReason"]
    body = item["restaurant"]
    assert set(body) == FEED_RESTAURANT_KEYS
    assert body["id"] == str(restaurant.id)
    assert body["name"] == "Bella Notte"
    assert body["description"] == "Authentic Italian..."
    assert body["cuisine"] == ["Italian"]
    assert body["priceRange"] == "$$"
    assert body["rating"] == 4.7
    assert body["reviewCount"] == 342
    assert body["images"] == ["https://img.example/b.jpg"]
    assert body["location"] == {"address": "234 Greenwich Ave", "city": "New York", "distance": 0.6}
    assert body["reservationInfo"] == {"acceptsReservations": True, "depositPerPerson": 25}


def test_feed_distance_is_null_without_a_home_location(client, customer, auth_headers):
    make_restaurant()

    feed = client.get("/api/restaurants/discovery", headers=auth_headers(customer)).get_json()

    assert feed[0]["restaurant"]["location"]["distance"] is None


def test_feed_needs_a_signed_in_user(client):
    response = client.get("/api/restaurants/discovery")

    assert response.status_code == 401
    assert response.get_json()["code"] == "UNAUTHORIZED"


def test_feed_for_another_user_is_user_mismatch(client, customer, other_customer, auth_headers):
    response = client.get(f"/api/restaurants/discovery?userId={other_customer.id}", headers=auth_headers(customer))

    assert response.status_code == 403
    assert response.get_json()["code"] == "USER_MISMATCH"


def test_admin_may_read_a_users_feed(client, admin, customer, auth_headers):
    make_restaurant()

    response = client.get(f"/api/restaurants/discovery?userId={customer.id}", headers=auth_headers(admin))
    unknown = client.get(f"/api/restaurants/discovery?userId={uuid.uuid4()}", headers=auth_headers(admin))

    assert response.status_code == 200 and len(response.get_json()) == 1
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "USER_NOT_FOUND"


def test_staff_never_act_on_a_customers_discovery_data(client, make_user, customer, auth_headers):
    """Preferences (home included), swipes and the feed are the customer's and the admins', not staff's."""
    restaurant = make_restaurant()
    staff = auth_headers(make_user(Role.STAFF, "feed-staff@example.com", restaurant_id=restaurant.id))
    prefs = f"/api/users/{customer.id}/preferences"
    like = {"userId": str(customer.id), "action": "like"}

    answers = [
        client.get(f"/api/restaurants/discovery?userId={customer.id}", headers=staff),
        client.get(prefs, headers=staff),
        client.put(prefs, json={"cuisines": ["Thai"]}, headers=staff),
        client.post(f"/api/restaurants/{restaurant.id}/swipe", json=like, headers=staff),
    ]

    assert [(r.status_code, r.get_json()["code"]) for r in answers] == [(403, "USER_MISMATCH")] * 4


@pytest.mark.parametrize("limit", ["0", "51", "x"])
def test_feed_limit_is_bounded(client, customer, auth_headers, limit):
    response = client.get(f"/api/restaurants/discovery?limit={limit}", headers=auth_headers(customer))

    assert response.status_code == 422 and response.get_json()["code"] == "VALIDATION_ERROR"


def test_feed_limit_caps_the_list(client, customer, auth_headers):
    for _ in range(3):
        make_restaurant()

    feed = client.get("/api/restaurants/discovery?limit=2", headers=auth_headers(customer)).get_json()

    assert len(feed) == 2


# ---------------------------------------------------------------- preferences


def test_preferences_default_when_never_set(client, customer, auth_headers):
    response = client.get(f"/api/users/{customer.id}/preferences", headers=auth_headers(customer))

    assert response.status_code == 200
    assert response.get_json() == {
        "userId": str(customer.id),
        "cuisines": [],
        "priceRanges": [],
        "homeLocation": None,
        "maxDistanceMiles": 10.0,
        "updatedAt": None,
    }


def test_preferences_are_replaced_whole(client, customer, auth_headers):
    url = f"/api/users/{customer.id}/preferences"
    headers = auth_headers(customer)

    first = client.put(
        url,
        json={
            "cuisines": ["Italian", "Japanese", "Italian"],
            "priceRanges": ["$$$", "$$"],
            "homeLocation": {"latitude": 40.73, "longitude": -73.99},
            "maxDistanceMiles": 3.5,
        },
        headers=headers,
    )
    second = client.put(url, json={"cuisines": ["Thai"]}, headers=headers)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["cuisines"] == ["Italian", "Japanese"]
    assert first.get_json()["priceRanges"] == ["$$", "$$$"]
    assert first.get_json()["homeLocation"] == {"latitude": 40.73, "longitude": -73.99}
    assert first.get_json()["maxDistanceMiles"] == 3.5
    stored = client.get(url, headers=headers).get_json()
    assert stored == second.get_json()
    assert stored["cuisines"] == ["Thai"]
    assert stored["priceRanges"] == [] and stored["homeLocation"] is None and stored["maxDistanceMiles"] == 10.0


@pytest.mark.parametrize(
    "body",
    [
        {"priceRanges": ["$$$$$"]},
        {"homeLocation": {"latitude": 95, "longitude": 0}},
        {"homeLocation": {"latitude": 40}},
        {"maxDistanceMiles": 0},
        {"maxDistanceMiles": 501},
        {"cuisines": [""]},
        {"cuisines": ["Ital\u0000ian"]},
        {"unknownField": 1},
    ],
)
def test_bad_preferences_are_422(client, customer, auth_headers, body):
    response = client.put(f"/api/users/{customer.id}/preferences", json=body, headers=auth_headers(customer))

    assert response.status_code == 422 and response.get_json()["code"] == "VALIDATION_ERROR"


def test_another_users_preferences_are_user_mismatch(client, customer, other_customer, auth_headers):
    url = f"/api/users/{other_customer.id}/preferences"

    read = client.get(url, headers=auth_headers(customer))
    write = client.put(url, json={"cuisines": ["Thai"]}, headers=auth_headers(customer))
    malformed = client.get("/api/users/not-a-uuid/preferences", headers=auth_headers(customer))

    assert (read.status_code, read.get_json()["code"]) == (403, "USER_MISMATCH")
    assert (write.status_code, write.get_json()["code"]) == (403, "USER_MISMATCH")
    assert (malformed.status_code, malformed.get_json()["code"]) == (403, "USER_MISMATCH")


def test_admin_manages_a_users_preferences_and_unknown_users_are_404(client, admin, customer, auth_headers):
    written = client.put(
        f"/api/users/{customer.id}/preferences", json={"cuisines": ["Greek"]}, headers=auth_headers(admin)
    )
    unknown = client.get(f"/api/users/{uuid.uuid4()}/preferences", headers=auth_headers(admin))

    assert written.status_code == 200 and written.get_json()["userId"] == str(customer.id)
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "USER_NOT_FOUND")


def test_preferences_need_a_signed_in_user(client, customer):
    assert client.get(f"/api/users/{customer.id}/preferences").status_code == 401


# ---------------------------------------------------------------- swipes


def _swipes(user_id):
    return db.session.execute(select(Swipe.restaurant_id, Swipe.action).where(Swipe.user_id == user_id)).all()


def test_swipe_is_idempotent_and_the_latest_action_wins(client, customer, auth_headers):
    restaurant = make_restaurant()
    url = f"/api/restaurants/{restaurant.id}/swipe"
    headers = auth_headers(customer)

    first = client.post(url, json={"userId": str(customer.id), "action": "like"}, headers=headers)
    repeat = client.post(url, json={"userId": str(customer.id), "action": "like"}, headers=headers)
    changed = client.post(url, json={"userId": str(customer.id), "action": "pass"}, headers=headers)

    assert first.status_code == repeat.status_code == changed.status_code == 200
    assert set(first.get_json()) == {"userId", "restaurantId", "action", "swipedAt"}
    assert first.get_json()["action"] == "like" and changed.get_json()["action"] == "pass"
    assert _swipes(customer.id) == [(restaurant.id, "pass")]
    assert db.session.scalar(select(func.count()).select_from(Swipe)) == 1


def test_swipe_without_user_id_is_the_callers(client, customer, auth_headers):
    restaurant = make_restaurant()

    response = client.post(
        f"/api/restaurants/{restaurant.id}/swipe", json={"action": "pass"}, headers=auth_headers(customer)
    )

    assert response.status_code == 200
    assert response.get_json()["userId"] == str(customer.id)


def test_swipe_for_another_user_is_user_mismatch(client, customer, other_customer, auth_headers):
    restaurant = make_restaurant()

    response = client.post(
        f"/api/restaurants/{restaurant.id}/swipe",
        json={"userId": str(other_customer.id), "action": "like"},
        headers=auth_headers(customer),
    )

    assert response.status_code == 403
    assert response.get_json()["code"] == "USER_MISMATCH"
    assert _swipes(other_customer.id) == []


@pytest.mark.parametrize("restaurant_id", ["rest_001", str(uuid.uuid4())])
def test_swipe_on_unknown_restaurant_is_404(client, customer, auth_headers, restaurant_id):
    response = client.post(
        f"/api/restaurants/{restaurant_id}/swipe", json={"action": "like"}, headers=auth_headers(customer)
    )

    assert response.status_code == 404 and response.get_json()["code"] == "RESTAURANT_NOT_FOUND"


@pytest.mark.parametrize("body", [{"action": "love"}, {}, {"action": "like", "extra": 1}])
def test_bad_swipes_are_422(client, customer, auth_headers, body):
    restaurant = make_restaurant()

    response = client.post(f"/api/restaurants/{restaurant.id}/swipe", json=body, headers=auth_headers(customer))

    assert response.status_code == 422 and response.get_json()["code"] == "VALIDATION_ERROR"


def test_swipe_needs_a_signed_in_user(client):
    restaurant = make_restaurant()

    assert client.post(f"/api/restaurants/{restaurant.id}/swipe", json={"action": "like"}).status_code == 401


def test_discovery_routes_are_in_the_openapi_spec(client):
    paths = client.get("/openapi.json").get_json()["paths"]

    assert "get" in paths["/api/restaurants/discovery"]
    assert "post" in paths["/api/restaurants/{restaurant_id}/swipe"]
    assert {"get", "put"} <= set(paths["/api/users/{user_id}/preferences"])
