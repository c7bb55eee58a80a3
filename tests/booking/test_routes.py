"""The Café Fausse website's HTTP contract (seed 003), request by request.

Routes read the real clock, so the seed's dates (September 2025) become the same times on a
Wednesday a couple of weeks ahead; the seed's `19:12Z` becomes 19:12 on the restaurant's
wall clock written as a UTC instant, which is what the site sends.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from api.accounts.models import Role
from api.booking import reservations
from tests.booking.app_flow import app_restaurant, future_day, hold_body
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z

DAY = upcoming_service_day()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    return body


def reservation_body(when: datetime | str, guests=2, email="alex@example.com", **extra):
    return {
        "time": when if isinstance(when, str) else utc_z(when),
        "guests": guests,
        "name": "Alex",
        "email": email,
    } | extra


# ---------------------------------------------------------------- availability


def test_availability_rounds_1912_down_to_1900(client, cafe):
    response = client.get("/api/reservations/availability", query_string={"time": utc_z(local(DAY, 19, 12))})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"totalTables", "booked", "available", "slot"}
    assert (body["totalTables"], body["booked"], body["available"]) == (30, 0, 30)
    assert datetime.fromisoformat(body["slot"]) == local(DAY, 19)
    assert body["slot"].endswith("+00:00")  # normalised: the UTC instant


def test_availability_reads_a_time_without_offset_on_the_restaurants_clock(client, cafe):
    response = client.get("/api/reservations/availability", query_string={"time": f"{DAY.isoformat()}T19:12:00"})
    assert datetime.fromisoformat(response.get_json()["slot"]) == local(DAY, 19)


def test_availability_counts_bookings_in_the_slot(client, cafe):
    for _ in range(3):
        assert client.post("/api/reservations", json=reservation_body(local(DAY, 19))).status_code == 201
    body = client.get("/api/reservations/availability", query_string={"time": utc_z(local(DAY, 19, 29))}).get_json()
    assert (body["totalTables"], body["booked"], body["available"]) == (30, 3, 27)


@pytest.mark.parametrize(
    "time",
    [None, "", "garbage", "2025-09-10T19:12:00Z", f"{DAY.isoformat()}T12:00:00", "9999-12-31T23:59:59-12:00"],
)
def test_availability_bad_time(client, cafe, time):
    query = {} if time is None else {"time": time}
    assert_error(client.get("/api/reservations/availability", query_string=query), 422, "BAD_TIME")


# ---------------------------------------------------------------- create


def test_create_answers_201_with_the_seed_fields(client, cafe):
    response = client.post("/api/reservations", json=reservation_body(local(DAY, 19, 12)))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {"reservationId", "tableNumber", "slot"} <= set(body)
    uuid.UUID(body["reservationId"])
    assert 1 <= body["tableNumber"] <= 10  # a 2-top
    assert datetime.fromisoformat(body["slot"]) == local(DAY, 19)
    assert body["status"] == "confirmed"
    assert body["partySize"] == 2
    assert body["confirmationCode"].startswith("FT-")
    assert datetime.fromisoformat(body["endsAt"]) - datetime.fromisoformat(body["startsAt"]) == timedelta(minutes=90)
    assert body["serviceDate"] == DAY.isoformat()


def test_create_with_a_local_time_and_a_phone(client, cafe):
    body = reservation_body(f"{DAY.isoformat()}T20:00:00", guests="4", phone="202-555-0100")
    response = client.post("/api/reservations", json=body)
    assert response.status_code == 201, response.get_json()
    assert datetime.fromisoformat(response.get_json()["slot"]) == local(DAY, 20)
    assert response.get_json()["partySize"] == 4


def test_fully_booked_is_409(client, cafe):
    for _ in range(2):  # the two 8-tops
        assert client.post("/api/reservations", json=reservation_body(local(DAY, 19), guests=8)).status_code == 201
    assert_error(client.post("/api/reservations", json=reservation_body(local(DAY, 19), guests=8)), 409, "FULLY_BOOKED")


def test_race_lost_is_409_when_the_claim_collides(client, monkeypatch, app):
    """A decision made on a stale read (as without the lock) is stopped by the exclusion constraint."""
    build_restaurant(tables=[(1, 4)], slug="cafe-fausse")
    assert client.post("/api/reservations", json=reservation_body(local(DAY, 19))).status_code == 201

    # A decision taken without seeing the winner: the statement's free-table check is blinded,
    # so it picks the only table although it is claimed. (The real race, through gunicorn with
    # the lock switched off, is in tests/concurrency/test_no_double_booking.py.)
    blind = reservations._BOOK_SQL.replace("AND o.starts_at < :ends_at AND o.ends_at > :starts_at", "AND false")
    assert blind != reservations._BOOK_SQL
    monkeypatch.setattr(
        reservations, "_BOOK_LOCKED", text(reservations._LOCK_SQL + blind).bindparams(*reservations._BOOK_BINDS)
    )
    body = assert_error(client.post("/api/reservations", json=reservation_body(local(DAY, 19))), 409, "RACE_LOST")
    assert body["details"] == {}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("time", "garbage", "BAD_TIME"),
        ("time", "", "BAD_TIME"),
        ("time", 1234, "BAD_TIME"),
        ("time", None, "BAD_TIME"),
        ("time", "2025-09-10T19:00:00Z", "BAD_TIME"),  # the seed's own example is in the past now
        ("time", f"{DAY.isoformat()}T16:30:00", "BAD_TIME"),  # before opening
        ("time", f"{DAY.isoformat()}T23:00:00", "BAD_TIME"),  # closing time
        ("time", f"{(DAY + timedelta(days=200)).isoformat()}T19:00:00", "BAD_TIME"),  # beyond the horizon
        ("guests", "abc", "BAD_GUESTS"),
        ("guests", 2.5, "BAD_GUESTS"),
        ("guests", True, "BAD_GUESTS"),
        ("guests", None, "BAD_GUESTS"),
        ("guests", 0, "BAD_GUESTS"),
        ("guests", 13, "BAD_GUESTS"),
        ("email", "x", "BAD_EMAIL"),
        ("email", "", "BAD_EMAIL"),
        ("email", 42, "BAD_EMAIL"),
        ("name", "", "VALIDATION_ERROR"),
        ("name", "   ", "VALIDATION_ERROR"),
        ("phone", "5" * 41, "VALIDATION_ERROR"),
    ],
)
def test_create_422_codes(client, cafe, field, value, code):
    body = reservation_body(local(DAY, 19)) | {field: value}
    assert_error(client.post("/api/reservations", json=body), 422, code)


@pytest.mark.parametrize(("missing", "code"), [("time", "BAD_TIME"), ("guests", "BAD_GUESTS"), ("email", "BAD_EMAIL")])
def test_missing_fields_answer_their_own_code(client, cafe, missing, code):
    body = reservation_body(local(DAY, 19))
    del body[missing]
    assert_error(client.post("/api/reservations", json=body), 422, code)


def test_time_errors_win_over_guest_errors(client, cafe):
    body = reservation_body("garbage", guests="abc", email="x")
    assert_error(client.post("/api/reservations", json=body), 422, "BAD_TIME")


def test_unknown_fields_and_bad_bodies(client, cafe):
    assert_error(
        client.post("/api/reservations", json=reservation_body(local(DAY, 19), tableId=3)), 422, "VALIDATION_ERROR"
    )
    assert_error(client.post("/api/reservations", json=[1, 2]), 422, "VALIDATION_ERROR")
    assert_error(
        client.post("/api/reservations", data="{not json", content_type="application/json"), 400, "MALFORMED_JSON"
    )
    assert_error(
        client.post("/api/reservations", data="time=x", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"
    )


def test_a_missing_default_restaurant_is_404(client, app):
    assert_error(client.post("/api/reservations", json=reservation_body(local(DAY, 19))), 404, "RESTAURANT_NOT_FOUND")


def test_booking_is_rate_limited_per_ip(app, make_app, cafe):
    limited = make_app(ratelimit_enabled=True, ratelimit_booking="2 per minute").test_client()
    statuses = [limited.post("/api/reservations", json=reservation_body(local(DAY, 19))).status_code for _ in range(2)]
    assert statuses == [201, 201]
    response = limited.post("/api/reservations", json=reservation_body(local(DAY, 19)))
    assert_error(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) > 0
    # Another client address has its own budget; the listing is not limited by the booking limit.
    other = limited.post(
        "/api/reservations",
        json=reservation_body(local(DAY, 20), email="sam@example.com"),
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 201


def test_booking_is_rate_limited_per_email_whatever_the_address(app, make_app, cafe):
    limited = make_app(ratelimit_enabled=True, ratelimit_booking_email="2 per hour").test_client()
    for attempt, hour in enumerate((19, 20)):
        response = limited.post(
            "/api/reservations",
            json=reservation_body(local(DAY, hour)),
            environ_base={"REMOTE_ADDR": f"10.1.0.{attempt}"},
        )
        assert response.status_code == 201, response.get_json()
    response = limited.post(
        "/api/reservations",
        json=reservation_body(local(DAY, 21), email=" ALEX@example.com"),
        environ_base={"REMOTE_ADDR": "10.1.0.9"},
    )
    assert_error(response, 429, "RATE_LIMITED")
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == ("2", "0")


def test_holds_are_rate_limited_per_user(app, make_app, customer, other_customer, auth_headers):
    """60 holds by one user used to pass; now the user's budget runs out (whatever the answers were)."""
    restaurant = app_restaurant()
    day = future_day(restaurant, 7)
    limited = make_app(ratelimit_enabled=True, ratelimit_hold="3 per minute").test_client()
    headers = auth_headers(customer)
    statuses = [
        limited.post("/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 409, 409]  # one active hold per user; the refusals count too
    response = limited.post("/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=headers)
    assert_error(response, 429, "RATE_LIMITED")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == ("3", "0")
    # the budget is the user's, not the address's
    other = limited.post(
        "/api/reservations/hold", json=hold_body(restaurant, other_customer, day), headers=auth_headers(other_customer)
    )
    assert other.status_code == 201, other.get_json()


# ---------------------------------------------------------------- staff listing


@pytest.fixture
def staff(make_user, cafe):
    return make_user(Role.STAFF, "host@cafefausse.example", restaurant_id=cafe.id)


def book_day(client, count: int, day: date = DAY) -> None:
    hours = [(17, 0), (17, 30), (18, 0), (18, 30), (19, 0), (19, 30), (20, 0), (20, 30)]
    for i in range(count):
        hour, minute = hours[i % len(hours)]
        body = reservation_body(local(day, hour, minute), email=f"guest{i}@example.com")
        assert client.post("/api/reservations", json=body).status_code == 201


def test_day_listing_paginates_with_the_seeds_snake_case_page_size(client, cafe, staff, auth_headers):
    book_day(client, 12)
    book_day(client, 2, DAY + timedelta(days=1))
    query = {"date": DAY.isoformat(), "page": 1, "page_size": 5}
    response = client.get("/api/reservations", query_string=query, headers=auth_headers(staff))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["items"]) == 5
    assert body["pagination"] == {"page": 1, "pageSize": 5, "total": 12, "pages": 3, "nextPage": 2, "prevPage": None}
    starts = [item["startsAt"] for item in body["items"]]
    assert starts == sorted(starts)
    item = body["items"][0]
    assert {"reservationId", "tableNumber", "slot", "name", "email", "phone", "partySize", "status"} <= set(item)
    last = client.get("/api/reservations", query_string={**query, "page": 3}, headers=auth_headers(staff)).get_json()
    assert len(last["items"]) == 2 and last["pagination"]["nextPage"] is None
    beyond = client.get("/api/reservations", query_string={**query, "page": 9}, headers=auth_headers(staff))
    assert beyond.get_json()["items"] == []
    camel = client.get(
        "/api/reservations", query_string={"date": DAY.isoformat(), "pageSize": 4}, headers=auth_headers(staff)
    )
    assert camel.get_json()["pagination"]["pageSize"] == 4


def test_day_listing_page_size_is_bounded(client, cafe, staff, auth_headers):
    for page_size in (0, 101, "x"):
        query = {"date": DAY.isoformat(), "page_size": page_size}
        response = client.get("/api/reservations", query_string=query, headers=auth_headers(staff))
        assert_error(response, 422, "VALIDATION_ERROR")
    default = client.get("/api/reservations", query_string={"date": DAY.isoformat()}, headers=auth_headers(staff))
    assert default.get_json()["pagination"]["pageSize"] == 20


def test_day_listing_filters(client, cafe, staff, auth_headers):
    book_day(client, 6)
    headers = auth_headers(staff)

    def listed(**filters):
        response = client.get("/api/reservations", query_string={"date": DAY.isoformat(), **filters}, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    assert [i["email"] for i in listed(email="GUEST3@")] == ["guest3@example.com"]
    at_seven = listed(slot="19:00")
    assert [i["email"] for i in at_seven] == ["guest4@example.com"]
    assert listed(slot=utc_z(local(DAY, 19, 12))) == at_seven
    table = at_seven[0]["tableNumber"]
    assert all(i["tableNumber"] == table for i in listed(table=table))
    assert len(listed(status="confirmed")) == 6
    assert listed(status="cancelled") == []
    assert_error(
        client.get("/api/reservations", query_string={"date": DAY.isoformat(), "status": "nope"}, headers=headers),
        422,
        "VALIDATION_ERROR",
    )
    assert_error(
        client.get("/api/reservations", query_string={"date": DAY.isoformat(), "slot": "7pm"}, headers=headers),
        422,
        "BAD_TIME",
    )


@pytest.mark.parametrize("value", [None, "", "2025-13-01", "tomorrow"])
def test_day_listing_needs_a_date(client, cafe, staff, auth_headers, value):
    query = {} if value is None else {"date": value}
    assert_error(client.get("/api/reservations", query_string=query, headers=auth_headers(staff)), 422, "BAD_DATE")


def test_day_listing_is_for_staff_of_the_restaurant(client, cafe, make_user, admin, auth_headers):
    query = {"date": DAY.isoformat()}
    assert_error(client.get("/api/reservations", query_string=query), 401, "UNAUTHORIZED")
    guest = make_user(Role.CUSTOMER, "diner@example.com")
    assert_error(client.get("/api/reservations", query_string=query, headers=auth_headers(guest)), 403, "FORBIDDEN")
    other = build_restaurant(tables=[(2, 2)])
    elsewhere = make_user(Role.STAFF, "host@elsewhere.example", restaurant_id=other.id)
    assert_error(client.get("/api/reservations", query_string=query, headers=auth_headers(elsewhere)), 403, "FORBIDDEN")
    own = client.get(
        "/api/reservations", query_string={**query, "restaurantId": str(other.id)}, headers=auth_headers(elsewhere)
    )
    assert own.status_code == 200
    assert client.get("/api/reservations", query_string=query, headers=auth_headers(admin)).status_code == 200
    unknown = {**query, "restaurantId": str(uuid.uuid4())}
    assert_error(
        client.get("/api/reservations", query_string=unknown, headers=auth_headers(admin)), 404, "RESTAURANT_NOT_FOUND"
    )


def test_reservation_detail_for_staff(client, cafe, staff, make_user, auth_headers):
    created = client.post(
        "/api/reservations", json=reservation_body(local(DAY, 19), email="Alex@Example.com")
    ).get_json()
    response = client.get(f"/api/reservations/{created['reservationId']}", headers=auth_headers(staff))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["reservationId"], body["email"], body["name"], body["source"]) == (
        created["reservationId"],
        "alex@example.com",
        "Alex",
        "web",
    )
    missing = client.get(f"/api/reservations/{uuid.uuid4()}", headers=auth_headers(staff))
    assert_error(missing, 404, "RESERVATION_NOT_FOUND")
    guest = make_user(Role.CUSTOMER, "diner@example.com")
    detail = client.get(f"/api/reservations/{created['reservationId']}", headers=auth_headers(guest))
    assert_error(detail, 404, "RESERVATION_NOT_FOUND")  # a guest reads only their own (issue 14)
    assert_error(client.get(f"/api/reservations/{created['reservationId']}"), 401, "UNAUTHORIZED")


def test_the_website_routes_are_in_the_openapi_spec(client, app):
    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/reservations"])
    assert "get" in paths["/api/reservations/availability"]
    assert "get" in paths["/api/reservations/{reservation_id}"]
    post = paths["/api/reservations"]["post"]
    assert {"201", "409", "422", "429"} <= set(post["responses"])
    assert "/api/_bench/insert" not in paths


def test_no_500_for_dates_far_away(client, cafe):
    for value in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00"):
        response = client.post("/api/reservations", json=reservation_body(value))
        assert_error(response, 422, "BAD_TIME")
    assert date.today()  # the clock is real; nothing above depends on it being any given day


def test_a_retried_website_booking_with_an_idempotency_key_books_once(client):
    build_restaurant(tables=[(3, 4)], slug="cafe-fausse")
    body = reservation_body(local(DAY, 19))
    headers = {"Idempotency-Key": "form-submit-7f3a"}
    first = client.post("/api/reservations", json=body, headers=headers)
    again = client.post("/api/reservations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/api/reservations", json={**body, "guests": 3}, headers=headers)
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    listing = client.get("/api/reservations/availability", query_string={"time": body["time"]}).get_json()
    assert listing["booked"] == 1
