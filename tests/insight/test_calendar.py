"""The calendar: hours, party-aware free slots and the reservations each caller may see."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from api.accounts.models import Role
from api.extensions import db
from api.restaurants.models import SpecialHours
from tests.booking.app_flow import future_day
from tests.conftest import bearer
from tests.insight import fixtures


@pytest.fixture
def place(app):
    return fixtures.restaurant(timezone="America/New_York", tables=1)


@pytest.fixture
def day(place):
    return future_day(place, 9)


def _calendar(client, place, start, end, headers=None, party=2):
    return client.get(
        f"/api/restaurants/{place.id}/calendar",
        query_string={"startDate": start.isoformat(), "endDate": end.isoformat(), "partySize": party},
        headers=headers or {},
    )


def test_each_day_has_hours_and_slots_free_for_the_party(client, place, day):
    fixtures.reservation(place, table=1, day=day, start=time(19))  # 19:00-20:30 on the only table
    response = _calendar(client, place, day, day + timedelta(days=2))
    assert response.status_code == 200, response.json
    body = response.json
    assert [d["date"] for d in body["days"]] == [(day + timedelta(days=i)).isoformat() for i in range(3)]
    first = body["days"][0]
    assert not first["closed"] and first["hours"] == [{"openTime": "17:00", "closeTime": "23:00"}]
    free = {slot["time"]: slot["available"] for slot in first["slots"]}
    # A 90-minute stay starting 18:00-20:00 would overlap 19:00-20:30.
    assert [t for t, ok in free.items() if not ok] == ["18:00", "18:30", "19:00", "19:30", "20:00"]
    assert free["17:30"] and free["20:30"] and free["22:30"]
    assert all(slot["available"] for slot in body["days"][1]["slots"])
    assert body["reservationsScope"] == "none" and first["reservations"] == []


def test_a_closed_day_shows_no_hours_and_no_slots(client, place, day):
    db.session.add(SpecialHours(restaurant_id=place.id, service_date=day, reason="Private event"))
    db.session.commit()
    first = _calendar(client, place, day, day).json["days"][0]
    assert first == {**first, "closed": True, "hours": [], "slots": []}


def test_staff_see_every_reservation_a_guest_only_their_own(client, place, day, make_user):
    guest = make_user(Role.CUSTOMER)
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    own = fixtures.reservation(place, table=1, day=day, start=time(18), user_id=guest.id)
    fixtures.reservation(place, table=1, day=day, start=time(21), name="Someone Else", email="else@example.com")
    own_code = own.confirmation_code

    as_staff = _calendar(client, place, day, day, bearer(staff)).json
    assert as_staff["reservationsScope"] == "all"
    seen = as_staff["days"][0]["reservations"]
    assert [r["confirmationCode"] == own_code for r in seen] == [True, False]
    assert seen[1]["name"] == "Someone Else" and seen[1]["partySize"] == 2
    as_guest = _calendar(client, place, day, day, bearer(guest)).json
    assert as_guest["reservationsScope"] == "own"
    assert [r["confirmationCode"] for r in as_guest["days"][0]["reservations"]] == [own_code]


def test_more_than_62_days_is_refused(client, place, day):
    response = _calendar(client, place, day, day + timedelta(days=62))
    assert response.status_code == 422 and response.json["code"] == "BAD_DATE"
    assert _calendar(client, place, day, day + timedelta(days=61)).status_code == 200


def test_an_inverted_range_or_an_impossible_party_is_refused(client, place, day):
    assert _calendar(client, place, day, day - timedelta(days=1)).json["code"] == "BAD_DATE"
    assert _calendar(client, place, day, day, party=40).json["code"] == "BAD_GUESTS"


def test_the_calendar_reads_in_a_fixed_number_of_queries_whatever_the_range(app, client, place, day):
    from sqlalchemy import event

    counts = []
    for days in (1, 30):
        statements = []

        def count(*args, statements=statements):
            statements.append(1)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert _calendar(client, place, day, day + timedelta(days=days - 1)).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
