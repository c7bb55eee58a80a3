"""The floor plan at an instant: each table's live state and, for staff, who is on it.

A table is `seated` when a seated (or, for a past instant, completed) reservation's claim covers
the instant, `booked` when a pending or confirmed one's does, `held` when an unexpired hold's
does, else `free`. Table blocks (`blocked`) join once the blocks lane's claims carry them.
One query reads every claim covering the instant with its reservation and guest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from api.accounts.models import Role, User
from api.booking.models import MAX_CLAIM, Customer, Reservation, ReservationStatus, TableOccupancy
from api.booking.slots import zone_of
from api.extensions import db
from api.restaurants import floor_plan
from api.restaurants import service as restaurants_service


@dataclass(frozen=True)
class LiveTable:
    table: Any
    layout: Any
    area: Any
    state: str | None
    occupant: dict[str, Any] | None


@dataclass(frozen=True)
class LiveFloorPlan:
    restaurant: Any
    areas: list[Any]
    tables: list[LiveTable]
    at: datetime | None


def _state(status: str | None) -> str:
    if status is None:
        return "held"
    if status in (ReservationStatus.SEATED, ReservationStatus.COMPLETED):
        return "seated"
    return "booked"


def floor_plan_at(
    *, actor: User | None, restaurant_id: uuid.UUID | str, at: datetime | None, now: datetime
) -> LiveFloorPlan:
    """The saved plan; with `at`, each table's state then, and for staff of the restaurant (and
    admins) who is on it. :raise 404: RESTAURANT_NOT_FOUND."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    plan = floor_plan.read_floor_plan(restaurant)
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        at = at.replace(tzinfo=zone_of(restaurant))  # a wall time without offset is the restaurant's
    if at is None:
        tables = [LiveTable(p.table, p.layout, p.area, None, None) for p in plan.tables]
        return LiveFloorPlan(restaurant=restaurant, areas=plan.areas, tables=tables, at=None)
    is_staff = actor is not None and (
        actor.role == Role.ADMIN or (actor.role == Role.STAFF and actor.restaurant_id == restaurant.id)
    )
    rows = db.session.execute(
        select(
            TableOccupancy.table_id,
            TableOccupancy.hold_id,
            Reservation.id.label("reservation_id"),
            Reservation.status,
            Reservation.party_size,
            Reservation.confirmation_code,
            Reservation.starts_at,
            Reservation.ends_at,
            func.coalesce(Customer.name, User.name, "").label("name"),
        )
        .outerjoin(Reservation, Reservation.id == TableOccupancy.reservation_id)
        .outerjoin(Customer, Customer.id == Reservation.customer_id)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(
            TableOccupancy.restaurant_id == restaurant.id,
            TableOccupancy.starts_at <= at,
            TableOccupancy.starts_at > at - MAX_CLAIM,
            TableOccupancy.ends_at > at,
            or_(TableOccupancy.expires_at.is_(None), TableOccupancy.expires_at > now),
        )
    ).all()
    by_table = {row.table_id: row for row in rows}
    tables = []
    for placed in plan.tables:
        row = by_table.get(placed.table.id)
        state = "free" if row is None else _state(row.status if row.reservation_id else None)
        occupant = None
        if row is not None and row.reservation_id is not None and is_staff:
            occupant = {
                "reservation_id": row.reservation_id,
                "name": row.name,
                "party_size": row.party_size,
                "confirmation_code": row.confirmation_code,
                "status": row.status,
                "starts_at": row.starts_at,
                "ends_at": row.ends_at,
            }
        tables.append(LiveTable(placed.table, placed.layout, placed.area, state, occupant))
    return LiveFloorPlan(restaurant=restaurant, areas=plan.areas, tables=tables, at=at)
