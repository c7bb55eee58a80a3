"""Statistics of a date range (local service days), for one restaurant or, for admins, all of them.

- bookings by status and by source, covers per day: one grouped scan of `reservations`
  (the `(restaurant_id, service_date)` index with the counted columns included);
- covers count the guests of every reservation that was not cancelled, rejected or a no-show;
- no-show rate = no-shows / (no-shows + seated + completed): of the parties that were due and
  whose outcome is known, the share that never came;
- cancellations by notice: hours between `cancelled_at` and the booked start, in buckets
  [0, 2), [2, 24), [24, 72), [72, ∞) (a cancellation after the start counts in the first);
- table occupancy per local hour: occupied table-minutes (reservation claims in
  `table_occupancies`, which cancellations free and completions trim to the real stay) over
  open table-minutes (each day's service periods, extended by the default turn time because the
  last seating's stay runs past closing, times the active tables);
- deposits taken and refunded: captured payments of the range's reservations and what was given back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import Role, User
from api.booking import slots
from api.booking.models import ReservationSource, ReservationStatus
from api.errors import ErrorCode, Forbidden
from api.extensions import db
from api.insight.calendar import check_range
from api.payments.models import CAPTURED_STATUSES
from api.restaurants import service as restaurants_service
from api.restaurants.models import Restaurant

MAX_STATISTICS_DAYS = 366
NOTICE_BUCKETS = ((0, 2), (2, 24), (24, 72), (72, None))
# Covers are the guests who came or are still expected: not cancelled, rejected or no-shows.
NOT_COVERS = (ReservationStatus.CANCELLED, ReservationStatus.REJECTED, ReservationStatus.NO_SHOW)
DUE = (ReservationStatus.SEATED, ReservationStatus.COMPLETED)


@dataclass(frozen=True)
class Statistics:
    restaurant_id: uuid.UUID | None
    start_date: date
    end_date: date
    bookings: int
    by_status: dict[str, int]
    by_source: dict[str, int]
    covers_per_day: list[dict[str, Any]]
    covers: int
    no_shows: int
    no_show_rate: float | None
    cancellations_by_notice: list[dict[str, Any]]
    occupancy_by_hour: list[dict[str, Any]]
    deposits_taken_cents: int
    deposits_refunded_cents: int


# One pass over the range's reservations: every figure but occupancy and deposits comes from it.
_BOOKINGS_SQL = """
    SELECT service_date, status, source,
           CASE WHEN status = 'cancelled' AND cancelled_at IS NOT NULL
                THEN width_bucket(extract(epoch FROM starts_at - cancelled_at) / 3600, ARRAY[2, 24, 72]::float8[])
           END AS notice,
           count(*) AS n, sum(party_size) AS guests
    FROM reservations
    WHERE service_date BETWEEN :start AND :end {restaurant_filter}
    GROUP BY 1, 2, 3, 4
"""

# Occupied table-minutes: the claims grouped by exact start and length, which few distinct values
# cover (the seatings of each day); no per-row time zone conversion. Python turns each start into
# the restaurant's wall clock, keeps the range's local days and spreads the minutes over the hours.
_OCCUPIED_SQL = """
    SELECT o.restaurant_id, o.starts_at, extract(epoch FROM o.ends_at - o.starts_at)::int AS seconds, count(*) AS n
    FROM table_occupancies AS o
    WHERE o.reservation_id IS NOT NULL
      AND o.starts_at >= :from_instant AND o.starts_at < :to_instant {restaurant_filter}
    GROUP BY 1, 2, 3
"""

_DEPOSITS_SQL = """
    SELECT coalesce(sum(p.amount_cents), 0) AS taken, coalesce(sum(p.refunded_cents), 0) AS refunded
    FROM reservations AS r JOIN payments AS p ON p.subject_id = r.hold_id
    WHERE r.service_date BETWEEN :start AND :end AND r.hold_id IS NOT NULL
      AND p.status IN :captured {restaurant_filter}
"""


def restaurant_statistics(
    *, actor: User, restaurant_id: uuid.UUID | str, start_date: date, end_date: date
) -> Statistics:
    """Statistics of one restaurant (its staff, admins). :raise 404/403. :raise 422: BAD_DATE."""
    check_range(start_date, end_date, max_days=MAX_STATISTICS_DAYS)
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return compute_statistics(restaurants=[restaurant], start_date=start_date, end_date=end_date, single=True)


def all_statistics(*, actor: User, start_date: date, end_date: date) -> Statistics:
    """Statistics of every restaurant together (admins). :raise 403. :raise 422: BAD_DATE."""
    if actor.role != Role.ADMIN:
        raise Forbidden(ErrorCode.FORBIDDEN, "Only admins see every restaurant's statistics.")
    check_range(start_date, end_date, max_days=MAX_STATISTICS_DAYS)
    restaurants = list(db.session.scalars(select(Restaurant).order_by(Restaurant.name)))
    return compute_statistics(restaurants=restaurants, start_date=start_date, end_date=end_date, single=False)


def _notice_label(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    return f"{low}h+" if high is None else f"{low}-{high}h"


def compute_statistics(*, restaurants: list[Restaurant], start_date: date, end_date: date, single: bool) -> Statistics:
    """The figures over `restaurants` (one, or all with `single=False`: no restaurant filter)."""
    params: dict[str, Any] = {"start": start_date, "end": end_date}
    restaurant_filter = ""
    if single:
        params["restaurant_id"] = restaurants[0].id
        restaurant_filter = "AND restaurant_id = :restaurant_id"
    by_status: dict[str, int] = {status.value: 0 for status in ReservationStatus}
    by_source: dict[str, int] = {source.value: 0 for source in ReservationSource}
    covers_by_day: dict[date, int] = defaultdict(int)
    notice_counts = [0] * len(NOTICE_BUCKETS)
    total = 0
    for row in db.session.execute(text(_BOOKINGS_SQL.format(restaurant_filter=restaurant_filter)), params):
        total += row.n
        by_status[row.status] = by_status.get(row.status, 0) + row.n
        by_source[row.source] = by_source.get(row.source, 0) + row.n
        if row.status not in NOT_COVERS:
            covers_by_day[row.service_date] += int(row.guests)
        if row.notice is not None:
            notice_counts[row.notice] += row.n  # width_bucket: 0 below 2 h, then one per bound
    due = by_status[ReservationStatus.NO_SHOW] + sum(by_status[s] for s in DUE)
    days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days + 1)]
    occupancy = _occupancy(restaurants, start_date, end_date, single)
    deposits = db.session.execute(
        text(
            _DEPOSITS_SQL.format(restaurant_filter="AND r.restaurant_id = :restaurant_id" if single else "")
        ).bindparams(bindparam("captured", expanding=True)),
        {**params, "captured": [s.value for s in CAPTURED_STATUSES]},
    ).one()
    return Statistics(
        restaurant_id=restaurants[0].id if single else None,
        start_date=start_date,
        end_date=end_date,
        bookings=total,
        by_status=by_status,
        by_source=by_source,
        covers_per_day=[{"date": day, "covers": covers_by_day.get(day, 0)} for day in days],
        covers=sum(covers_by_day.values()),
        no_shows=by_status[ReservationStatus.NO_SHOW],
        no_show_rate=round(by_status[ReservationStatus.NO_SHOW] / due, 4) if due else None,
        cancellations_by_notice=[
            {"bucket": _notice_label(b), "min_hours": b[0], "max_hours": b[1], "count": notice_counts[i]}
            for i, b in enumerate(NOTICE_BUCKETS)
        ],
        occupancy_by_hour=occupancy,
        deposits_taken_cents=int(deposits.taken),
        deposits_refunded_cents=int(deposits.refunded),
    )


def _open_minutes_by_hour(restaurant: Restaurant, start_date: date, end_date: date) -> list[float]:
    """Open table-minutes per local hour over the range: each period, stretched by the default turn
    time, times the restaurant's active tables."""
    tables = db.session.scalar(
        text("SELECT count(*) FROM dining_tables WHERE restaurant_id = :rid AND is_active"), {"rid": restaurant.id}
    )
    minutes = [0.0] * 24
    if not tables:
        return minutes
    stretch = timedelta(minutes=restaurant.default_duration_minutes)
    for day, periods in slots.read_periods_between(restaurant.id, start_date, end_date).items():
        for period in periods:
            wall = datetime.combine(day, period.opens_at)
            end = datetime.combine(day, period.closes_at) + stretch
            while wall < end:
                next_hour = (wall + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
                piece = min(end, next_hour) - wall
                minutes[wall.hour] += piece.total_seconds() / 60 * tables
                wall = next_hour
    return minutes


def _occupancy(restaurants: list[Restaurant], start_date: date, end_date: date, single: bool) -> list[dict[str, Any]]:
    open_minutes = [0.0] * 24
    for restaurant in restaurants:
        for hour, value in enumerate(_open_minutes_by_hour(restaurant, start_date, end_date)):
            open_minutes[hour] += value
    # Claims that start on the range's local days: bounded by instants one day wider than any zone.
    params: dict[str, Any] = {
        "from_instant": datetime.combine(start_date - timedelta(days=1), time(), tzinfo=UTC),
        "to_instant": datetime.combine(end_date + timedelta(days=2), time(), tzinfo=UTC),
    }
    restaurant_filter = ""
    if single:
        params["restaurant_id"] = restaurants[0].id
        restaurant_filter = "AND o.restaurant_id = :restaurant_id"
    sql = _OCCUPIED_SQL.format(restaurant_filter=restaurant_filter)
    zones = {restaurant.id: slots.zone_of(restaurant) for restaurant in restaurants}
    occupied = [0.0] * 24
    for row in db.session.execute(text(sql), params):
        zone = zones.get(row.restaurant_id)
        if zone is None:
            continue
        local = row.starts_at.astimezone(zone)
        if not start_date <= local.date() <= end_date:
            continue
        # Each claim of the group, cut at the hour boundaries of the local wall clock (a stay past
        # midnight goes on in the first hours); across a DST change the wall hours are off by one.
        second, left = local.hour * 3600 + local.minute * 60 + local.second, row.seconds
        while left > 0:
            piece = min(left, 3600 - second % 3600)
            occupied[(second // 3600) % 24] += piece / 60 * row.n
            second, left = second + piece, left - piece
    return [
        {
            "hour": hour,
            "occupied_table_minutes": round(occupied[hour], 2),
            "open_table_minutes": round(open_minutes[hour], 2),
            "occupancy": round(occupied[hour] / open_minutes[hour], 4) if open_minutes[hour] else None,
        }
        for hour in range(24)
        if open_minutes[hour] or occupied[hour]
    ]
