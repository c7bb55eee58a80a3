"""Statistics against a hand-computed fixture (tests/insight/fixtures.py).

Two days, 2026-01-05 and 2026-01-06, at a UTC restaurant with two tables open 17:00-23:00
(90-minute stays). Seven reservations in the range, one the day before (outside it):

| # | table | day | start | party | status    | source | notes                       |
|---|-------|-----|-------|-------|-----------|--------|-----------------------------|
| 1 | 1     | D1  | 18:00 | 2     | completed | web    | deposit 20.00 captured      |
| 2 | 2     | D1  | 19:00 | 4     | no_show   | app    | claim freed                 |
| 3 | 1     | D1  | 20:00 | 3     | seated    | staff  |                             |
| 4 | 2     | D2  | 18:30 | 2     | cancelled | web    | 1 h before the start        |
| 5 | 1     | D2  | 19:00 | 5     | cancelled | app    | 30 h before; 50.00 refunded |
| 6 | 2     | D2  | 21:00 | 2     | confirmed | web    |                             |
| 7 | 1     | D2  | 17:00 | 6     | rejected  | staff  |                             |

Covers (not cancelled, rejected or no-show): D1 2+3 = 5, D2 2 = 7 in all. No-show rate 1/(1+1+1).
Occupied table-minutes (claims of 1, 3, 6): 18h 60, 19h 30, 20h 60, 21h 30+60 = 90, 22h 30.
Open table-minutes per hour: 17:00 to 23:00 + 90 min, x 2 tables x 2 days: 240 for 17h-23h, 120 for 0h.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from api.accounts.models import Role
from api.insight import statistics
from tests.conftest import bearer
from tests.insight import fixtures

D0, D1, D2 = date(2026, 1, 4), date(2026, 1, 5), date(2026, 1, 6)


@pytest.fixture
def place(app):
    restaurant = fixtures.restaurant()
    r = fixtures.reservation
    r(restaurant, table=1, day=D0, start=time(18), status="completed")  # the day before: not counted
    r(restaurant, table=1, day=D1, start=time(18), party=2, status="completed", deposit=(2000, 0, "captured"))
    r(restaurant, table=2, day=D1, start=time(19), party=4, status="no_show", source="app")
    r(restaurant, table=1, day=D1, start=time(20), party=3, status="seated", source="staff")
    r(restaurant, table=2, day=D2, start=time(18, 30), status="cancelled", cancelled_before=timedelta(hours=1))
    r(
        restaurant,
        table=1,
        day=D2,
        start=time(19),
        party=5,
        status="cancelled",
        source="app",
        cancelled_before=timedelta(hours=30),
        deposit=(5000, 5000, "refunded"),
    )
    r(restaurant, table=2, day=D2, start=time(21), party=2, status="confirmed")
    r(restaurant, table=1, day=D2, start=time(17), party=6, status="rejected", source="staff")
    yield restaurant


def _figures(place):
    return statistics.compute_statistics(restaurants=[place], start_date=D1, end_date=D2, single=True)


def test_bookings_by_status_and_source_count_only_the_range(app, place):
    figures = _figures(place)
    assert figures.bookings == 7
    assert figures.by_status == {
        "pending": 0,
        "confirmed": 1,
        "seated": 1,
        "completed": 1,
        "rejected": 1,
        "cancelled": 2,
        "no_show": 1,
    }
    assert figures.by_source == {"web": 3, "app": 2, "staff": 2}


def test_covers_per_day_leave_out_cancelled_rejected_and_no_shows(app, place):
    figures = _figures(place)
    assert figures.covers_per_day == [{"date": D1, "covers": 5}, {"date": D2, "covers": 2}]
    assert figures.covers == 7


def test_no_show_rate_is_no_shows_over_the_parties_that_were_due(app, place):
    figures = _figures(place)
    assert figures.no_shows == 1
    assert figures.no_show_rate == pytest.approx(1 / 3, abs=1e-4)


def test_cancellations_fall_in_their_notice_bucket(app, place):
    figures = _figures(place)
    assert [(b["bucket"], b["count"]) for b in figures.cancellations_by_notice] == [
        ("0-2h", 1),
        ("2-24h", 0),
        ("24-72h", 1),
        ("72h+", 0),
    ]


def test_occupancy_per_hour_is_occupied_over_open_table_minutes(app, place):
    figures = _figures(place)
    by_hour = {row["hour"]: row for row in figures.occupancy_by_hour}
    assert sorted(by_hour) == [0, 17, 18, 19, 20, 21, 22, 23]
    occupied = {hour: row["occupied_table_minutes"] for hour, row in by_hour.items()}
    assert occupied == {0: 0, 17: 0, 18: 60, 19: 30, 20: 60, 21: 90, 22: 30, 23: 0}
    assert {hour: row["open_table_minutes"] for hour, row in by_hour.items()} == {
        0: 120,
        **{hour: 240 for hour in range(17, 24)},
    }
    assert by_hour[21]["occupancy"] == pytest.approx(90 / 240)
    assert by_hour[19]["occupancy"] == pytest.approx(30 / 240)


def test_occupancy_hours_are_local_hours(app):
    """A New York restaurant: a 19:00-20:30 local stay counts in hours 19 and 20, not 0 and 1 UTC."""
    restaurant = fixtures.restaurant(timezone="America/New_York", tables=1)
    fixtures.reservation(restaurant, table=1, day=D1, start=time(19), status="completed")
    figures = statistics.compute_statistics(restaurants=[restaurant], start_date=D1, end_date=D1, single=True)
    occupied = {row["hour"]: row["occupied_table_minutes"] for row in figures.occupancy_by_hour}
    assert occupied[19] == 60 and occupied[20] == 30
    assert occupied.get(0, 0) == 0 and occupied.get(1, 0) == 0


def test_deposits_taken_and_refunded_come_from_the_payments(app, place):
    figures = _figures(place)
    assert figures.deposits_taken_cents == 7000
    assert figures.deposits_refunded_cents == 5000


def test_statistics_route_answers_the_same_figures_in_camel_case(app, client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    headers = bearer(staff)
    response = client.get(
        f"/api/restaurants/{place.id}/statistics",
        query_string={"startDate": D1.isoformat(), "endDate": D2.isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["covers"] == 7 and body["noShowRate"] == pytest.approx(0.3333)
    assert body["coversPerDay"][0] == {"date": "2026-01-05", "covers": 5}
    assert body["depositsTakenCents"] == 7000
    assert {row["hour"]: row["occupiedTableMinutes"] for row in body["occupancyByHour"]}[21] == 90


def test_statistics_of_more_than_a_year_are_refused(app, client, place, make_user):
    staff = make_user(Role.STAFF, restaurant_id=place.id)
    headers = bearer(staff)
    response = client.get(
        f"/api/restaurants/{place.id}/statistics",
        query_string={"startDate": "2025-01-01", "endDate": "2026-01-02"},
        headers=headers,
    )
    assert response.status_code == 422 and response.json["code"] == "BAD_DATE"


def test_admin_statistics_add_every_restaurant(app, client, place, make_user):
    admin = make_user(Role.ADMIN)
    other = fixtures.restaurant()
    fixtures.reservation(other, table=1, day=D1, start=time(18), party=4, status="completed")
    headers = bearer(admin)
    response = client.get(
        "/api/statistics", query_string={"startDate": "2026-01-05", "endDate": "2026-01-06"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["restaurantId"] is None
    # This database may hold other tests' restaurants' bookings; these two add at least these.
    assert response.json["covers"] >= 11
