"""Dashboards: a guest's upcoming bookings and activity; a restaurant's day at a glance."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.accounts.models import Role
from api.booking import lifecycle
from api.booking.models import Reservation
from api.extensions import db
from api.insight import dashboards
from tests.booking.helpers import settle
from tests.conftest import bearer
from tests.insight import fixtures

NY = ZoneInfo("America/New_York")


@pytest.fixture
def place(app):
    return fixtures.restaurant(timezone="America/New_York", tables=3)


def test_restaurant_dashboard_counts_today_by_hand(place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    today = datetime.now(NY).date()
    r = fixtures.reservation
    r(place, table=1, day=today, start=time(17), party=2, status="completed")
    r(place, table=2, day=today, start=time(17), party=4, status="seated")
    r(place, table=3, day=today, start=time(17), party=3, status="no_show")
    r(place, table=1, day=today, start=time(20), party=5, status="confirmed")
    r(place, table=2, day=today, start=time(21), party=6, status="cancelled")
    r(place, table=3, day=today, start=time(21), party=2, status="pending")
    r(place, table=3, day=today + timedelta(days=3), start=time(19), party=8, status="pending")
    r(place, table=1, day=today - timedelta(days=1), start=time(19), party=7, status="completed")  # yesterday

    board = dashboards.restaurant_dashboard(actor=staff, restaurant_id=place.id, now=datetime.now(UTC))
    assert board.date == today
    assert board.today_reservations == 5  # every status but cancelled (rejected would not count either)
    assert board.today_covers == 2 + 4 + 5 + 2  # the no-show's 3 are not covers
    assert (board.seated_now, board.seated_covers) == (1, 4)
    assert board.no_shows_today == 1
    assert board.pending_count == 2
    assert [p["party_size"] for p in board.pending_approvals] == [2, 8]


def test_recent_activity_lists_the_audit_trail_newest_first(client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    today = datetime.now(NY).date()
    booked = fixtures.reservation(place, table=1, day=today, start=time(22), party=2, status="confirmed")
    row = db.session.get(Reservation, booked.id, with_for_update=True)
    lifecycle.apply(row, lifecycle.Action.SEAT, actor=lifecycle.Actor.of(staff, reservation=row), now=datetime.now(UTC))
    settle()
    response = client.get(f"/api/restaurants/{place.id}/dashboard", headers=bearer(staff))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["seatedNow"] == 1
    assert body["recentActivity"][0]["reservationId"] == str(booked.id)
    assert body["recentActivity"][0]["toStatus"] == "seated"


def test_guest_dashboard_shows_only_the_guests_upcoming_bookings(client, place, make_user):
    guest = make_user(Role.CUSTOMER)
    later = datetime.now(NY).date() + timedelta(days=5)
    mine = fixtures.reservation(place, table=1, day=later, start=time(19), user_id=guest.id)
    fixtures.reservation(place, table=1, day=later - timedelta(days=10), start=time(19), user_id=guest.id)  # past
    fixtures.reservation(place, table=2, day=later, start=time(19))  # someone else's
    fixtures.reservation(place, table=3, day=later, start=time(19), user_id=guest.id, status="cancelled")
    response = client.get("/api/dashboard", headers=bearer(guest))
    assert response.status_code == 200
    assert [u["reservationId"] for u in response.json["upcoming"]] == [str(mine.id)]
    assert response.json["upcoming"][0]["restaurantName"] == "Test Bistro"
