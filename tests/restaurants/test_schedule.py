"""The public schedule: the hours, time zone and closures a guest's booking page shows (no token)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.extensions import db
from api.restaurants.models import SpecialHours
from tests.restaurants.helpers import make_restaurant

TOKYO_HOURS = [(0, time(17, 30), time(22, 0)), (0, time(11, 30), time(14, 0)), (5, time(12, 0), time(23, 0))]


def test_the_schedule_shows_the_zone_the_local_clock_and_each_service_period(client):
    restaurant = make_restaurant(timezone="Asia/Tokyo", hours=TOKYO_HOURS, booking_horizon_days=30)

    response = client.get(f"/api/restaurants/{restaurant.id}/schedule")

    assert response.status_code == 200
    body = response.get_json()
    assert body["restaurantId"] == str(restaurant.id) and body["timeZone"] == "Asia/Tokyo"
    local_now = datetime.fromisoformat(body["localNow"])
    assert local_now.utcoffset() == timedelta(hours=9)  # Tokyo's clock, not the server's
    assert abs(local_now - datetime.now(UTC)) < timedelta(minutes=1)
    tokyo_today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert body["today"] == tokyo_today.isoformat()
    assert body["lastBookableDate"] == (tokyo_today + timedelta(days=30)).isoformat()
    assert body["periods"] == [
        {"day": "monday", "openTime": "11:30", "closeTime": "14:00"},
        {"day": "monday", "openTime": "17:30", "closeTime": "22:00"},
        {"day": "saturday", "openTime": "12:00", "closeTime": "23:00"},
    ]
    assert body["hours"]["sunday"] == {"isOpen": False, "openTime": None, "closeTime": None}
    assert (body["minimumPartySize"], body["maximumPartySize"], body["slotMinutes"]) == (1, 12, 30)


def test_closures_within_the_horizon_are_listed_without_their_private_reason(client):
    restaurant = make_restaurant(hours=TOKYO_HOURS, booking_horizon_days=20)
    today = datetime.now(ZoneInfo(restaurant.timezone)).date()
    for offset, opens, closes in [(-1, None, None), (3, None, None), (5, time(18, 0), time(21, 0)), (40, None, None)]:
        db.session.add(
            SpecialHours(
                restaurant_id=restaurant.id,
                service_date=today + timedelta(days=offset),
                opens_at=opens,
                closes_at=closes,
                reason="Owner's divorce hearing",
            )
        )
    db.session.commit()

    body = client.get(f"/api/restaurants/{restaurant.id}/schedule").get_json()

    assert body["closures"] == [
        {"date": (today + timedelta(days=3)).isoformat(), "closed": True, "openTime": None, "closeTime": None},
        {"date": (today + timedelta(days=5)).isoformat(), "closed": False, "openTime": "18:00", "closeTime": "21:00"},
    ]


def test_an_unknown_restaurant_has_no_schedule(client):
    response = client.get("/api/restaurants/00000000-0000-0000-0000-000000000000/schedule")

    assert response.status_code == 404 and response.get_json()["code"] == "RESTAURANT_NOT_FOUND"


def test_the_schedule_is_in_the_openapi_spec_with_its_404(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/api/restaurants/{restaurant_id}/schedule"]["get"]

    assert {"200", "404"} <= set(operation["responses"])
    assert "security" not in operation or operation["security"] == []
