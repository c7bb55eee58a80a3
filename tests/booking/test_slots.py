"""Pure slot arithmetic: rounding down on the local wall clock, local times, DST gaps and overlaps."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.booking import service, slots
from api.errors import ErrorCode, Unprocessable
from api.restaurants.models import Restaurant

NY = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: the slot grid is local, not UTC
SPRING_FORWARD = date(2026, 3, 8)  # 02:00-03:00 does not exist
FALL_BACK = date(2026, 11, 1)  # 01:00-02:00 happens twice


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def restaurant(tz: str = "America/New_York", slot_minutes: int = 30) -> Restaurant:
    return Restaurant(timezone=tz, slot_minutes=slot_minutes)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2026, 9, 10, 23, 12), utc(2026, 9, 10, 23, 0)),  # 19:12 EDT -> 19:00 (the seed's example)
        (utc(2026, 9, 10, 23, 0), utc(2026, 9, 10, 23, 0)),  # on the grid: unchanged
        (utc(2026, 9, 10, 23, 29, 59, 999999), utc(2026, 9, 10, 23, 0)),
        (utc(2026, 9, 10, 23, 30), utc(2026, 9, 10, 23, 30)),
        (utc(2026, 9, 10, 23, 59, 59), utc(2026, 9, 10, 23, 30)),
    ],
)
def test_rounding_goes_down_to_the_slot(instant, expected):
    assert slots.round_to_slot(instant, tz=NY, slot_minutes=30).starts_at == expected


def test_rounding_uses_the_local_grid_in_a_half_hour_offset_zone():
    # 19:12 in Kolkata is 13:42 UTC; the 60-minute slot is 19:00 local (13:30 UTC), not 13:00 UTC.
    slot = slots.round_to_slot(utc(2026, 9, 10, 13, 42), tz=KOLKATA, slot_minutes=60)
    assert slot.starts_at == utc(2026, 9, 10, 13, 30)
    assert slot.local_time == time(19, 0)


def test_slot_knows_its_local_service_day():
    # 00:30 UTC on the 11th is 20:30 on the 10th in New York.
    slot = slots.round_to_slot(utc(2026, 9, 11, 0, 40), tz=NY, slot_minutes=30)
    assert slot.service_date == date(2026, 9, 10)
    assert slot.local_time == time(20, 30)


def test_naive_times_are_read_on_the_restaurants_wall_clock():
    slot = service.slot_for(restaurant(), datetime(2026, 9, 10, 19, 12))
    assert slot.starts_at == utc(2026, 9, 10, 23, 0)
    winter = service.slot_for(restaurant(), datetime(2026, 12, 10, 19, 12))
    assert winter.starts_at == utc(2026, 12, 11, 0, 0)


def test_times_with_an_offset_are_instants_whatever_the_offset():
    paris = datetime(2026, 9, 11, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))  # = 19:12 in New York
    assert service.slot_for(restaurant(), paris).starts_at == utc(2026, 9, 10, 23, 0)


def test_a_naive_time_in_the_spring_forward_gap_is_bad_time():
    with pytest.raises(Unprocessable) as err:
        service.slot_for(restaurant(), datetime(2026, 3, 8, 2, 30))
    assert err.value.code == ErrorCode.BAD_TIME


def test_a_naive_time_in_the_fall_back_overlap_means_the_first_occurrence():
    slot = service.slot_for(restaurant(), datetime(2026, 11, 1, 1, 30))
    assert slot.starts_at == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST (06:30 UTC)


def test_instants_inside_the_repeated_hour_round_on_their_own_side():
    # 06:40 UTC is 01:40 EST (the second 01:40): its slot is the second 01:30, 06:30 UTC.
    slot = service.slot_for(restaurant(), utc(2026, 11, 1, 6, 40))
    assert slot.starts_at == utc(2026, 11, 1, 6, 30)
    assert slot.local_time == time(1, 30)
    first = service.slot_for(restaurant(), utc(2026, 11, 1, 5, 40))
    assert first.starts_at == utc(2026, 11, 1, 5, 30)
    assert first.local_time == time(1, 30)


def test_rounding_just_after_the_gap_lands_on_an_existing_time():
    slot = service.slot_for(restaurant(), utc(2026, 3, 8, 7, 10))  # 03:10 EDT
    assert slot.starts_at == utc(2026, 3, 8, 7, 0)
    assert slot.local_time == time(3, 0)


def test_out_of_range_years_are_bad_time_not_a_crash():
    with pytest.raises(Unprocessable) as err:
        service.slot_for(restaurant(), datetime(1, 1, 1, 0, 10, tzinfo=UTC))
    assert err.value.code == ErrorCode.BAD_TIME


def test_local_instant_is_none_in_the_gap_and_first_occurrence_in_the_overlap():
    assert slots.local_instant(SPRING_FORWARD, time(2, 0), NY) is None
    assert slots.local_instant(SPRING_FORWARD, time(2, 59), NY) is None
    assert slots.local_instant(SPRING_FORWARD, time(3, 0), NY).astimezone(UTC) == utc(2026, 3, 8, 7, 0)
    assert slots.local_instant(FALL_BACK, time(1, 0), NY).astimezone(UTC) == utc(2026, 11, 1, 5, 0)


def test_slot_from_local_refuses_off_grid_and_skipped_times():
    for wall in (time(19, 12), time(2, 30)):
        day = SPRING_FORWARD if wall.hour == 2 else date(2026, 9, 10)
        with pytest.raises(Unprocessable) as err:
            slots.slot_from_local(day, wall, tz=NY, slot_minutes=30)
        assert err.value.code == ErrorCode.BAD_TIME


def night_periods() -> list[slots.Period]:
    return [slots.Period(time(0, 0), time(4, 0))]


def test_spring_forward_day_skips_the_missing_hour():
    day = slots.day_slots(restaurant(), SPRING_FORWARD, night_periods())
    assert [s.starts_at for s in day] == [
        utc(2026, 3, 8, 5, 0),  # 00:00 EST
        utc(2026, 3, 8, 5, 30),
        utc(2026, 3, 8, 6, 0),
        utc(2026, 3, 8, 6, 30),  # 01:30 EST
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT: 02:00 and 02:30 do not exist
        utc(2026, 3, 8, 7, 30),
    ]
    assert [s.local_time for s in day] == [time(0), time(0, 30), time(1), time(1, 30), time(3), time(3, 30)]


def test_fall_back_day_lists_the_repeated_hour_once():
    day = slots.day_slots(restaurant(), FALL_BACK, night_periods())
    assert [s.starts_at for s in day] == [
        utc(2026, 11, 1, 4, 0),  # 00:00 EDT
        utc(2026, 11, 1, 4, 30),
        utc(2026, 11, 1, 5, 0),  # 01:00 EDT (first occurrence)
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 7, 0),  # 02:00 EST
        utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 1, 8, 0),
        utc(2026, 11, 1, 8, 30),
    ]
    assert len({s.local_time for s in day}) == 8


def test_evening_slots_on_dst_days_are_the_usual_ones():
    evening = [slots.Period(time(17, 0), time(23, 0))]
    for day in (SPRING_FORWARD, FALL_BACK):
        listed = slots.day_slots(restaurant(), day, evening)
        assert len(listed) == 12
        assert listed[0].local_time == time(17, 0) and listed[-1].local_time == time(22, 30)
        assert all(b.starts_at - a.starts_at == timedelta(minutes=30) for a, b in itertools.pairwise(listed))
