"""One booking per guest at a time: no two live bookings of one guest (email or account) close together."""

from __future__ import annotations

import dataclasses

import pytest

from api.extensions import db
from tests.booking.app_flow import app_restaurant, future_day, hold_body
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z

DAY = upcoming_service_day(days_ahead=9)


@pytest.fixture
def guard(app, monkeypatch):
    """DUPLICATE_GUARD_MINUTES at its default, 120 (the suite turns it off for other tests)."""
    settings = dataclasses.replace(app.config["SETTINGS"], duplicate_guard_minutes=120)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    return settings


@pytest.fixture
def cafe(app):
    return build_restaurant(slug="cafe-fausse", tables=[(4, 2)])


def book(client, when, email="alex@example.com"):
    return client.post("/api/reservations", json={"time": utc_z(when), "guests": 2, "name": "Alex", "email": email})


def test_a_second_booking_within_the_guard_is_409_naming_the_first(client, cafe, guard):
    first = book(client, local(DAY, 19))
    assert first.status_code == 201
    second = book(client, local(DAY, 20, 30), email="  Alex@Example.COM ")
    assert second.status_code == 409
    body = second.get_json()
    assert body["code"] == "DUPLICATE_BOOKING"
    assert body["details"] == {"confirmationCode": first.get_json()["confirmationCode"], "guardMinutes": 120}
    assert book(client, local(DAY, 17)).status_code == 201  # exactly 120 minutes before: allowed
    assert book(client, local(DAY, 21)).status_code == 201  # exactly 120 minutes after: allowed
    count = db.session.execute(db.text("SELECT count(*) FROM reservations")).scalar_one()
    assert count == 3


def test_another_guest_and_a_cancelled_booking_do_not_count(client, cafe, guard, customer, auth_headers):
    assert book(client, local(DAY, 19)).status_code == 201
    assert book(client, local(DAY, 19), email="someone.else@example.com").status_code == 201
    db.session.execute(
        db.text("UPDATE reservations SET status = 'cancelled' WHERE starts_at = :s"), {"s": local(DAY, 19)}
    )
    db.session.execute(db.text("DELETE FROM table_occupancies"))
    db.session.commit()
    assert book(client, local(DAY, 19, 30)).status_code == 201


def test_with_the_guard_off_a_guest_may_book_twice(client, cafe):
    assert book(client, local(DAY, 19)).status_code == 201
    assert book(client, local(DAY, 19, 30)).status_code == 201


def test_an_account_holding_a_table_elsewhere_cannot_book_on_the_website(client, cafe, guard, customer, auth_headers):
    elsewhere = app_restaurant()
    day = future_day(elsewhere, 9)
    held = client.post(
        "/api/reservations/hold", json=hold_body(elsewhere, customer, day, "19:00"), headers=auth_headers(customer)
    )
    assert held.status_code == 201, held.get_json()
    response = book(client, local(day, 19, 30), email=customer.email.upper())
    assert response.status_code == 409
    assert response.get_json()["code"] == "DUPLICATE_BOOKING"
    assert response.get_json()["details"]["confirmationCode"] is None  # a hold has no code yet


def test_a_website_booking_blocks_the_same_persons_hold_at_another_restaurant(
    client, cafe, guard, customer, auth_headers
):
    elsewhere = app_restaurant()
    day = future_day(elsewhere, 9)
    booked = book(client, local(day, 19), email=customer.email)
    assert booked.status_code == 201
    held = client.post(
        "/api/reservations/hold", json=hold_body(elsewhere, customer, day, "20:00"), headers=auth_headers(customer)
    )
    assert held.status_code == 409
    assert held.get_json()["code"] == "DUPLICATE_BOOKING"
    assert held.get_json()["details"]["confirmationCode"] == booked.get_json()["confirmationCode"]
    assert db.session.execute(db.text("SELECT count(*) FROM holds")).scalar_one() == 0
