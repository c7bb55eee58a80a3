"""The floor plan: saved per restaurant, and each table's live state at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.accounts.models import Role
from tests.booking.app_flow import future_day
from tests.conftest import bearer
from tests.insight import fixtures


@pytest.fixture
def place(app):
    return fixtures.restaurant(timezone="America/New_York", tables=4)


def _plan(place):
    tables = sorted(place.tables, key=lambda t: t.number)
    return {
        "areas": [
            {"name": "Dining room", "kind": "room", "x": 0, "y": 0, "width": 30, "height": 20},
            {"name": "Terrace", "kind": "terrace", "x": 30, "y": 0, "width": 15, "height": 20},
        ],
        "tables": [
            {"tableId": str(tables[0].id), "area": "Dining room", "x": 2, "y": 2, "width": 3, "height": 3},
            {"tableId": str(tables[1].id), "area": "Dining room", "x": 8, "y": 2, "width": 3, "height": 3,
             "shape": "round", "rotation": 45},
            {"tableId": str(tables[2].id), "area": "Terrace", "x": 32, "y": 4, "width": 4, "height": 2},
            {"tableId": str(tables[3].id), "area": "Terrace", "x": 32, "y": 10, "width": 4, "height": 2},
        ],
    }  # fmt: skip


def test_staff_save_the_plan_and_anyone_reads_it(client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    saved = client.put(f"/api/restaurants/{place.id}/floor-plan", json=_plan(place), headers=bearer(staff))
    assert saved.status_code == 200, saved.json
    shown = client.get(f"/api/restaurants/{place.id}/floor-plan").json
    assert [a["name"] for a in shown["areas"]] == ["Dining room", "Terrace"]
    second = shown["tables"][1]
    assert second == {
        **second,
        "number": 2,
        "area": "Dining room",
        "placed": True,
        "shape": "round",
        "rotation": 45.0,
        "x": 8.0,
        "state": None,
    }
    tables = client.get(f"/api/restaurants/{place.id}/tables", headers=bearer(staff)).json
    assert [t["area"] for t in tables] == ["Dining room", "Dining room", "Terrace", "Terrace"]


def test_a_plan_naming_an_unknown_area_or_table_is_refused_whole(client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    plan = _plan(place)
    plan["tables"][0]["area"] = "Cellar"
    plan["tables"][1]["tableId"] = "00000000-0000-0000-0000-000000000001"
    plan["areas"].append({"name": "Terrace", "width": 1, "height": 1})
    response = client.put(f"/api/restaurants/{place.id}/floor-plan", json=plan, headers=bearer(staff))
    assert response.status_code == 422 and response.json["code"] == "VALIDATION_ERROR"
    fields = response.json["details"]["fields"]
    assert set(fields["tables"]) == {"0", "1"} and set(fields["areas"]) == {"2"}
    assert client.get(f"/api/restaurants/{place.id}/floor-plan").json["areas"] == []


def test_live_state_shows_booked_seated_and_free_and_staff_see_who(client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    client.put(f"/api/restaurants/{place.id}/floor-plan", json=_plan(place), headers=bearer(staff))
    day = future_day(place, 4)
    fixtures.reservation(place, table=1, day=day, start=time(19), party=3, status="seated", name="Ada Lovelace")
    booked = fixtures.reservation(place, table=2, day=day, start=time(18, 30), status="confirmed")
    fixtures.reservation(place, table=3, day=day, start=time(19), status="cancelled")  # its claim is gone
    at = datetime.combine(day, time(19, 15), tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)

    as_staff = client.get(
        f"/api/restaurants/{place.id}/floor-plan", query_string={"at": at.isoformat()}, headers=bearer(staff)
    ).json
    states = {t["number"]: t["state"] for t in as_staff["tables"]}
    assert states == {1: "seated", 2: "booked", 3: "free", 4: "free"}
    occupant = as_staff["tables"][0]["occupant"]
    assert occupant["name"] == "Ada Lovelace" and occupant["partySize"] == 3
    assert as_staff["tables"][1]["occupant"]["confirmationCode"] == booked.confirmation_code

    anonymous = client.get(f"/api/restaurants/{place.id}/floor-plan", query_string={"at": at.isoformat()}).json
    assert {t["number"]: t["state"] for t in anonymous["tables"]} == states
    assert all(t["occupant"] is None for t in anonymous["tables"])

    later = client.get(
        f"/api/restaurants/{place.id}/floor-plan",
        query_string={"at": (at + timedelta(hours=3)).isoformat()},
        headers=bearer(staff),
    ).json
    assert {t["state"] for t in later["tables"]} == {"free"}


def test_a_wall_time_without_offset_means_the_restaurants_clock(client, place, make_user):
    day = future_day(place, 4)
    fixtures.reservation(place, table=1, day=day, start=time(19), status="confirmed")
    local = f"{day.isoformat()}T19:30:00"
    tables = client.get(f"/api/restaurants/{place.id}/floor-plan", query_string={"at": local}).json["tables"]
    assert tables[0]["state"] == "booked"
