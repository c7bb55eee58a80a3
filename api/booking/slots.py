"""Slot arithmetic in the restaurant's own time zone.

Instants are stored in UTC; what a guest means by "19:00 on 15 November" is a wall-clock
time in the restaurant's IANA zone. Rules:

- Rounding goes *down* to the slot boundary of local wall time (19:12 -> 19:00), by
  subtracting the elapsed minutes, so it never lands on a wall time that does not exist.
- A local date and time that falls in a spring-forward gap does not exist: BAD_TIME.
- A local time that occurs twice (fall back) means its first occurrence (fold=0).
- A day's seatings run from each period's `opens_at` every slot up to, but not including,
  `closes_at`; nonexistent wall times are skipped and repeated ones listed once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, literal, select, union_all

from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.restaurants.models import OpeningHours, Restaurant, SpecialHours


@dataclass(frozen=True)
class Slot:
    """A seating start: the UTC instant, its local wall time and the local service day."""

    starts_at: datetime
    local_start: datetime

    @property
    def service_date(self) -> date:
        return self.local_start.date()

    @property
    def local_time(self) -> time:
        return self.local_start.time().replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    opens_at: time
    closes_at: time

    def contains(self, wall_time: time) -> bool:
        return self.opens_at <= wall_time < self.closes_at


def zone_of(restaurant: Restaurant) -> ZoneInfo:
    return ZoneInfo(restaurant.timezone)


def slot_at(instant: datetime, tz: ZoneInfo) -> Slot:
    utc = instant.astimezone(UTC)
    return Slot(starts_at=utc, local_start=utc.astimezone(tz))


def round_to_slot(instant: datetime, *, tz: ZoneInfo, slot_minutes: int) -> Slot:
    """The slot that contains `instant`, rounding down on the local wall clock."""
    if instant.tzinfo is None:
        raise ValueError("round_to_slot needs an aware datetime")
    local = instant.astimezone(tz)
    elapsed = timedelta(
        minutes=(local.hour * 60 + local.minute) % slot_minutes,
        seconds=local.second,
        microseconds=local.microsecond,
    )
    return slot_at(instant - elapsed, tz)


def local_instant(service_date: date, wall_time: time, tz: ZoneInfo) -> datetime | None:
    """The instant of a local date and time, or None when the wall time does not exist (DST gap)."""
    candidate = datetime.combine(service_date, wall_time.replace(tzinfo=None), tzinfo=tz).replace(fold=0)
    round_trip = candidate.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return candidate


def slot_from_local(service_date: date, wall_time: time, *, tz: ZoneInfo, slot_minutes: int) -> Slot:
    """The slot a guest means by a local date and time. Raises BAD_TIME for off-grid or nonexistent times."""
    if (wall_time.hour * 60 + wall_time.minute) % slot_minutes or wall_time.second or wall_time.microsecond:
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            f"Times are booked on a {slot_minutes}-minute grid.",
            details={"time": wall_time.isoformat(timespec="minutes"), "slotMinutes": slot_minutes},
        )
    instant = local_instant(service_date, wall_time, tz)
    if instant is None:
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "This local time does not exist on that day (the clocks skip it).",
            details={"date": service_date.isoformat(), "time": wall_time.isoformat(timespec="minutes")},
        )
    return slot_at(instant, tz)


def _build_periods_query():  # type: ignore[no-untyped-def]
    # The day's exception (kind 0) and weekly periods (kind 1) in one query: the exception, if
    # any, sorts first. Built once, run with parameters (every booking asks; docs/benchmarks.md).
    restaurant_id = bindparam("restaurant_id")
    special = select(literal(0).label("kind"), SpecialHours.opens_at, SpecialHours.closes_at).where(
        SpecialHours.restaurant_id == restaurant_id, SpecialHours.service_date == bindparam("service_date")
    )
    weekly = select(literal(1).label("kind"), OpeningHours.opens_at, OpeningHours.closes_at).where(
        OpeningHours.restaurant_id == restaurant_id, OpeningHours.weekday == bindparam("weekday")
    )
    return union_all(special, weekly).order_by("kind", "opens_at")


_PERIODS = _build_periods_query()


def read_periods(restaurant_id: uuid.UUID, service_date: date) -> tuple[Period, ...]:
    """Opening periods on a local day, read now: a dated exception wins over the weekly hours."""
    params = {"restaurant_id": restaurant_id, "service_date": service_date, "weekday": service_date.weekday()}
    rows = db.session.execute(_PERIODS, params).all()
    if rows and rows[0].kind == 0:
        exception = rows[0]
        if exception.opens_at is None or exception.closes_at is None:
            return ()
        return (Period(exception.opens_at, exception.closes_at),)
    return tuple(Period(opens_at, closes_at) for _, opens_at, closes_at in rows)


def read_periods_between(restaurant_id: uuid.UUID, first: date, last: date) -> dict[date, tuple[Period, ...]]:
    """`read_periods` for every day from `first` to `last`, in two queries (the week, the exceptions)."""
    weekly: dict[int, list[Period]] = {}
    for weekday, opens_at, closes_at in db.session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at)
        .where(OpeningHours.restaurant_id == restaurant_id)
        .order_by(OpeningHours.weekday, OpeningHours.opens_at)
    ):
        weekly.setdefault(weekday, []).append(Period(opens_at, closes_at))
    special = {
        row.service_date: row
        for row in db.session.execute(
            select(SpecialHours.service_date, SpecialHours.opens_at, SpecialHours.closes_at).where(
                SpecialHours.restaurant_id == restaurant_id,
                SpecialHours.service_date >= first,
                SpecialHours.service_date <= last,
            )
        )
    }
    days: dict[date, tuple[Period, ...]] = {}
    day = first
    while day <= last:
        exception = special.get(day)
        if exception is None:
            days[day] = tuple(weekly.get(day.weekday(), ()))
        elif exception.opens_at is None or exception.closes_at is None:
            days[day] = ()
        else:
            days[day] = (Period(exception.opens_at, exception.closes_at),)
        day += timedelta(days=1)
    return days


def periods_for(restaurant: Restaurant, service_date: date) -> list[Period]:
    """`read_periods`, read on every call: no process keeps a copy, so a change of hours committed by
    one worker is what every worker's next request sees (docs/insight.md, settings)."""
    return list(read_periods(restaurant.id, service_date))


def day_slots(restaurant: Restaurant, service_date: date, periods: list[Period] | None = None) -> list[Slot]:
    """Every seating start on a local day, in order."""
    tz = zone_of(restaurant)
    step = timedelta(minutes=restaurant.slot_minutes)
    seen: set[time] = set()
    slots: list[Slot] = []
    for period in periods if periods is not None else periods_for(restaurant, service_date):
        wall = datetime.combine(service_date, period.opens_at)
        end = datetime.combine(service_date, period.closes_at)
        while wall < end:
            instant = local_instant(service_date, wall.time(), tz)
            if instant is not None and wall.time() not in seen:
                seen.add(wall.time())
                slots.append(slot_at(instant, tz))
            wall += step
    return sorted(slots, key=lambda s: s.starts_at)


def is_open_at(restaurant: Restaurant, slot: Slot) -> bool:
    """Whether a seating may start at this slot under the day's opening periods."""
    return any(period.contains(slot.local_time) for period in periods_for(restaurant, slot.service_date))


def check_bookable(restaurant: Restaurant, slot: Slot, *, now: datetime) -> None:
    """Refuse past slots, slots inside the lead time or beyond the horizon, and closed hours (BAD_TIME)."""
    if slot.starts_at < now + timedelta(minutes=restaurant.min_lead_minutes):
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "This time is in the past or too soon to book.",
            details={"slot": slot.starts_at.isoformat()},
        )
    horizon = now.astimezone(zone_of(restaurant)).date() + timedelta(days=restaurant.booking_horizon_days)
    if slot.service_date > horizon:
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "This date is beyond the booking horizon.",
            details={"lastBookableDate": horizon.isoformat()},
        )
    if not is_open_at(restaurant, slot):
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "The restaurant takes no seatings at this time.",
            details={"slot": slot.starts_at.isoformat()},
        )
