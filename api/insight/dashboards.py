"""Dashboards: a guest's (upcoming reservations, recent activity) and a restaurant's for staff and
admins (pending approvals, today's reservations and covers, seated now, no-shows today, recent
activity). Every figure is one indexed query; recent activity comes from `reservation_events`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.booking import slots
from api.booking.models import (
    OCCUPYING_STATUSES,
    Customer,
    Reservation,
    ReservationEvent,
    ReservationStatus,
)
from api.extensions import db
from api.restaurants import service as restaurants_service
from api.restaurants.models import DiningTable, Restaurant

UPCOMING_LIMIT = 20
ACTIVITY_LIMIT = 20
PENDING_LIMIT = 20
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class GuestDashboard:
    upcoming: list[dict[str, Any]]
    recent_activity: list[dict[str, Any]]


@dataclass(frozen=True)
class RestaurantDashboard:
    restaurant: Restaurant
    date: date
    pending_count: int
    pending_approvals: list[dict[str, Any]]
    today_reservations: int
    today_covers: int
    seated_now: int
    seated_covers: int
    no_shows_today: int
    recent_activity: list[dict[str, Any]]


def _activity(stmt: Any) -> list[dict[str, Any]]:
    rows = db.session.execute(
        stmt.order_by(ReservationEvent.at.desc(), ReservationEvent.id.desc()).limit(ACTIVITY_LIMIT)
    )
    return [
        {
            "at": row.at,
            "action": row.action,
            "actor_role": row.actor_role,
            "from_status": row.from_status,
            "to_status": row.to_status,
            "reservation_id": row.reservation_id,
            "confirmation_code": row.confirmation_code,
            "restaurant_id": row.restaurant_id,
            "reason": row.reason,
        }
        for row in rows
    ]


def _activity_select() -> Any:
    return select(
        ReservationEvent.at,
        ReservationEvent.id,
        ReservationEvent.action,
        ReservationEvent.actor_role,
        ReservationEvent.from_status,
        ReservationEvent.to_status,
        ReservationEvent.reason,
        ReservationEvent.reservation_id,
        Reservation.confirmation_code,
        Reservation.restaurant_id,
    ).join(Reservation, Reservation.id == ReservationEvent.reservation_id)


def guest_dashboard(*, actor: User, now: datetime) -> GuestDashboard:
    """The signed-in guest's upcoming reservations (soonest first) and latest activity on their bookings."""
    upcoming = db.session.execute(
        select(
            Reservation.id,
            Reservation.restaurant_id,
            Restaurant.name.label("restaurant_name"),
            Reservation.confirmation_code,
            Reservation.status,
            Reservation.party_size,
            Reservation.starts_at,
            Reservation.ends_at,
            Reservation.service_date,
        )
        .join(Restaurant, Restaurant.id == Reservation.restaurant_id)
        .where(
            Reservation.user_id == actor.id,
            Reservation.status.in_(OCCUPYING_STATUSES),
            Reservation.ends_at > now,
        )
        .order_by(Reservation.starts_at)
        .limit(UPCOMING_LIMIT)
    )
    return GuestDashboard(
        upcoming=[dict(row._asdict()) for row in upcoming],
        recent_activity=_activity(_activity_select().where(Reservation.user_id == actor.id)),
    )


def restaurant_dashboard(*, actor: User, restaurant_id: uuid.UUID | str, now: datetime) -> RestaurantDashboard:
    """Today at a restaurant (its local day). :raise 404: RESTAURANT_NOT_FOUND. :raise 403: FORBIDDEN."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    today = now.astimezone(slots.zone_of(restaurant)).date()
    status = Reservation.status
    live = status.notin_([ReservationStatus.CANCELLED, ReservationStatus.REJECTED])
    figures = db.session.execute(
        select(
            func.count().filter(live).label("reservations"),
            # Covers as in the statistics: the guests who came or are expected (no-shows are not).
            func.coalesce(func.sum(Reservation.party_size).filter(live, status != ReservationStatus.NO_SHOW), 0).label(
                "covers"
            ),
            func.count().filter(status == ReservationStatus.NO_SHOW).label("no_shows"),
        ).where(Reservation.restaurant_id == restaurant.id, Reservation.service_date == today)
    ).one()
    # Seated now: whatever day it started (a party seated before midnight is still at its table).
    seated = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Reservation.party_size), 0)).where(
            Reservation.restaurant_id == restaurant.id,
            Reservation.service_date.between(today - _DAY, today),
            status == ReservationStatus.SEATED,
        )
    ).one()
    pending_rows = db.session.execute(
        select(
            Reservation.id,
            Reservation.confirmation_code,
            Reservation.party_size,
            Reservation.starts_at,
            Reservation.service_date,
            DiningTable.number.label("table_number"),
            func.coalesce(Customer.name, User.name, "").label("name"),
            func.count().over().label("total"),
        )
        .join(DiningTable, DiningTable.id == Reservation.table_id)
        .outerjoin(Customer, Customer.id == Reservation.customer_id)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(
            Reservation.restaurant_id == restaurant.id,
            # From the start of the local today: ix_reservations_pending_restaurant_id_starts_at.
            Reservation.starts_at >= datetime.combine(today, time(), tzinfo=slots.zone_of(restaurant)),
            status == ReservationStatus.PENDING,
        )
        .order_by(Reservation.starts_at)
        .limit(PENDING_LIMIT)
    ).all()
    # The restaurant's latest events: read newest first through ix_reservation_events_at, stopping at
    # the 20th of this restaurant (docs/benchmarks.md, "Insight").
    activity = _activity(
        _activity_select().where(Reservation.restaurant_id == restaurant.id, ReservationEvent.at <= now)
    )
    return RestaurantDashboard(
        restaurant=restaurant,
        date=today,
        pending_count=pending_rows[0].total if pending_rows else 0,
        pending_approvals=[{k: v for k, v in row._asdict().items() if k != "total"} for row in pending_rows],
        today_reservations=figures.reservations,
        today_covers=int(figures.covers),
        seated_now=seated[0],
        seated_covers=int(seated[1]),
        no_shows_today=figures.no_shows,
        recent_activity=activity,
    )
