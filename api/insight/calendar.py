"""The calendar: per local date, business hours, available slots for a party and the reservations
the caller may see (staff of the restaurant and admins: all; a guest: their own; anonymous: none).

One query per kind for the whole range (hours, tables, claims, reservations), not per day; the
availability itself is `api.booking.availability.for_days`, the same rule the booking flow uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.accounts.models import Role, User
from api.booking import availability, slots
from api.booking.models import Customer, Reservation
from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.restaurants import service as restaurants_service
from api.restaurants.models import DiningTable, Restaurant

MAX_CALENDAR_DAYS = 62


@dataclass(frozen=True)
class CalendarDay:
    date: date
    hours: list[slots.Period]
    slots: list[availability.SlotAvailability]
    reservations: list[dict[str, Any]] = field(default_factory=list)
    primetime: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return not self.hours


@dataclass(frozen=True)
class Calendar:
    restaurant: Restaurant
    start_date: date
    end_date: date
    party_size: int
    reservations_scope: str  # "all" | "own" | "none"
    days: list[CalendarDay]


def check_range(start_date: date, end_date: date, *, max_days: int) -> None:
    """:raise 422: BAD_DATE when the range is inverted or longer than `max_days`."""
    if end_date < start_date:
        raise Unprocessable(
            ErrorCode.BAD_DATE, "endDate is before startDate.", details={"fields": {"endDate": ["Before startDate."]}}
        )
    if (end_date - start_date).days + 1 > max_days:
        raise Unprocessable(
            ErrorCode.BAD_DATE,
            f"At most {max_days} days at a time.",
            details={"maxDays": max_days, "fields": {"endDate": [f"At most {max_days} days after startDate."]}},
        )


def _scope(actor: User | None, restaurant: Restaurant) -> str:
    if actor is None:
        return "none"
    if actor.role == Role.ADMIN or (actor.role == Role.STAFF and actor.restaurant_id == restaurant.id):
        return "all"
    return "own"


def _reservations(restaurant: Restaurant, start: date, end: date, scope: str, actor: User | None) -> list[Any]:
    if scope == "none":
        return []
    stmt = (
        select(
            Reservation.id,
            Reservation.service_date,
            Reservation.confirmation_code,
            Reservation.status,
            Reservation.party_size,
            Reservation.starts_at,
            Reservation.ends_at,
            DiningTable.number.label("table_number"),
            func.coalesce(Customer.name, User.name, "").label("name"),
        )
        .join(DiningTable, DiningTable.id == Reservation.table_id)
        .outerjoin(Customer, Customer.id == Reservation.customer_id)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(
            Reservation.restaurant_id == restaurant.id,
            Reservation.service_date >= start,
            Reservation.service_date <= end,
        )
        .order_by(Reservation.starts_at, DiningTable.number)
    )
    if scope == "own":
        assert actor is not None
        stmt = stmt.where(Reservation.user_id == actor.id)
    return list(db.session.execute(stmt))


def restaurant_calendar(
    *,
    actor: User | None,
    restaurant_id: uuid.UUID | str,
    start_date: date,
    end_date: date,
    party_size: int | None,
    now: datetime,
) -> Calendar:
    """Hours, available slots and visible reservations per local day of the range.

    :raise 404: RESTAURANT_NOT_FOUND. :raise 422: BAD_DATE (inverted, or more than 62 days),
        BAD_GUESTS (a party size outside the restaurant's limits).
    """
    check_range(start_date, end_date, max_days=MAX_CALENDAR_DAYS)
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    party = party_size if party_size is not None else max(restaurant.min_party_size, min(2, restaurant.max_party_size))
    if not restaurant.min_party_size <= party <= restaurant.max_party_size:
        raise Unprocessable(
            ErrorCode.BAD_GUESTS,
            f"We seat parties of {restaurant.min_party_size} to {restaurant.max_party_size} online.",
            details={"min": restaurant.min_party_size, "max": restaurant.max_party_size, "guests": party},
        )
    periods = slots.read_periods_between(restaurant.id, start_date, end_date)
    dates = sorted(periods)
    horizon = now.astimezone(slots.zone_of(restaurant)).date() + timedelta(days=restaurant.booking_horizon_days)
    bookable_dates = [d for d in dates if d <= horizon] if restaurant.accepts_reservations else []
    free = availability.for_days(
        restaurant=restaurant, service_dates=bookable_dates, party_size=party, now=now, periods=periods
    )
    scope = _scope(actor, restaurant)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for row in _reservations(restaurant, start_date, end_date, scope, actor):
        by_day.setdefault(row.service_date, []).append(
            {
                "reservation_id": row.id,
                "confirmation_code": row.confirmation_code,
                "status": row.status,
                "party_size": row.party_size,
                "starts_at": row.starts_at,
                "ends_at": row.ends_at,
                "table_number": row.table_number,
                "name": row.name,
            }
        )
    primetime = primetime_windows(restaurant, start_date, end_date)
    days = [
        CalendarDay(
            date=day,
            hours=list(periods[day]),
            slots=free.get(day, []),
            reservations=by_day.get(day, []),
            primetime=primetime.get(day, []),
        )
        for day in dates
    ]
    return Calendar(
        restaurant=restaurant,
        start_date=start_date,
        end_date=end_date,
        party_size=party,
        reservations_scope=scope,
        days=days,
    )


def primetime_windows(restaurant: Restaurant, start_date: date, end_date: date) -> dict[date, list[dict[str, Any]]]:
    """Primetime windows per day (bookings in them await approval). None are stored yet: the
    primetime lane adds its table, and this reads it once that lands."""
    return {}
