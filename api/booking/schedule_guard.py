"""Which future bookings a change of a restaurant's hours, closures or time zone would strand.

Registered with `api.restaurants.bookings_guard` at start-up; runs inside the change's
transaction, after the change is flushed. It first takes the restaurant's schedule lock
(exclusive; every allocation holds it shared while it decides), so a booking in flight has
committed before we look. A booking that read the hours before the change but takes its locks
after the change commits is not seen: that window is the time between its hours check and its
lock statement (docs/booking-flow.md); no process caches hours, so it is no wider than that.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from api.booking import allocation
from api.booking.models import ACTIVE_STATUSES, Reservation
from api.booking.slots import read_periods, slot_at, zone_of
from api.extensions import db
from api.restaurants import bookings_guard
from api.restaurants.models import Restaurant


def register() -> None:
    bookings_guard.register_finder(affected_bookings)


def affected_bookings(
    *, restaurant: Restaurant, now: datetime, dates: Collection[date] | None, every_future: bool
) -> list[dict[str, Any]]:
    """Future live bookings on `dates` (or any day) that the current hours no longer open, or all of them."""
    allocation.lock_schedule(restaurant)
    query = select(Reservation).where(
        Reservation.restaurant_id == restaurant.id,
        Reservation.status.in_(ACTIVE_STATUSES),
        Reservation.starts_at >= now,
    )
    if dates is not None:
        query = query.where(Reservation.service_date.in_(list(dates)))
    reservations = db.session.scalars(query.order_by(Reservation.starts_at)).all()
    if not every_future:
        tz = zone_of(restaurant)
        periods: dict[date, tuple] = {}
        stranded = []
        for reservation in reservations:
            day = reservation.service_date
            if day not in periods:
                periods[day] = read_periods(restaurant.id, day)
            local_time = slot_at(reservation.starts_at, tz).local_time
            if not any(period.contains(local_time) for period in periods[day]):
                stranded.append(reservation)
        reservations = stranded
    return [_describe(r) for r in reservations]


def _describe(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": str(reservation.id),
        "confirmationCode": reservation.confirmation_code,
        "startsAt": reservation.starts_at.isoformat(),
        "date": reservation.service_date.isoformat(),
        "partySize": reservation.party_size,
        "status": reservation.status,
    }
