"""A New York restaurant open 00:00-04:00 on the DST days: right slots, availability and bookings, no crash."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from api.booking import availability, service, slots
from api.errors import AppError, ErrorCode
from tests.booking.helpers import booking, build_restaurant

pytestmark = pytest.mark.usefixtures("app")

SPRING_FORWARD = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
FALL_BACK = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def night_owl():
    return build_restaurant(tables=[(1, 4)], opens_at=time(0, 0), closes_at=time(4, 0), horizon_days=365)


def book(restaurant, when, now):
    return service.create_reservation(restaurant=restaurant, booking=booking(when), now=now)


def test_spring_forward_day_has_six_seatings_at_the_right_instants(night_owl):
    listed = slots.day_slots(night_owl, SPRING_FORWARD)
    assert [s.starts_at for s in listed] == [
        utc(2026, 3, 8, 5, 0),
        utc(2026, 3, 8, 5, 30),
        utc(2026, 3, 8, 6, 0),
        utc(2026, 3, 8, 6, 30),
        utc(2026, 3, 8, 7, 0),
        utc(2026, 3, 8, 7, 30),
    ]


def test_fall_back_day_has_eight_seatings_listed_once(night_owl):
    listed = slots.day_slots(night_owl, FALL_BACK)
    assert len(listed) == 8
    assert listed[2].starts_at == utc(2026, 11, 1, 5, 0)  # 01:00 EDT
    assert listed[4].starts_at == utc(2026, 11, 1, 7, 0)  # 02:00 EST


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_day_availability_on_dst_days(night_owl, now, day):
    result = availability.for_day(restaurant=night_owl, service_date=day, party_size=2, now=now)
    assert [r.slot for r in result] == slots.day_slots(night_owl, day)
    assert all(r.available_tables == 1 and r.total_tables == 1 for r in result)


def test_booking_on_the_spring_forward_day(night_owl, now):
    with pytest.raises(AppError) as err:
        book(night_owl, datetime(2026, 3, 8, 2, 30), now)  # the wall clock skips it
    assert err.value.code == ErrorCode.BAD_TIME

    after_gap = book(night_owl, datetime(2026, 3, 8, 3, 10), now)  # 03:10 EDT -> 03:00
    assert after_gap.starts_at == utc(2026, 3, 8, 7, 0)
    assert after_gap.service_date == SPRING_FORWARD

    # 01:30 EST + 90 minutes ends at 04:00 EDT: its stay runs into the 03:00 booking's, so no table is free.
    with pytest.raises(AppError) as err:
        book(night_owl, datetime(2026, 3, 8, 1, 30), now)
    assert err.value.code == ErrorCode.FULLY_BOOKED
    early = book(night_owl, datetime(2026, 3, 8, 0, 0), now)  # 05:00-06:30 UTC, clear of 07:00
    assert early.ends_at == utc(2026, 3, 8, 6, 30)

    at_three = service.availability_at(restaurant=night_owl, time=utc(2026, 3, 8, 7, 12), now=now)
    assert (at_three.slot.starts_at, at_three.booked, at_three.available) == (utc(2026, 3, 8, 7, 0), 1, 0)


def test_booking_on_the_fall_back_day_counts_real_time(night_owl, now):
    first = book(night_owl, datetime(2026, 11, 1, 1, 30), now)  # first 01:30 (EDT)
    assert (first.starts_at, first.ends_at) == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 0))
    # The second 01:40 (EST) rounds to the second 01:30, an hour later in real time, still inside the stay.
    with pytest.raises(AppError) as err:
        book(night_owl, utc(2026, 11, 1, 6, 40), now)
    assert err.value.code == ErrorCode.FULLY_BOOKED
    after = book(night_owl, datetime(2026, 11, 1, 2, 0), now)  # 02:00 EST = 07:00 UTC: free again
    assert after.starts_at == utc(2026, 11, 1, 7, 0)
    assert after.table_id == first.table_id
