"""The real FoodTok client's requests, exactly as it sends them (issue 14), and every field it reads.

The client (a Next.js app on http://localhost:3000) always sends `Content-Type: application/json`
(so every cross-origin call is preflighted), sends `Authorization: Bearer` only when
`localStorage['auth_token']` holds a token (nothing writes it: as shipped, no token), never sets
`credentials: 'include'`, sends `userId: "current_user"` instead of its id, names restaurants by
their Yelp business id, pays with a card-shaped `paymentMethod` and no token, and shows
`body.error || body.message` on errors. Served from the API's own origin it is signed in by the
HttpOnly access cookie that login and signup set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api.booking.models import Reservation, ReservationStatus
from api.discovery.models import Swipe
from api.extensions import db
from tests.booking.app_flow import app_restaurant, future_day

APP_ORIGIN = "http://localhost:3000"
FOREIGN_ORIGIN = "http://evil.example"
YELP_ID = "gR9DTbKCvezQlqvD7_FzPw"
PASSWORD = "a long enough passphrase"
ACCESS_COOKIE = "access_token_cookie"

pytestmark = pytest.mark.usefixtures("app")


def is_epoch_ms(value: object) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return abs(value - datetime.now(UTC).timestamp() * 1000) < 400 * 24 * 3600 * 1000


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def call(
    client: FlaskClient,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    origin: str | None = APP_ORIGIN,
    query: dict[str, Any] | None = None,
) -> Any:
    """One request the way the client's `apiRequest` makes it: JSON content type always, Bearer only with a token."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if origin:
        headers["Origin"] = origin
    return client.open(
        f"/api{path}", method=method, json=body, headers=headers, query_string=query or {}, content_type=None
    )


def preflight(client: FlaskClient, method: str, path: str, origin: str = APP_ORIGIN, headers: str = "content-type"):
    return client.options(
        f"/api{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def assert_user_shape(user: dict[str, Any]) -> None:
    """The client's `User`: {id, email, firstName, lastName, profileImage?, preferences, createdAt, updatedAt}."""
    for key in ("id", "email", "firstName", "lastName", "createdAt", "updatedAt"):
        assert isinstance(user[key], str), key
    assert user.get("profileImage") is None
    preferences = user["preferences"]
    for key in ("cuisineTypes", "dietaryRestrictions", "favoriteRestaurants"):
        assert isinstance(preferences[key], list), key
    assert isinstance(preferences["priceRange"], str)
    assert is_number(preferences["maxDistance"])
    location = preferences["location"]
    assert set(location) == {"latitude", "longitude", "address"}
    assert isinstance(location["address"], str)


def assert_reservation_shape(item: dict[str, Any]) -> None:
    """The client's `Reservation`, field by field, with the types its pages rely on."""
    for key in (
        "reservationId", "userId", "restaurantId", "restaurantName", "restaurantAddress",
        "date", "time", "status", "confirmationCode",
    ):  # fmt: skip
        assert isinstance(item[key], str), key
    assert item["restaurantImage"] is None or isinstance(item["restaurantImage"], str)
    assert isinstance(item["restaurantCuisine"], list)  # the page calls restaurantCuisine.join
    assert all(isinstance(c, str) for c in item["restaurantCuisine"])
    assert isinstance(item["partySize"], int)
    assert is_number(item["depositAmount"])
    assert isinstance(item["depositPaid"], bool)
    assert item["status"] in {"confirmed", "pending", "modified", "cancelled", "completed", "no-show"}
    assert is_epoch_ms(item["createdAt"])
    assert item["cancelledAt"] is None or is_epoch_ms(item["cancelledAt"])
    assert isinstance(item["specialRequests"], str)
    payment = item["paymentMethod"]
    assert payment is None or (payment["type"] == "credit-card" and isinstance(payment["last4"], str))


@pytest.fixture
def restaurant(client, admin, auth_headers):
    """Bella Notte, registered under its Yelp id by staff, as docs/app-frontend.md says."""
    restaurant = app_restaurant()
    restaurant.address, restaurant.city, restaurant.state, restaurant.zip_code = (
        "234 Greenwich Ave",
        "New York",
        "NY",
        "10011",
    )
    db.session.commit()
    response = client.patch(
        f"/api/restaurants/{restaurant.id}", json={"externalIds": {"yelp": YELP_ID}}, headers=auth_headers(admin)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["externalIds"] == {"yelp": YELP_ID}
    return restaurant


@pytest.fixture
def day(restaurant):
    return future_day(restaurant, 7)


@pytest.fixture
def signed_up(client) -> dict[str, Any]:
    """The client's sign-up; the answer's token is what README's one added line would store."""
    body = {"email": "ada@example.com", "password": PASSWORD, "firstName": "Ada", "lastName": "Lovelace"}
    response = call(client, "POST", "/auth/signup", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- CORS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/signup"),
        ("POST", "/auth/login"),
        ("PATCH", "/auth/preferences"),
        ("POST", "/reservations/availability"),
        ("POST", "/reservations/hold"),
        ("POST", "/reservations/confirm"),
        ("DELETE", "/reservations/00000000-0000-0000-0000-000000000000"),
        ("POST", "/favorites"),
        ("DELETE", "/favorites"),
        ("GET", "/stats/current_user"),
    ],
)
def test_preflights_from_the_app_origin_are_granted(client, method, path):
    response = preflight(client, method, path, headers="authorization,content-type,idempotency-key,x-request-id")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed


def test_a_foreign_origin_gets_no_cors_grant(client, restaurant, day):
    assert "Access-Control-Allow-Origin" not in preflight(client, "POST", "/auth/login", FOREIGN_ORIGIN).headers
    body = {"restaurantId": YELP_ID, "date": day.isoformat(), "partySize": 2}
    response = call(client, "POST", "/reservations/availability", body, origin=FOREIGN_ORIGIN)
    assert "Access-Control-Allow-Origin" not in response.headers
    allowed = call(client, "POST", "/reservations/availability", body)
    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


# --- sign-up, login, profile, preferences -----------------------------------------------------


def test_signup_and_login_answer_the_user_and_set_the_access_cookie(client, signed_up):
    assert_user_shape(signed_up["user"])
    assert (signed_up["user"]["firstName"], signed_up["user"]["lastName"]) == ("Ada", "Lovelace")
    assert isinstance(signed_up["accessToken"], str)

    response = call(client, "POST", "/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert_user_shape(response.get_json()["user"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{ACCESS_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in attributes and attributes["path"] == "Path=/api" and attributes["samesite"] == "SameSite=Lax"
    assert "secure" not in attributes  # tests run without REFRESH_COOKIE_SECURE; production always sets it


def test_the_access_cookie_is_secure_in_production(make_app):
    production = {"env": "production", "database_url": "postgresql+psycopg2://x@127.0.0.1/x"}
    assert make_app(**production, refresh_cookie_secure=True).config["JWT_COOKIE_SECURE"] is True
    with pytest.raises(RuntimeError, match="REFRESH_COOKIE_SECURE"):
        make_app(**production, refresh_cookie_secure=False)


def test_the_cookie_alone_signs_the_client_in(client, signed_up, restaurant):
    """No Authorization header at all (the client as shipped), the same-origin cookie instead."""
    profile = call(client, "GET", "/auth/profile/current_user")
    assert profile.status_code == 200, profile.get_json()
    assert profile.get_json()["user"]["email"] == "ada@example.com"
    favorite = call(client, "POST", "/favorites", {"userId": "current_user", "restaurantId": YELP_ID, "matchScore": 90})
    assert favorite.status_code == 201


def test_a_cookie_authenticated_write_from_a_foreign_origin_is_403(client, signed_up, restaurant):
    body = {"userId": "current_user", "preferences": {"cuisineTypes": ["italian"]}}
    for origin in (FOREIGN_ORIGIN, None):
        response = call(client, "PATCH", "/auth/preferences", body, origin=origin)
        assert (response.status_code, response.get_json()["code"]) == (403, "ORIGIN_NOT_ALLOWED")
    # The same write with the Bearer header needs no Origin: another site cannot send our header.
    response = call(client, "PATCH", "/auth/preferences", body, origin=FOREIGN_ORIGIN, token=signed_up["accessToken"])
    assert response.status_code == 200
    # And the cookie from the API's own origin (a reverse proxy) is fine.
    assert call(client, "PATCH", "/auth/preferences", body, origin="http://localhost").status_code == 200


def test_preferences_map_onto_discovery_preferences(client, signed_up, restaurant):
    body = {
        "userId": "current_user",
        "preferences": {
            "cuisineTypes": ["italian", "japanese"],
            "dietaryRestrictions": ["vegetarian"],
            "priceRange": "$$",
            "maxDistance": 5,
            "location": {"latitude": 40.73, "longitude": -74.0, "address": "Greenwich Village"},
            "favoriteRestaurants": [],
        },
    }
    response = call(client, "PATCH", "/auth/preferences", body, token=signed_up["accessToken"])
    assert response.status_code == 200, response.get_json()
    user = response.get_json()["user"]
    assert_user_shape(user)
    preferences = user["preferences"]
    assert preferences["cuisineTypes"] == ["italian", "japanese"]
    assert preferences["dietaryRestrictions"] == ["vegetarian"]
    assert (preferences["priceRange"], preferences["maxDistance"]) == ("$$", 5)
    assert preferences["location"] == {"latitude": 40.73, "longitude": -74.0, "address": "Greenwich Village"}
    # The feed reads the same row: catalogue spelling, prices 1-2.
    discovery = call(client, "GET", f"/users/{user['id']}/preferences", token=signed_up["accessToken"]).get_json()
    assert discovery["cuisines"] == ["Italian", "Japanese"] and discovery["priceRanges"] == ["$", "$$"]


def test_profile_by_id_is_the_callers_own_only(client, signed_up, customer):
    own = call(client, "GET", f"/auth/profile/{signed_up['user']['id']}", token=signed_up["accessToken"])
    assert own.status_code == 200
    other = call(client, "GET", f"/auth/profile/{customer.id}", token=signed_up["accessToken"])
    assert (other.status_code, other.get_json()["code"]) == (403, "USER_MISMATCH")
    assert "message" in other.get_json()  # the client shows body.error || body.message


# --- the reservation flow with Yelp ids, current_user and a card-shaped payment ----------------


def test_the_booking_flow_as_the_client_makes_it(client, signed_up, restaurant, day, other_customer, auth_headers):
    token = signed_up["accessToken"]
    availability = call(
        client, "POST", "/reservations/availability", {"restaurantId": YELP_ID, "date": day.isoformat(), "partySize": 2}
    )
    assert availability.status_code == 200, availability.get_json()
    data = availability.get_json()
    assert (data["restaurantId"], data["date"]) == (YELP_ID, day.isoformat())
    for slot in data["slots"]:
        assert isinstance(slot["time"], str) and isinstance(slot["available"], bool)
        assert isinstance(slot["remainingCapacity"], int) and slot["remainingCapacity"] == slot["availableTables"]
        assert slot["depositPerPerson"] == 25

    hold_request = {
        "userId": "current_user",
        "restaurantId": YELP_ID,
        "date": day.isoformat(),
        "time": "19:00",
        "partySize": 2,
    }
    held = call(client, "POST", "/reservations/hold", hold_request, token=token)
    assert held.status_code == 201, held.get_json()
    hold = held.get_json()["hold"]
    assert hold["restaurantId"] == YELP_ID and hold["userId"] == signed_up["user"]["id"]
    assert hold["restaurantName"] == "Bella Notte"
    assert is_epoch_ms(hold["createdAt"]) and is_epoch_ms(hold["expiresAt"])
    assert is_number(held.get_json()["totalDeposit"]) and isinstance(held.get_json()["expiresIn"], int)
    active = call(client, "GET", "/reservations/hold/active", query={"userId": "current_user"}, token=token)
    assert active.status_code == 200 and active.get_json()["holdId"] == hold["holdId"]

    card = {
        "type": "credit-card",
        "last4": "4242",
        "cardholderName": "Ada Lovelace",
        "expiryMonth": 12,
        "expiryYear": 2030,
    }
    confirmed = call(
        client,
        "POST",
        "/reservations/confirm",
        {"holdId": hold["holdId"], "userId": "current_user", "paymentMethod": card, "specialRequests": "Window seat"},
        token=token,
    )
    assert confirmed.status_code == 201, confirmed.get_json()
    reservation = confirmed.get_json()["reservation"]
    assert_reservation_shape(reservation)
    assert reservation["depositPaid"] is True
    assert reservation["paymentMethod"] == {"type": "credit-card", "last4": "4242", "cardBrand": "Visa"}
    assert reservation["restaurantCuisine"] == ["Italian"]
    assert reservation["restaurantAddress"] == "234 Greenwich Ave, New York, NY 10011"
    assert reservation["restaurantId"] == YELP_ID

    upcoming = call(client, "GET", "/reservations/user/current_user", query={"filter": "upcoming"}, token=token)
    assert upcoming.status_code == 200
    [item] = upcoming.get_json()
    assert_reservation_shape(item)
    assert item["reservationId"] == reservation["reservationId"] and item["specialRequests"] == "Window seat"

    own = call(
        client, "GET", f"/reservations/{reservation['reservationId']}", query={"userId": "current_user"}, token=token
    )
    assert own.status_code == 200
    assert_reservation_shape(own.get_json())
    stranger = client.get(
        f"/api/reservations/{reservation['reservationId']}?userId=current_user", headers=auth_headers(other_customer)
    )
    assert (stranger.status_code, stranger.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")

    # The reservations page's "modify": PATCH with the fields the guest changed, userId "current_user".
    path = f"/reservations/{reservation['reservationId']}"
    granted = preflight(client, "PATCH", path)
    assert granted.status_code == 200 and "PATCH" in granted.headers["Access-Control-Allow-Methods"]
    later = (day + timedelta(days=1)).isoformat()
    modify = {"userId": "current_user", "date": later, "time": "20:00", "partySize": 3, "specialRequests": "Birthday"}
    changed = call(client, "PATCH", path, modify, token=token)
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert_reservation_shape(body)
    assert (body["date"], body["time"], body["partySize"], body["specialRequests"]) == (later, "20:00", 3, "Birthday")
    assert body["depositAmount"] == 75 and body["depositPaid"] is True  # the extra 25 charged on the saved card
    assert is_epoch_ms(body["modifiedAt"]) and body["status"] == "confirmed"
    assert body["reservationId"] == reservation["reservationId"] and body["restaurantId"] == YELP_ID
    stranger = client.patch(
        f"/api{path}", json={"userId": "current_user", "partySize": 2}, headers=auth_headers(other_customer)
    )
    assert (stranger.status_code, stranger.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")
    empty = call(client, "PATCH", path, {"userId": "current_user"}, token=token)
    assert (empty.status_code, empty.get_json()["code"]) == (422, "VALIDATION_ERROR")
    [listed] = call(
        client, "GET", "/reservations/user/current_user", query={"filter": "upcoming"}, token=token
    ).get_json()
    assert (listed["date"], listed["time"], listed["partySize"]) == (later, "20:00", 3)

    cancelled = call(
        client, "DELETE", f"/reservations/{reservation['reservationId']}", {"userId": "current_user"}, token=token
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["success"] is True
    [past] = call(client, "GET", "/reservations/user/current_user", query={"filter": "past"}, token=token).get_json()
    assert_reservation_shape(past)
    assert past["status"] == "cancelled" and is_epoch_ms(past["cancelledAt"])


def hold_as_the_client(client, token: str, day) -> str:
    """Hold 19:00 for two at the Yelp-id restaurant, as the reserve modal does; return the hold id."""
    hold_request = {
        "userId": "current_user",
        "restaurantId": YELP_ID,
        "date": day.isoformat(),
        "time": "19:00",
        "partySize": 2,
    }
    return call(client, "POST", "/reservations/hold", hold_request, token=token).get_json()["hold"]["holdId"]


def book_as_the_client(client, token: str, day) -> None:
    """Hold 19:00 for two at the Yelp-id restaurant and confirm with test card 4242, as the client does."""
    hold_id = hold_as_the_client(client, token, day)
    card = {"type": "credit-card", "last4": "4242"}
    confirmed = call(
        client,
        "POST",
        "/reservations/confirm",
        {"holdId": hold_id, "userId": "current_user", "paymentMethod": card},
        token=token,
    )
    assert confirmed.status_code == 201, confirmed.get_json()


def test_no_show_is_spelled_the_clients_way(client, signed_up, restaurant, day):
    token = signed_up["accessToken"]
    book_as_the_client(client, token, day)
    db.session.execute(update(Reservation).values(status=ReservationStatus.NO_SHOW))
    db.session.commit()
    [item] = call(client, "GET", "/reservations/user/current_user", query={"filter": "past"}, token=token).get_json()
    assert item["status"] == "no-show"


def test_test_card_0002_is_declined_with_a_clear_message(client, signed_up, restaurant, day):
    token = signed_up["accessToken"]
    hold_id = hold_as_the_client(client, token, day)
    card = {"type": "credit-card", "last4": "0002", "cardholderName": "Ada", "expiryMonth": 1, "expiryYear": 2031}
    response = call(
        client,
        "POST",
        "/reservations/confirm",
        {"holdId": hold_id, "userId": "current_user", "paymentMethod": card},
        token=token,
    )
    body = response.get_json()
    assert (response.status_code, body["code"]) == (402, "PAYMENT_DECLINED")
    assert "declined" in body["message"]


def test_a_full_card_number_is_still_refused(client, signed_up):
    card = {"type": "credit-card", "number": "4242424242424242", "last4": "4242"}
    response = call(
        client,
        "POST",
        "/reservations/confirm",
        {"holdId": str(uuid.uuid4()), "userId": "current_user", "paymentMethod": card},
        token=signed_up["accessToken"],
    )
    assert (response.status_code, response.get_json()["code"]) == (422, "RAW_CARD_REJECTED")


def test_with_stripe_a_card_without_token_is_payment_token_required(make_app, signed_up):
    stripe_app = make_app(stripe_secret_key="sk_test_frontend", stripe_webhook_secret="whsec_frontend")
    card = {"type": "credit-card", "last4": "4242", "cardholderName": "Ada", "expiryMonth": 1, "expiryYear": 2031}
    response = call(
        stripe_app.test_client(),
        "POST",
        "/reservations/confirm",
        {"holdId": str(uuid.uuid4()), "userId": "current_user", "paymentMethod": card},
        token=signed_up["accessToken"],
    )
    body = response.get_json()
    assert (response.status_code, body["code"]) == (422, "PAYMENT_TOKEN_REQUIRED")
    assert "paymentMethod.token" in body["message"]


UNKNOWN = "not-registered"


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("POST", "/reservations/availability", {"restaurantId": UNKNOWN, "date": "2030-01-01", "partySize": 2}, None),
        (
            "POST",
            "/reservations/hold",
            {"userId": "current_user", "restaurantId": UNKNOWN, "date": "2030-01-01", "time": "19:00", "partySize": 2},
            None,
        ),
        ("POST", "/favorites", {"userId": "current_user", "restaurantId": UNKNOWN, "matchScore": 80}, None),
        ("GET", "/favorites/check", None, {"userId": "current_user", "restaurantId": UNKNOWN}),
    ],
)
def test_an_unknown_external_id_is_restaurant_not_found(client, signed_up, method, path, body, query):
    response = call(client, method, path, body, query=query, token=signed_up["accessToken"])
    assert (response.status_code, response.get_json()["code"]) == (404, "RESTAURANT_NOT_FOUND")


def test_an_external_id_belongs_to_one_restaurant(client, restaurant, admin, auth_headers):
    other = app_restaurant()
    response = client.patch(
        f"/api/restaurants/{other.id}", json={"externalIds": {"yelp": YELP_ID}}, headers=auth_headers(admin)
    )
    assert (response.status_code, response.get_json()["code"]) == (409, "EXTERNAL_ID_TAKEN")
    details = client.get(f"/api/restaurants/{YELP_ID}")
    assert details.status_code == 200 and details.get_json()["id"] == str(restaurant.id)
    removed = client.patch(
        f"/api/restaurants/{restaurant.id}", json={"externalIds": {"yelp": None}}, headers=auth_headers(admin)
    )
    assert removed.get_json()["externalIds"] == {}


# --- favourites and stats ---------------------------------------------------------------------


def test_favorites_are_discovery_likes(client, signed_up, restaurant, day):
    token = signed_up["accessToken"]
    body = {
        "userId": "current_user",
        "restaurantId": YELP_ID,
        "restaurantName": "Bella Notte",
        "restaurantImage": "https://img.example/bella-notte.jpg",
        "matchScore": 92,
    }
    created = call(client, "POST", "/favorites", body, token=token)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["success"] is True
    favorite = created.get_json()["favorite"]
    assert favorite["userId"] == signed_up["user"]["id"] and favorite["restaurantId"] == YELP_ID
    assert favorite["restaurantName"] == "Bella Notte" and isinstance(favorite["restaurantImage"], str)
    assert favorite["matchScore"] == 92 and is_epoch_ms(favorite["likedAt"])
    # One source of truth: the favourite is a like swipe, so the feed no longer offers it.
    swipe = db.session.scalar(select(Swipe).where(Swipe.restaurant_id == restaurant.id))
    assert (swipe.action, swipe.match_score) == ("like", 92)
    feed = call(client, "GET", "/restaurants/discovery", token=token).get_json()
    assert str(restaurant.id) not in {item["restaurant"]["id"] for item in feed}

    [listed] = call(client, "GET", "/favorites/current_user", query={"limit": 50}, token=token).get_json()
    assert listed == favorite
    check = call(
        client, "GET", "/favorites/check", query={"userId": "current_user", "restaurantId": YELP_ID}, token=token
    )
    assert check.get_json() == {"isFavorite": True}
    profile = call(client, "GET", "/auth/profile/current_user", token=token).get_json()
    assert profile["user"]["preferences"]["favoriteRestaurants"] == [YELP_ID]

    removed = call(
        client, "DELETE", "/favorites", query={"userId": "current_user", "restaurantId": YELP_ID}, token=token
    )
    assert removed.status_code == 200
    assert removed.get_json()["success"] is True and isinstance(removed.get_json()["message"], str)
    check = call(
        client, "GET", "/favorites/check", query={"userId": "current_user", "restaurantId": YELP_ID}, token=token
    )
    assert check.get_json() == {"isFavorite": False}

    # A like made by swiping shows up as a favourite too.
    call(client, "POST", f"/restaurants/{restaurant.id}/swipe", {"action": "like"}, token=token)
    [listed] = call(client, "GET", "/favorites/current_user", token=token).get_json()
    assert listed["restaurantId"] == YELP_ID and listed["matchScore"] == 0  # no score was shown with it


def test_stats_count_likes_and_reservations(client, signed_up, restaurant, day):
    token = signed_up["accessToken"]
    call(
        client, "POST", "/favorites", {"userId": "current_user", "restaurantId": YELP_ID, "matchScore": 70}, token=token
    )
    book_as_the_client(client, token, day)

    response = call(client, "GET", "/stats/current_user", token=token)
    assert response.status_code == 200, response.get_json()
    stats = response.get_json()
    assert (stats["totalLikes"], stats["totalReservations"], stats["accountAge"]) == (1, 1, 0)
    assert stats["topCuisines"] == ["italian"]
    assert is_epoch_ms(stats["lastActive"])


def test_the_new_routes_are_in_the_openapi_spec_with_their_errors(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    expected = {
        ("/api/auth/signup", "post"): {"201", "409", "422", "429"},
        ("/api/auth/profile/{user_id}", "get"): {"200", "401", "403", "404"},
        ("/api/auth/preferences", "patch"): {"200", "401", "403", "404", "422"},
        ("/api/reservations/{reservation_id}", "get"): {"200", "401", "403", "404"},
        ("/api/favorites", "post"): {"201", "401", "403", "404", "422"},
        ("/api/favorites", "delete"): {"200", "401", "403", "404"},
        ("/api/favorites/check", "get"): {"200", "401", "403", "404"},
        ("/api/favorites/{user_id}", "get"): {"200", "401", "403", "404"},
        ("/api/stats/{user_id}", "get"): {"200", "401", "403", "404"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)


def test_an_admin_registers_external_ids_when_adding_a_restaurant(client, admin, auth_headers):
    body = {"name": "Trattoria Nuova", "cuisine": ["Italian"], "externalIds": {"yelp": "trattoria-nuova-nyc"}}
    response = client.post("/api/restaurants", json=body, headers=auth_headers(admin))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["externalIds"] == {"yelp": "trattoria-nuova-nyc"}
    assert client.get("/api/restaurants/trattoria-nuova-nyc").get_json()["name"] == "Trattoria Nuova"


def test_a_first_preferences_write_keeps_the_defaults_and_dollar_signs_mean_no_filter(client, signed_up):
    token = signed_up["accessToken"]
    body = {"userId": "current_user", "preferences": {"priceRange": "$$$$"}}
    user = call(client, "PATCH", "/auth/preferences", body, token=token).get_json()["user"]
    assert user["preferences"]["priceRange"] == "$$$$" and user["preferences"]["cuisineTypes"] == []
    assert user["preferences"]["maxDistance"] == 10
    discovery = call(client, "GET", f"/users/{user['id']}/preferences", token=token).get_json()
    assert discovery["priceRanges"] == []  # no price filter on the feed
