"""The floor plan: areas (rooms, terrace) and where each table stands, saved per restaurant.

`PUT` replaces the whole plan: the areas by name, and for each table its area, position (x, y),
size (width, height), shape (rect or round) and rotation. Tables left out keep no layout (they
still take bookings; the plan shows them unplaced). A table's `area` (the name the day listing
shows) follows the area it is placed in. The live state of each table (free, held, booked,
seated) is read by the insight domain, which stands on booking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.db import atomic
from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.restaurants import service as restaurants_service
from api.restaurants.models import DiningTable, FloorArea, Restaurant, TableLayout


@dataclass(frozen=True)
class PlacedTable:
    table: DiningTable
    layout: TableLayout | None
    area: FloorArea | None


@dataclass(frozen=True)
class FloorPlan:
    restaurant: Restaurant
    areas: list[FloorArea]
    tables: list[PlacedTable]


def read_floor_plan(restaurant: Restaurant) -> FloorPlan:
    """The saved plan: areas in order, then every active table with its layout (None when unplaced)."""
    areas = list(
        db.session.scalars(
            select(FloorArea)
            .where(FloorArea.restaurant_id == restaurant.id)
            .order_by(FloorArea.position, FloorArea.name)
        )
    )
    by_id = {area.id: area for area in areas}
    rows = db.session.execute(
        select(DiningTable, TableLayout)
        .outerjoin(TableLayout, TableLayout.table_id == DiningTable.id)
        .where(DiningTable.restaurant_id == restaurant.id, DiningTable.is_active.is_(True))
        .order_by(DiningTable.number)
    ).all()
    tables = [
        PlacedTable(table=table, layout=layout, area=by_id.get(layout.area_id) if layout else None)
        for table, layout in rows
    ]
    return FloorPlan(restaurant=restaurant, areas=areas, tables=tables)


def get_floor_plan(*, restaurant_id: uuid.UUID | str) -> FloorPlan:
    """The saved plan of a restaurant (anyone may see the layout). :raise 404: RESTAURANT_NOT_FOUND."""
    return read_floor_plan(restaurants_service.get_restaurant(restaurant_id=restaurant_id))


def replace_floor_plan(*, actor: User, restaurant_id: uuid.UUID | str, plan: dict[str, Any]) -> FloorPlan:
    """Replace the areas and every table's place. Area names are unique; each table appears once,
    in an area the plan names (or none).

    :raise 404: RESTAURANT_NOT_FOUND. :raise 403: FORBIDDEN. :raise 422: VALIDATION_ERROR (unknown
        table or area, a table twice, an area name twice).
    """
    errors: dict[str, Any] = {}
    names = [area["name"] for area in plan["areas"]]
    duplicate_areas = {str(i): ["Another area has this name."] for i, n in enumerate(names) if names.index(n) != i}
    if duplicate_areas:
        errors["areas"] = duplicate_areas
    with atomic():
        restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id, for_update=True)
        ensure_can_manage_restaurant(actor, restaurant.id)
        tables = {
            t.id: t for t in db.session.scalars(select(DiningTable).where(DiningTable.restaurant_id == restaurant.id))
        }
        table_errors: dict[str, list[str]] = {}
        seen: set[uuid.UUID] = set()
        for index, placed in enumerate(plan["tables"]):
            if placed["table_id"] not in tables:
                table_errors[str(index)] = ["This restaurant has no table with this id."]
            elif placed["table_id"] in seen:
                table_errors[str(index)] = ["This table is placed twice."]
            elif placed.get("area") is not None and placed["area"] not in names:
                table_errors[str(index)] = ["No area of the plan has this name."]
            seen.add(placed["table_id"])
        if table_errors:
            errors["tables"] = table_errors
        if errors:
            raise Unprocessable(ErrorCode.VALIDATION_ERROR, "The floor plan is invalid.", details={"fields": errors})
        db.session.execute(delete(TableLayout).where(TableLayout.restaurant_id == restaurant.id))
        db.session.execute(delete(FloorArea).where(FloorArea.restaurant_id == restaurant.id))
        areas: dict[str, FloorArea] = {}
        for position, area in enumerate(plan["areas"]):
            areas[area["name"]] = FloorArea(restaurant_id=restaurant.id, position=position, **area)
            db.session.add(areas[area["name"]])
        db.session.flush()
        for placed in plan["tables"]:
            area = areas.get(placed.get("area")) if placed.get("area") else None
            values = {k: placed[k] for k in ("x", "y", "width", "height", "shape", "rotation")}
            db.session.add(
                TableLayout(
                    table_id=placed["table_id"],
                    restaurant_id=restaurant.id,
                    area_id=area.id if area else None,
                    **values,
                )
            )
            if area is not None:
                tables[placed["table_id"]].area = area.name[:60]
        db.session.flush()
        result = read_floor_plan(restaurant)
    return result
