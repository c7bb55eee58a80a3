"""The settings resource: one document, validated as a whole, audited, guarded against stranding bookings."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from api.accounts.models import Role
from api.extensions import db
from api.restaurants.models import SettingsChange
from tests.booking.app_flow import future_day
from tests.conftest import bearer
from tests.insight import fixtures


@pytest.fixture
def place(app):
    yield fixtures.restaurant(timezone="America/New_York")


@pytest.fixture
def staff_headers(app, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    return bearer(staff)


def _get(client, place, headers):
    response = client.get(f"/api/restaurants/{place.id}/settings", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_settings_document_shows_every_setting(client, place, staff_headers):
    document = _get(client, place, staff_headers)
    assert document["slotMinutes"] == 30 and document["defaultDurationMinutes"] == 90
    assert document["timeZone"] == "America/New_York"
    assert len(document["openingHours"]) == 7
    assert document["openingHours"][0] == {"day": "monday", "openTime": "17:00", "closeTime": "23:00"}
    assert {"refundPolicy", "turnTimesByParty", "depositPerPersonCents", "acceptsReservations"} <= set(document)


def test_put_replaces_the_settings_and_audits_who_and_what(app, client, place, staff_headers):
    document = _get(client, place, staff_headers)
    document.update(
        slotMinutes=15,
        turnTimesByParty=[{"maxParty": 2, "minutes": 75}, {"maxParty": 12, "minutes": 120}],
        depositPerPersonCents=1500,
        refundPolicy=[{"minHoursBefore": 48, "percent": 100}],
    )
    document["openingHours"] = [{"day": "friday", "openTime": "12:00", "closeTime": "15:00"}, *document["openingHours"]]
    response = client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers)
    assert response.status_code == 200, response.json
    assert response.json["settings"]["slotMinutes"] == 15
    assert response.json["affectedBookings"] == []
    again = _get(client, place, staff_headers)
    assert again["turnTimesByParty"][0] == {"maxParty": 2, "minutes": 75}
    assert {"day": "friday", "openTime": "12:00", "closeTime": "15:00"} in again["openingHours"]
    change = db.session.scalars(select(SettingsChange).where(SettingsChange.restaurant_id == place.id)).one()
    assert change.old["slotMinutes"] == 30 and change.new["slotMinutes"] == 15
    assert set(change.changed) == {
        "slotMinutes",
        "turnTimesByParty",
        "depositPerPersonCents",
        "refundPolicy",
        "openingHours",
    }
    assert change.actor_id is not None
    history = client.get(f"/api/restaurants/{place.id}/settings/changes", headers=staff_headers)
    assert history.status_code == 200 and history.json[0]["changed"] == sorted(change.changed)


def test_an_unchanged_document_writes_no_audit_row(app, client, place, staff_headers):
    document = _get(client, place, staff_headers)
    assert client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers).status_code == 200
    assert db.session.scalars(select(SettingsChange).where(SettingsChange.restaurant_id == place.id)).all() == []


def test_every_invalid_field_is_reported_at_once(client, place, staff_headers):
    document = _get(client, place, staff_headers)
    document.update(timeZone="Mars/Olympus", minPartySize=8, maxPartySize=4)
    document["turnTimesByParty"] = [{"maxParty": 4, "minutes": 90}, {"maxParty": 4, "minutes": 100}]
    document["openingHours"] = [
        {"day": "monday", "openTime": "17:00", "closeTime": "22:00"},
        {"day": "monday", "openTime": "21:00", "closeTime": "23:00"},
    ]
    response = client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers)
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    fields = response.json["details"]["fields"]
    assert {"timeZone", "maxPartySize", "turnTimesByParty", "openingHours"} <= set(fields)
    assert _get(client, place, staff_headers)["minPartySize"] == 1  # nothing applied


def test_a_missing_field_is_a_validation_error(client, place, staff_headers):
    document = _get(client, place, staff_headers)
    del document["slotMinutes"]
    response = client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers)
    assert response.status_code == 422 and "slotMinutes" in str(response.json["details"])


def test_hours_that_strand_a_booking_are_refused_unless_forced(app, client, place, staff_headers):
    day = future_day(place, 10)
    booked_id = str(fixtures.reservation(place, table=1, day=day, start=time(21)).id)
    document = _get(client, place, staff_headers)
    document["openingHours"] = [
        {"day": name, "openTime": "17:00", "closeTime": "20:00"}
        for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    ]
    refused = client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers)
    assert refused.status_code == 409 and refused.json["code"] == "BOOKINGS_AFFECTED"
    assert [b["id"] for b in refused.json["details"]["bookings"]] == [booked_id]
    assert _get(client, place, staff_headers)["openingHours"][0]["closeTime"] == "23:00"
    forced = client.put(
        f"/api/restaurants/{place.id}/settings", json=document, query_string={"force": "true"}, headers=staff_headers
    )
    assert forced.status_code == 200
    assert [b["id"] for b in forced.json["affectedBookings"]] == [booked_id]


def test_time_zone_cannot_change_under_future_bookings(app, client, place, staff_headers):
    fixtures.reservation(place, table=1, day=future_day(place, 3), start=time(19))
    document = _get(client, place, staff_headers)
    document["timeZone"] = "Europe/Paris"
    response = client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers)
    assert response.status_code == 409 and response.json["code"] == "BOOKINGS_AFFECTED"


def test_staff_of_another_restaurant_may_not_read_or_change_settings(app, client, place, make_user):
    elsewhere_id = fixtures.restaurant().id
    other_staff = make_user(Role.STAFF, restaurant_id=elsewhere_id)
    headers = bearer(other_staff)
    assert client.get(f"/api/restaurants/{place.id}/settings", headers=headers).status_code == 403


def test_new_slot_length_applies_to_the_next_availability_read(app, client, place, staff_headers):
    """No per-process copy: the calendar reads the 15-minute grid right after the PUT."""
    day = future_day(place, 5)
    document = _get(client, place, staff_headers)
    document["slotMinutes"] = 15
    assert client.put(f"/api/restaurants/{place.id}/settings", json=document, headers=staff_headers).status_code == 200
    calendar = client.get(
        f"/api/restaurants/{place.id}/calendar",
        query_string={"startDate": day.isoformat(), "endDate": day.isoformat(), "partySize": 2},
    )
    times = [slot["time"] for slot in calendar.json["days"][0]["slots"]]
    assert times[:3] == ["17:00", "17:15", "17:30"]
    assert timedelta(minutes=15) * (len(times) - 1) == timedelta(hours=5, minutes=45)
