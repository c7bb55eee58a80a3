"""Settings that shape time may change while bookings exist; the table is still never sold twice.

Each test is one way the bucket model broke (issue "Never sold twice, whatever the settings"),
walked through the HTTP API as staff and guests would, and ends with the invariants checked in
SQL on exact time ranges.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from api.accounts.models import Role
from api.booking import allocation, reservations
from api.errors import Conflict
from api.extensions import db
from tests.booking.helpers import build_restaurant, local, upcoming_service_day, utc_z
from tests.support import invariants

DAY = upcoming_service_day(days_ahead=12)


def book(client, when, guests=2, email=None):
    return client.post(
        "/api/reservations",
        json={"time": utc_z(when), "guests": guests, "name": "Alex", "email": email or f"g{when:%H%M}@example.com"},
    )


def assert_invariants():
    invariants.assert_nothing_sold_twice(db.session.connection())


@pytest.fixture
def bistro(app):
    """One two-top at the website's restaurant: 30-minute slots, 90-minute stays, 17:00-23:00."""
    return build_restaurant(slug="cafe-fausse", tables=[(1, 2)], slot_minutes=30, duration_minutes=90)


@pytest.fixture
def staff_headers(bistro, make_user, auth_headers):
    return auth_headers(make_user(Role.STAFF, restaurant_id=bistro.id))


def test_a_shorter_slot_length_cannot_squeeze_a_booking_into_a_stay(client, bistro, staff_headers):
    first = book(client, local(DAY, 19))
    assert first.status_code == 201
    changed = client.patch(
        f"/api/restaurants/{bistro.id}", json={"settings": {"slotMinutes": 20}}, headers=staff_headers
    )
    assert changed.status_code == 200, changed.get_json()

    # 20:20 is on the new grid, and inside the 19:00-20:30 stay: the old buckets let it through.
    overlapping = book(client, local(DAY, 20, 20))
    assert overlapping.status_code == 409
    assert overlapping.get_json()["code"] == "FULLY_BOOKED"
    assert book(client, local(DAY, 20, 40)).status_code == 201  # the table is free again from 20:30
    assert_invariants()


def test_a_longer_turn_time_for_a_party_size_keeps_old_bookings_and_blocks_overlaps(client, bistro, staff_headers):
    evening = book(client, local(DAY, 20))
    assert evening.status_code == 201
    changed = client.patch(
        f"/api/restaurants/{bistro.id}",
        json={"settings": {"durationsByParty": [{"maxParty": 2, "minutes": 180}]}},
        headers=staff_headers,
    )
    assert changed.status_code == 200, changed.get_json()

    # A 17:30 party now stays until 20:30, into the 20:00 booking.
    assert book(client, local(DAY, 17, 30)).get_json()["code"] == "FULLY_BOOKED"
    assert book(client, local(DAY, 17)).status_code == 201  # 17:00-20:00 ends as the next one starts
    stays = db.session.execute(
        db.text("SELECT starts_at, ends_at FROM reservations WHERE restaurant_id = :r ORDER BY starts_at"),
        {"r": bistro.id},
    ).all()
    assert [(s.ends_at - s.starts_at) for s in stays] == [timedelta(minutes=180), timedelta(minutes=90)]
    assert_invariants()


def test_a_time_zone_change_with_future_bookings_is_refused(client, bistro, staff_headers):
    booked = book(client, local(DAY, 19))
    assert booked.status_code == 201
    changed = client.patch(
        f"/api/restaurants/{bistro.id}", json={"settings": {"timeZone": "Europe/Paris"}}, headers=staff_headers
    )
    assert changed.status_code == 409
    body = changed.get_json()
    assert body["code"] == "BOOKINGS_AFFECTED"
    assert [b["confirmationCode"] for b in body["details"]["bookings"]] == [booked.get_json()["confirmationCode"]]
    db.session.expire_all()
    assert bistro.timezone == "America/New_York"
    assert_invariants()


def test_a_time_zone_change_without_future_bookings_applies(client, bistro, staff_headers):
    changed = client.patch(
        f"/api/restaurants/{bistro.id}", json={"settings": {"timeZone": "Europe/Paris"}}, headers=staff_headers
    )
    assert changed.status_code == 200
    assert changed.get_json()["settings"]["timeZone"] == "Europe/Paris"


def week(opens: str, closes: str) -> dict:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return {"periods": [{"day": d, "openTime": opens, "closeTime": closes} for d in days]}


def test_new_hours_that_strand_a_booking_answer_409_with_the_list_and_force_applies_them(client, bistro, staff_headers):
    late = book(client, local(DAY, 22))
    early = book(client, local(DAY, 18))
    assert late.status_code == early.status_code == 201
    url = f"/api/restaurants/{bistro.id}/hours"

    refused = client.put(url, json=week("17:00", "21:00"), headers=staff_headers)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "BOOKINGS_AFFECTED"
    assert [b["confirmationCode"] for b in refused.get_json()["details"]["bookings"]] == [
        late.get_json()["confirmationCode"]
    ]
    assert client.get(url, headers=staff_headers).get_json()["periods"][0]["closeTime"] == "23:00"  # unchanged

    forced = client.put(f"{url}?force=true", json=week("17:00", "21:00"), headers=staff_headers)
    assert forced.status_code == 200
    assert [b["confirmationCode"] for b in forced.get_json()["affectedBookings"]] == [
        late.get_json()["confirmationCode"]
    ]
    # The stranded booking keeps its exact time and table; only new bookings follow the new hours.
    status = db.session.execute(
        db.text("SELECT status FROM reservations WHERE confirmation_code = :c"),
        {"c": late.get_json()["confirmationCode"]},
    ).scalar_one()
    assert status == "confirmed"
    assert book(client, local(DAY, 21, 30)).get_json()["code"] == "BAD_TIME"
    assert_invariants()


def test_hours_that_keep_every_booking_inside_apply_without_force(client, bistro, staff_headers):
    assert book(client, local(DAY, 19)).status_code == 201
    changed = client.put(f"/api/restaurants/{bistro.id}/hours", json=week("18:00", "22:00"), headers=staff_headers)
    assert changed.status_code == 200
    assert changed.get_json()["affectedBookings"] == []


def test_a_closure_over_a_booking_answers_409_and_force_adds_it(client, bistro, staff_headers):
    booked = book(client, local(DAY, 19))
    url = f"/api/restaurants/{bistro.id}/closures"
    refused = client.post(url, json={"date": DAY.isoformat(), "reason": "Private event"}, headers=staff_headers)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "BOOKINGS_AFFECTED"
    assert client.get(url, headers=staff_headers).get_json() == []

    # A partial-day opening that still covers 19:00 strands nothing.
    other_day = DAY + timedelta(days=1)
    assert book(client, local(other_day, 19)).status_code == 201
    partial = client.post(
        url, json={"date": other_day.isoformat(), "openTime": "18:00", "closeTime": "20:00"}, headers=staff_headers
    )
    assert partial.status_code == 201 and partial.get_json()["affectedBookings"] == []

    forced = client.post(f"{url}?force=true", json={"date": DAY.isoformat()}, headers=staff_headers)
    assert forced.status_code == 201
    assert [b["confirmationCode"] for b in forced.get_json()["affectedBookings"]] == [
        booked.get_json()["confirmationCode"]
    ]
    assert_invariants()


def test_closing_time_change_is_checked_on_exact_wall_time(client, bistro, staff_headers):
    """A booking at 20:45 (made on a 15-minute grid) is outside hours that close at 20:45."""
    client.patch(f"/api/restaurants/{bistro.id}", json={"settings": {"slotMinutes": 15}}, headers=staff_headers)
    assert book(client, local(DAY, 20, 45)).status_code == 201
    refused = client.put(f"/api/restaurants/{bistro.id}/hours", json=week("17:00", "20:45"), headers=staff_headers)
    assert refused.get_json()["code"] == "BOOKINGS_AFFECTED"
    kept = client.put(f"/api/restaurants/{bistro.id}/hours", json=week("17:00", "21:00"), headers=staff_headers)
    assert kept.status_code == 200


def test_without_the_lock_and_blind_to_the_first_stay_an_overlap_on_another_grid_is_race_lost(
    client, bistro, staff_headers, app, monkeypatch
):
    """The exclusion constraint alone: 19:00-20:30 booked on a 30-minute grid, 20:20 on a 20-minute one."""
    assert book(client, local(DAY, 19)).status_code == 201
    client.patch(f"/api/restaurants/{bistro.id}", json={"settings": {"slotMinutes": 20}}, headers=staff_headers)
    monkeypatch.setitem(
        app.config, "SETTINGS", dataclasses.replace(app.config["SETTINGS"], disable_allocation_lock=True)
    )
    blind = reservations._BOOK_SQL.replace("AND o.starts_at < :ends_at AND o.ends_at > :starts_at", "AND false")
    assert blind != reservations._BOOK_SQL
    monkeypatch.setattr(reservations, "_BOOK_UNLOCKED", text(blind).bindparams(*reservations._BOOK_BINDS))

    response = book(client, local(DAY, 20, 20))

    assert response.status_code == 409
    assert response.get_json()["code"] == "RACE_LOST"
    assert db.session.execute(db.text("SELECT count(*) FROM reservations")).scalar_one() == 1
    assert_invariants()


class _Deadlock(Exception):
    pgcode = "40P01"


def test_a_deadlock_between_two_claims_past_the_lock_is_race_lost_not_a_503():
    """Two overlapping claims inserted at once (only possible past the lock) may deadlock in the
    exclusion check; PostgreSQL aborts one, which lost the race for the table."""
    with pytest.raises(Conflict) as lost, allocation.race_lost_on_claim_collision():
        raise OperationalError("INSERT INTO table_occupancies ...", {}, _Deadlock())
    assert lost.value.code == "RACE_LOST"

    class _Timeout(Exception):
        pgcode = "55P03"

    with pytest.raises(OperationalError), allocation.race_lost_on_claim_collision():
        raise OperationalError("SELECT pg_advisory_xact_lock(...)", {}, _Timeout())  # a lock timeout stays a 503
