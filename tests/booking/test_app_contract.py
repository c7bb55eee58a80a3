"""Seed 000's endpoints 1-6, request and response shapes exactly: keys, types, epoch ms, FT- codes.

Every request body here is the seed's own example body (ids replaced by ours, and the confirm's
`paymentMethod` carrying the gateway token the seed forgot); every answer is checked key by key.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.accounts.models import Role
from api.booking.models import Hold, Reservation, ReservationStatus
from api.extensions import db
from api.payments.models import Payment
from tests.booking.app_flow import app_restaurant, book_via_api, confirm_body, expire_hold, future_day, hold_body

pytestmark = pytest.mark.usefixtures("app")

CODE = re.compile(r"^FT-[A-Z0-9]{6}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^\d{2}:\d{2}$")


def is_epoch_ms(value: object) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    now_ms = datetime.now(UTC).timestamp() * 1000
    return abs(value - now_ms) < 48 * 3600 * 1000  # a plausible instant, in milliseconds (not seconds)


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


@pytest.fixture
def restaurant():
    return app_restaurant()


@pytest.fixture
def day(restaurant):
    return future_day(restaurant, 7)


# --- 1. availability --------------------------------------------------------------------------


def test_availability_matches_the_seed_shape_and_is_public(client, restaurant, day):
    body = {"restaurantId": str(restaurant.id), "date": day.isoformat(), "partySize": 2}
    response = client.post("/api/reservations/availability", json=body)  # the seed's curl sends no token
    assert response.status_code == 200
    data = response.get_json()
    assert {"slots", "depositPerPerson", "totalDeposit"} <= set(data)  # the FoodTok client reads more (issue 14)
    assert data["depositPerPerson"] == 25 and isinstance(data["depositPerPerson"], int)
    assert data["totalDeposit"] == 50 and isinstance(data["totalDeposit"], int)
    assert [s["time"] for s in data["slots"]] == [f"{h:02d}:{m:02d}" for h in range(17, 23) for m in (0, 30)]
    for slot in data["slots"]:
        assert {"time", "available", "availableTables", "totalTables"} <= set(slot)
        assert TIME.match(slot["time"])
        assert slot["available"] is True
        assert slot["availableTables"] == 4 and slot["totalTables"] == 4  # every table seats 2


def test_availability_counts_holds_and_reservations_for_the_party(
    client, restaurant, day, customer, other_customer, auth_headers
):
    book_via_api(client, auth_headers, restaurant, customer, day, "19:00", party=4)
    client.post(
        "/api/reservations/hold",
        json=hold_body(restaurant, other_customer, day, "19:00", 4),
        headers=auth_headers(other_customer),
    )
    body = {"restaurantId": str(restaurant.id), "date": day.isoformat(), "partySize": 4}
    slots = {s["time"]: s for s in client.post("/api/reservations/availability", json=body).get_json()["slots"]}
    # Two 4-tops seat a party of 4; a 90-minute stay at 19:00 blocks 18:00 to 20:00 starts.
    assert (
        slots["19:00"].items() >= {"time": "19:00", "available": False, "availableTables": 0, "totalTables": 2}.items()
    )
    assert slots["18:00"]["availableTables"] == 0 and slots["20:00"]["availableTables"] == 0
    assert slots["17:30"]["availableTables"] == 2 and slots["20:30"]["availableTables"] == 2


def test_availability_money_is_dollars_with_cents_when_needed(client, day):
    restaurant = app_restaurant(deposit_per_person_cents=1250)
    body = {"restaurantId": str(restaurant.id), "date": day.isoformat(), "partySize": 3}
    data = client.post("/api/reservations/availability", json=body).get_json()
    assert data["depositPerPerson"] == 12.5 and data["totalDeposit"] == 37.5


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"restaurantId": "rest_001", "date": "2026-11-15", "partySize": 2}, 404, "RESTAURANT_NOT_FOUND"),
        ({"date": "2026-11-15", "partySize": 2}, 422, "VALIDATION_ERROR"),
        (
            {"restaurantId": "00000000-0000-0000-0000-000000000000", "date": "2026-11-15", "partySize": 2},
            404,
            "RESTAURANT_NOT_FOUND",
        ),
    ],
)
def test_availability_errors(client, body, status, code):
    response = client.post("/api/reservations/availability", json=body)
    assert (response.status_code, response.get_json()["code"]) == (status, code)


def test_availability_refuses_party_sizes_the_restaurant_does_not_seat(client, restaurant, day):
    body = {"restaurantId": str(restaurant.id), "date": day.isoformat(), "partySize": 13}
    response = client.post("/api/reservations/availability", json=body)
    assert (response.status_code, response.get_json()["code"]) == (422, "BAD_GUESTS")


# --- 2. hold ----------------------------------------------------------------------------------


def test_hold_matches_the_seed_shape(client, restaurant, day, customer, auth_headers):
    response = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    )
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) == {"hold", "totalDeposit", "expiresIn"}
    hold = data["hold"]
    assert {
        "holdId", "userId", "restaurantId", "date", "time", "partySize", "depositAmount", "createdAt", "expiresAt",
    } <= set(hold)  # fmt: skip
    assert is_uuid(hold["holdId"])
    assert hold["userId"] == str(customer.id) and hold["restaurantId"] == str(restaurant.id)
    assert (hold["date"], hold["time"], hold["partySize"]) == (day.isoformat(), "19:00", 2)
    assert hold["depositAmount"] == 50 and data["totalDeposit"] == 50
    assert is_epoch_ms(hold["createdAt"]) and is_epoch_ms(hold["expiresAt"])
    assert hold["expiresAt"] - hold["createdAt"] == 10 * 60 * 1000
    assert data["expiresIn"] == 600


def test_hold_needs_a_token(client, restaurant, day, customer):
    response = client.post("/api/reservations/hold", json=hold_body(restaurant, customer, day))
    assert (response.status_code, response.get_json()["code"]) == (401, "UNAUTHORIZED")


def test_hold_for_someone_else_is_user_mismatch(client, restaurant, day, customer, other_customer, auth_headers):
    response = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, other_customer, day), headers=auth_headers(customer)
    )
    assert (response.status_code, response.get_json()["code"]) == (403, "USER_MISMATCH")


def test_a_second_hold_is_active_hold_exists(client, restaurant, day, customer, auth_headers):
    first = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day, "19:00"), headers=auth_headers(customer)
    )
    assert first.status_code == 201
    second = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day, "20:00"), headers=auth_headers(customer)
    )
    assert (second.status_code, second.get_json()["code"]) == (409, "ACTIVE_HOLD_EXISTS")
    assert second.get_json()["details"]["holdId"] == first.get_json()["hold"]["holdId"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"time": "19:15"}, "BAD_TIME"),  # off the 30-minute grid
        ({"time": "12:00"}, "BAD_TIME"),  # closed
        ({"date": "2020-01-01"}, "BAD_TIME"),  # past
        ({"partySize": 0}, "BAD_GUESTS"),
        ({"partySize": 40}, "BAD_GUESTS"),
    ],
)
def test_hold_validation(client, restaurant, day, customer, auth_headers, changes, code):
    body = {**hold_body(restaurant, customer, day), **changes}
    response = client.post("/api/reservations/hold", json=body, headers=auth_headers(customer))
    assert (response.status_code, response.get_json()["code"]) == (422, code)


def test_hold_fully_booked(client, customer, other_customer, auth_headers, day):
    restaurant = app_restaurant(tables=[(1, 2)])
    assert (
        client.post(
            "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
        ).status_code
        == 201
    )
    response = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, other_customer, day), headers=auth_headers(other_customer)
    )
    assert (response.status_code, response.get_json()["code"]) == (409, "FULLY_BOOKED")


# --- 3. active hold ---------------------------------------------------------------------------


def test_active_hold_matches_the_seed_shape(client, restaurant, day, customer, auth_headers):
    created = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()
    response = client.get(f"/api/reservations/hold/active?userId={customer.id}", headers=auth_headers(customer))
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {
        "holdId",
        "restaurantId",
        "restaurantName",
        "date",
        "time",
        "partySize",
        "depositAmount",
        "expiresAt",
    }
    assert data["holdId"] == created["hold"]["holdId"]
    assert data["restaurantName"] == "Bella Notte"
    assert (data["date"], data["time"], data["partySize"], data["depositAmount"]) == (day.isoformat(), "19:00", 2, 50)
    assert data["expiresAt"] == created["hold"]["expiresAt"]


def test_no_active_hold(client, customer, auth_headers):
    response = client.get(f"/api/reservations/hold/active?userId={customer.id}", headers=auth_headers(customer))
    assert (response.status_code, response.get_json()["code"]) == (404, "NO_ACTIVE_HOLD")


def test_an_expired_hold_is_not_active(client, restaurant, day, customer, auth_headers):
    created = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()
    expire_hold(created["hold"]["holdId"])
    response = client.get(f"/api/reservations/hold/active?userId={customer.id}", headers=auth_headers(customer))
    assert response.get_json()["code"] == "NO_ACTIVE_HOLD"


# --- 4. confirm -------------------------------------------------------------------------------


def test_confirm_matches_the_seed_shape(client, restaurant, day, customer, auth_headers):
    hold = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]
    body = confirm_body(hold["holdId"], customer, specialRequests="Window seat please")
    response = client.post("/api/reservations/confirm", json=body, headers=auth_headers(customer))
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) == {"reservation", "message"}
    reservation = data["reservation"]
    assert {
        "reservationId", "confirmationCode", "userId", "restaurantId", "restaurantName", "date", "time",
        "partySize", "depositAmount", "status", "createdAt",
    } <= set(reservation)  # fmt: skip
    assert is_uuid(reservation["reservationId"])
    assert CODE.match(reservation["confirmationCode"])
    assert reservation["confirmationCode"] in data["message"]
    assert (reservation["userId"], reservation["restaurantId"]) == (str(customer.id), str(restaurant.id))
    assert reservation["restaurantName"] == "Bella Notte"
    assert (reservation["date"], reservation["time"], reservation["partySize"]) == (day.isoformat(), "19:00", 2)
    assert reservation["depositAmount"] == 50 and reservation["status"] == "confirmed"
    assert is_epoch_ms(reservation["createdAt"])

    row = db.session.get(Reservation, uuid.UUID(reservation["reservationId"]))
    assert row.deposit_paid is True
    # Brand and last 4 come from the gateway, never from the client's "Fake"/"0000".
    assert (row.payment_brand, row.payment_last4) == ("Visa", "4242")
    assert row.special_requests == "Window seat please"
    assert db.session.get(Hold, uuid.UUID(hold["holdId"])) is None
    payment = db.session.scalar(select(Payment).where(Payment.subject_id == uuid.UUID(hold["holdId"])))
    assert payment.status == "captured" and payment.amount_cents == 5000


def test_confirming_twice_returns_the_same_reservation(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    first = client.post(
        "/api/reservations/confirm", json=confirm_body(hold_id, customer), headers=auth_headers(customer)
    )
    again = client.post(
        "/api/reservations/confirm", json=confirm_body(hold_id, customer), headers=auth_headers(customer)
    )
    assert first.status_code == again.status_code == 201
    assert first.get_json()["reservation"] == again.get_json()["reservation"]
    assert (
        db.session.scalar(select(db.func.count()).select_from(Payment).where(Payment.subject_id == uuid.UUID(hold_id)))
        == 1
    )


def test_a_declined_card_is_402_and_the_hold_stays_for_another_card(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    declined = client.post(
        "/api/reservations/confirm",
        json=confirm_body(hold_id, customer, "pm_card_chargeDeclined"),
        headers=auth_headers(customer),
    )
    assert (declined.status_code, declined.get_json()["code"]) == (402, "PAYMENT_DECLINED")
    active = client.get(f"/api/reservations/hold/active?userId={customer.id}", headers=auth_headers(customer))
    assert active.status_code == 200 and active.get_json()["holdId"] == hold_id
    retried = client.post(
        "/api/reservations/confirm",
        json=confirm_body(hold_id, customer, "pm_card_mastercard"),
        headers=auth_headers(customer),
    )
    assert retried.status_code == 201
    row = db.session.get(Reservation, uuid.UUID(retried.get_json()["reservation"]["reservationId"]))
    assert (row.payment_brand, row.payment_last4, row.deposit_paid) == ("Mastercard", "4444", True)


@pytest.mark.parametrize(
    "payment_method",
    [
        {"type": "credit-card", "number": "4242 4242 4242 4242", "token": "pm_card_visa"},
        {"type": "credit-card", "token": "4242424242424242"},
        {"type": "credit-card", "token": "pm_card_visa", "cvc": "123"},
    ],
)
def test_raw_card_data_is_refused(client, restaurant, day, customer, auth_headers, payment_method):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    body = {"holdId": hold_id, "userId": str(customer.id), "paymentMethod": payment_method}
    response = client.post("/api/reservations/confirm", json=body, headers=auth_headers(customer))
    assert (response.status_code, response.get_json()["code"]) == (422, "RAW_CARD_REJECTED")
    assert "4242424242424242" not in response.get_data(as_text=True).replace(" ", "")


def test_confirm_needs_a_payment_token_or_test_card_digits(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    body = {"holdId": hold_id, "userId": str(customer.id), "paymentMethod": {"type": "credit-card"}}
    response = client.post("/api/reservations/confirm", json=body, headers=auth_headers(customer))
    assert (response.status_code, response.get_json()["code"]) == (422, "PAYMENT_TOKEN_REQUIRED")


def test_someone_elses_hold_is_not_found(client, restaurant, day, customer, other_customer, auth_headers):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    response = client.post(
        "/api/reservations/confirm", json=confirm_body(hold_id, other_customer), headers=auth_headers(other_customer)
    )
    assert (response.status_code, response.get_json()["code"]) == (404, "HOLD_NOT_FOUND")
    unknown = client.post(
        "/api/reservations/confirm", json=confirm_body(str(uuid.uuid4()), customer), headers=auth_headers(customer)
    )
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "HOLD_NOT_FOUND")


def test_an_expired_hold_is_410(client, restaurant, day, customer, auth_headers):
    hold_id = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, customer, day), headers=auth_headers(customer)
    ).get_json()["hold"]["holdId"]
    expire_hold(hold_id)
    response = client.post(
        "/api/reservations/confirm", json=confirm_body(hold_id, customer), headers=auth_headers(customer)
    )
    assert (response.status_code, response.get_json()["code"]) == (410, "HOLD_EXPIRED")
    assert (
        db.session.scalar(select(db.func.count()).select_from(Payment).where(Payment.subject_id == uuid.UUID(hold_id)))
        == 0
    )


# --- 5. user reservations ---------------------------------------------------------------------

LIST_KEYS = {
    "reservationId", "confirmationCode", "restaurantId", "restaurantName", "restaurantImage", "cuisine", "date",
    "time", "partySize", "depositAmount", "status", "createdAt",
}  # fmt: skip


def test_user_reservations_match_the_seed_shape(client, restaurant, customer, auth_headers):
    later = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 9), "20:00")
    sooner = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8), "18:30")
    response = client.get(f"/api/reservations/user/{customer.id}?filter=upcoming", headers=auth_headers(customer))
    assert response.status_code == 200
    data = response.get_json()
    assert isinstance(data, list) and [r["reservationId"] for r in data] == [
        sooner["reservationId"],
        later["reservationId"],
    ]
    item = data[0]
    assert set(item) >= LIST_KEYS
    assert item["restaurantImage"] == "https://img.example/bella-notte.jpg" and item["cuisine"] == ["Italian"]
    assert CODE.match(item["confirmationCode"]) and DATE.match(item["date"]) and TIME.match(item["time"])
    assert (item["time"], item["depositAmount"], item["status"]) == ("18:30", 50, "confirmed")
    assert is_epoch_ms(item["createdAt"])
    # No filter: upcoming, as the seed's default.
    assert client.get(f"/api/reservations/user/{customer.id}", headers=auth_headers(customer)).get_json() == data


def test_past_lists_started_and_finished_ones_of_this_user_only(
    client, restaurant, customer, other_customer, auth_headers
):
    mine = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    theirs = book_via_api(client, auth_headers, restaurant, other_customer, future_day(restaurant, 9))
    for reservation in (mine, theirs):
        client.delete(
            f"/api/reservations/{reservation['reservationId']}",
            json={},
            headers=auth_headers(customer if reservation is mine else other_customer),
        )
    # An old, completed reservation of the user (started in the past).
    past = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 10))
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == uuid.UUID(past["reservationId"]))
        .values(
            starts_at=datetime.now(UTC) - timedelta(days=3),
            ends_at=datetime.now(UTC) - timedelta(days=3) + timedelta(minutes=90),
            status=ReservationStatus.COMPLETED,
        )
    )
    db.session.commit()
    response = client.get(f"/api/reservations/user/{customer.id}?filter=past", headers=auth_headers(customer))
    ids = [r["reservationId"] for r in response.get_json()]
    # Latest first; the other user's cancelled booking never leaks (seed 000's missing parentheses).
    assert ids == [mine["reservationId"], past["reservationId"]]
    upcoming = client.get(
        f"/api/reservations/user/{customer.id}?filter=upcoming", headers=auth_headers(customer)
    ).get_json()
    assert upcoming == []


def test_user_reservations_of_someone_else_is_user_mismatch(client, customer, other_customer, auth_headers):
    response = client.get(f"/api/reservations/user/{other_customer.id}", headers=auth_headers(customer))
    assert (response.status_code, response.get_json()["code"]) == (403, "USER_MISMATCH")


def test_staff_may_list_a_guests_reservations_at_their_restaurant(
    client, restaurant, customer, make_user, auth_headers
):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    staff = make_user(Role.STAFF, "host@example.com", restaurant.id)
    elsewhere = make_user(Role.STAFF, "host-elsewhere@example.com", app_restaurant().id)
    seen = client.get(f"/api/reservations/user/{customer.id}", headers=auth_headers(staff)).get_json()
    assert [r["reservationId"] for r in seen] == [booked["reservationId"]]
    assert client.get(f"/api/reservations/user/{customer.id}", headers=auth_headers(elsewhere)).get_json() == []


# --- 6. cancel --------------------------------------------------------------------------------


def test_cancel_matches_the_seed_shape(client, restaurant, customer, auth_headers):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    response = client.delete(
        f"/api/reservations/{booked['reservationId']}",
        json={"userId": str(customer.id)},
        headers=auth_headers(customer),
    )
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"success", "message", "refundAmount", "refundPercentage"}
    assert data["success"] is True
    assert (data["refundAmount"], data["refundPercentage"]) == (50, 100)
    assert isinstance(data["refundAmount"], int) and isinstance(data["message"], str)

    row = db.session.get(Reservation, uuid.UUID(booked["reservationId"]))
    db.session.refresh(row)
    assert row.status == "cancelled" and row.refund_cents == 5000
    payment = db.session.scalar(select(Payment).where(Payment.subject_id == row.hold_id))
    db.session.refresh(payment)
    assert payment.status == "refunded" and payment.refunded_cents == 5000


def test_cancel_frees_the_table_at_once(client, customer, other_customer, auth_headers):
    restaurant = app_restaurant(tables=[(1, 2)])
    day = future_day(restaurant, 8)
    booked = book_via_api(client, auth_headers, restaurant, customer, day)
    blocked = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, other_customer, day), headers=auth_headers(other_customer)
    )
    assert blocked.get_json()["code"] == "FULLY_BOOKED"
    client.delete(
        f"/api/reservations/{booked['reservationId']}",
        json={"userId": str(customer.id)},
        headers=auth_headers(customer),
    )
    again = client.post(
        "/api/reservations/hold", json=hold_body(restaurant, other_customer, day), headers=auth_headers(other_customer)
    )
    assert again.status_code == 201


def test_cancel_twice_is_already_cancelled(client, restaurant, customer, auth_headers):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    url = f"/api/reservations/{booked['reservationId']}"
    assert client.delete(url, json={"userId": str(customer.id)}, headers=auth_headers(customer)).status_code == 200
    again = client.delete(url, json={"userId": str(customer.id)}, headers=auth_headers(customer))
    assert (again.status_code, again.get_json()["code"]) == (409, "ALREADY_CANCELLED")


def test_cancel_someone_elses_is_not_found_and_staff_may(
    client, restaurant, customer, other_customer, make_user, auth_headers
):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    url = f"/api/reservations/{booked['reservationId']}"
    stranger = client.delete(url, json={"userId": str(other_customer.id)}, headers=auth_headers(other_customer))
    assert (stranger.status_code, stranger.get_json()["code"]) == (404, "RESERVATION_NOT_FOUND")
    mismatch = client.delete(url, json={"userId": str(customer.id)}, headers=auth_headers(other_customer))
    assert (mismatch.status_code, mismatch.get_json()["code"]) == (403, "USER_MISMATCH")
    other_staff = make_user(Role.STAFF, "host-elsewhere@example.com", app_restaurant().id)
    assert client.delete(url, json={}, headers=auth_headers(other_staff)).get_json()["code"] == "RESERVATION_NOT_FOUND"
    staff = make_user(Role.STAFF, "host@example.com", restaurant.id)
    assert client.delete(url, json={}, headers=auth_headers(staff)).status_code == 200


def test_refund_quote(client, restaurant, customer, other_customer, auth_headers):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    response = client.get(f"/api/reservations/{booked['reservationId']}/refund-quote", headers=auth_headers(customer))
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {
        "reservationId",
        "cancellable",
        "depositAmount",
        "refundAmount",
        "refundPercentage",
        "hoursUntilStart",
    }
    assert (data["cancellable"], data["depositAmount"], data["refundAmount"], data["refundPercentage"]) == (
        True,
        50,
        50,
        100,
    )
    assert data["hoursUntilStart"] > 24
    hidden = client.get(
        f"/api/reservations/{booked['reservationId']}/refund-quote", headers=auth_headers(other_customer)
    )
    assert hidden.get_json()["code"] == "RESERVATION_NOT_FOUND"


def test_every_app_route_is_in_the_openapi_spec(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/reservations/availability"]
    assert "post" in paths["/api/reservations/hold"]
    assert "get" in paths["/api/reservations/hold/active"]
    assert "post" in paths["/api/reservations/confirm"]
    assert "get" in paths["/api/reservations/user/{user_id}"]
    assert "delete" in paths["/api/reservations/{reservation_id}"]
    assert "get" in paths["/api/reservations/{reservation_id}/refund-quote"]
    hold_params = [p["name"] for p in paths["/api/reservations/hold"]["post"].get("parameters", [])]
    assert "Idempotency-Key" in hold_params


def test_cancel_without_a_body_cancels_the_callers_own(client, restaurant, customer, auth_headers):
    booked = book_via_api(client, auth_headers, restaurant, customer, future_day(restaurant, 8))
    response = client.delete(f"/api/reservations/{booked['reservationId']}", headers=auth_headers(customer))
    assert response.status_code == 200 and response.get_json()["refundPercentage"] == 100
