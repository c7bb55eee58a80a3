"""The restaurant catalogue over HTTP: `/api/restaurants`.

Reading the catalogue and a restaurant's details (seed 000 endpoint 8) is public. Admins add
restaurants; admins and the restaurant's own staff edit it and manage its tables, weekly
hours and closures. The discovery feed (`/api/restaurants/discovery`) lives in `api/discovery`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.routing import BaseConverter

from api.accounts.authz import auth_required, current_account
from api.accounts.models import Role
from api.restaurants import floor_plan as floor_plan_service
from api.restaurants import service as restaurants_service
from api.restaurants import settings as settings_service
from api.restaurants.models import DiningTable, PrimetimeWindow, Restaurant, SpecialHours
from api.restaurants.schemas import (
    ClosureChangeSchema,
    ClosureCreateSchema,
    ClosureSchema,
    FloorPlanReplaceSchema,
    FloorPlanSchema,
    ForceQuerySchema,
    HoursChangeSchema,
    HoursReplaceSchema,
    HoursSchema,
    PrimetimeWindowCreateSchema,
    PrimetimeWindowSchema,
    PrimetimeWindowUpdateSchema,
    RestaurantAdminSchema,
    RestaurantCreateSchema,
    RestaurantListQuerySchema,
    RestaurantPageSchema,
    RestaurantSchema,
    RestaurantSettingsOutSchema,
    RestaurantSettingsSchema,
    RestaurantUpdateSchema,
    ScheduleSchema,
    SettingsChangeSchema,
    SettingsReplaceResultSchema,
    TableCreateSchema,
    TableRemovalSchema,
    TableSchema,
    TableUpdateSchema,
)
from api.schemas import ErrorSchema, pagination

blp = Blueprint(
    "restaurants", __name__, url_prefix="/api/restaurants", description="Restaurant catalogue, tables and hours"
)

STAFF = (Role.STAFF, Role.ADMIN)


class RestaurantIdConverter(BaseConverter):
    """A restaurant id segment that is never `discovery`: the feed's path (api/discovery) would
    otherwise also match `/<restaurant_id>`, and OPTIONS there would advertise this route's PATCH."""

    regex = r"(?!discovery$)[^/]+"


@blp.record_once
def _register_converter(state: Any) -> None:  # before the rules below are added (deferred in order)
    state.app.url_map.converters["restaurant_id"] = RestaurantIdConverter


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("")
class Restaurants(MethodView):
    @blp.arguments(RestaurantListQuerySchema, location="query")
    @blp.response(200, RestaurantPageSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List restaurants by name, filtered by cuisine, price range, city and name search."""
        page = restaurants_service.list_restaurants(
            page=query["page"],
            page_size=query["page_size"],
            cuisines=query["cuisine"],
            price_ranges=query["price_range"],
            city=query.get("city"),
            q=query.get("q"),
        )
        return {
            "items": page.items,
            "pagination": pagination(page=page.page, page_size=page.page_size, total=page.total),
        }

    @auth_required(Role.ADMIN)
    @blp.arguments(RestaurantCreateSchema)
    @blp.response(201, RestaurantAdminSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
    @blp.alt_response(409, schema=ErrorSchema, description="RESTAURANT_SLUG_TAKEN")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def post(self, data: dict[str, Any]) -> Restaurant:
        """Add a restaurant."""
        return restaurants_service.create_restaurant(actor=current_account(), data=data)


@blp.route("/<restaurant_id:restaurant_id>")
class RestaurantById(MethodView):
    @blp.response(200, RestaurantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> Restaurant:
        """Show a restaurant's details, hours and reservation terms."""
        return restaurants_service.get_restaurant_details(restaurant_id=restaurant_id)

    @auth_required(*STAFF)
    @blp.arguments(RestaurantUpdateSchema(partial=True))
    @blp.response(200, RestaurantAdminSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(
        409, schema=ErrorSchema, description="RESTAURANT_SLUG_TAKEN, BOOKINGS_AFFECTED (time zone with future bookings)"
    )
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def patch(self, changes: dict[str, Any], restaurant_id: str) -> Restaurant:
        """Edit a restaurant's profile, reservation terms or settings."""
        return restaurants_service.update_restaurant(
            actor=current_account(), restaurant_id=restaurant_id, changes=changes, now=_now()
        )


@blp.route("/<restaurant_id>/tables")
class Tables(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, TableSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> list[DiningTable]:
        """List the restaurant's tables, inactive ones included."""
        return restaurants_service.list_tables(actor=current_account(), restaurant_id=restaurant_id)

    @auth_required(*STAFF)
    @blp.arguments(TableCreateSchema)
    @blp.response(201, TableSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(409, schema=ErrorSchema, description="TABLE_NUMBER_TAKEN")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def post(self, data: dict[str, Any], restaurant_id: str) -> DiningTable:
        """Add a table."""
        return restaurants_service.create_table(actor=current_account(), restaurant_id=restaurant_id, data=data)


@blp.route("/<restaurant_id>/tables/<table_id>")
class TableById(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(TableUpdateSchema(partial=True))
    @blp.response(200, TableSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND")
    @blp.alt_response(409, schema=ErrorSchema, description="TABLE_NUMBER_TAKEN")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def patch(self, changes: dict[str, Any], restaurant_id: str, table_id: str) -> DiningTable:
        """Edit a table (seats, label, area, number, active flag)."""
        return restaurants_service.update_table(
            actor=current_account(), restaurant_id=restaurant_id, table_id=table_id, changes=changes
        )

    @auth_required(*STAFF)
    @blp.response(200, TableRemovalSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND")
    def delete(self, restaurant_id: str, table_id: str) -> restaurants_service.TableRemoval:
        """Delete a table, or deactivate it when bookings reference it."""
        return restaurants_service.remove_table(actor=current_account(), restaurant_id=restaurant_id, table_id=table_id)


@blp.route("/<restaurant_id>/hours")
class Hours(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, HoursSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> Restaurant:
        """Show the weekly service periods."""
        return restaurants_service.get_opening_hours(actor=current_account(), restaurant_id=restaurant_id)

    @auth_required(*STAFF)
    @blp.arguments(HoursReplaceSchema)
    @blp.arguments(ForceQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, HoursChangeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(409, schema=ErrorSchema, description="BOOKINGS_AFFECTED (details.bookings lists them)")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (overlapping or inverted periods)")
    def put(self, body: dict[str, Any], restaurant_id: str, force: bool) -> restaurants_service.HoursChange:
        """Replace the weekly service periods (days without one are closed)."""
        return restaurants_service.replace_opening_hours(
            actor=current_account(), restaurant_id=restaurant_id, periods=body["periods"], force=force, now=_now()
        )


@blp.route("/<restaurant_id>/schedule", methods=["GET"])
@blp.response(200, ScheduleSchema)
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
def public_schedule(restaurant_id: str) -> restaurants_service.PublicSchedule:
    """Show when the restaurant seats guests: its time zone, local clock, weekly hours and closures (public)."""
    return restaurants_service.get_public_schedule(restaurant_id=restaurant_id, now=_now())


@blp.route("/<restaurant_id>/closures")
class Closures(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, ClosureSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> list[SpecialHours]:
        """List closures and special hours from today on."""
        return restaurants_service.list_closures(actor=current_account(), restaurant_id=restaurant_id, now=_now())

    @auth_required(*STAFF)
    @blp.arguments(ClosureCreateSchema)
    @blp.arguments(ForceQuerySchema, location="query", as_kwargs=True)
    @blp.response(201, ClosureChangeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(409, schema=ErrorSchema, description="CLOSURE_EXISTS, BOOKINGS_AFFECTED (details.bookings)")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR, BAD_DATE (past)")
    def post(self, closure: dict[str, Any], restaurant_id: str, force: bool) -> restaurants_service.ClosureChange:
        """Close a day, or open it for one period only."""
        return restaurants_service.add_closure(
            actor=current_account(), restaurant_id=restaurant_id, closure=closure, force=force, now=_now()
        )


@blp.route("/<restaurant_id>/closures/<service_date>")
class ClosureByDate(MethodView):
    @auth_required(*STAFF)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, CLOSURE_NOT_FOUND")
    def delete(self, restaurant_id: str, service_date: str) -> None:
        """Remove a closure: the day follows the weekly hours again."""
        restaurants_service.remove_closure(
            actor=current_account(), restaurant_id=restaurant_id, service_date=service_date
        )


@blp.route("/<restaurant_id>/primetime")
class PrimetimeWindows(MethodView):
    @blp.response(200, PrimetimeWindowSchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> list[PrimetimeWindow]:
        """List the weekly primetime windows, in which bookings wait for the restaurant's approval."""
        return restaurants_service.list_primetime_windows(restaurant_id=restaurant_id)

    @auth_required(*STAFF)
    @blp.arguments(PrimetimeWindowCreateSchema)
    @blp.response(201, PrimetimeWindowSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (weekday 0-6, end after start)")
    def post(self, data: dict[str, Any], restaurant_id: str) -> PrimetimeWindow:
        """Add a primetime window: bookings starting in it are pending until staff approve them."""
        return restaurants_service.create_primetime_window(
            actor=current_account(), restaurant_id=restaurant_id, data=data
        )


@blp.route("/<restaurant_id>/primetime/<int:window_id>")
class PrimetimeWindowById(MethodView):
    @blp.response(200, PrimetimeWindowSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND")
    def get(self, restaurant_id: str, window_id: int) -> PrimetimeWindow:
        """Show one primetime window."""
        return restaurants_service.get_primetime_window(restaurant_id=restaurant_id, window_id=window_id)

    @auth_required(*STAFF)
    @blp.arguments(PrimetimeWindowUpdateSchema(partial=True))
    @blp.response(200, PrimetimeWindowSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (weekday 0-6, end after start)")
    def patch(self, changes: dict[str, Any], restaurant_id: str, window_id: int) -> PrimetimeWindow:
        """Edit a primetime window (bookings already made keep their status)."""
        return restaurants_service.update_primetime_window(
            actor=current_account(), restaurant_id=restaurant_id, window_id=window_id, changes=changes
        )

    @auth_required(*STAFF)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND")
    def delete(self, restaurant_id: str, window_id: int) -> None:
        """Remove a primetime window (pending bookings made under it still wait for a decision)."""
        restaurants_service.delete_primetime_window(
            actor=current_account(), restaurant_id=restaurant_id, window_id=window_id
        )


@blp.route("/<restaurant_id>/settings")
class Settings(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, RestaurantSettingsOutSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    def get(self, restaurant_id: str) -> dict[str, Any]:
        """Show the restaurant's settings: slot length, turn times, hours, deposits, refund policy."""
        return settings_service.get_settings(actor=current_account(), restaurant_id=restaurant_id)

    @auth_required(*STAFF)
    @blp.arguments(RestaurantSettingsSchema)
    @blp.arguments(ForceQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, SettingsReplaceResultSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(
        409, schema=ErrorSchema, description="BOOKINGS_AFFECTED (details.bookings; force=true applies new hours anyway)"
    )
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (details.fields, every field at once)")
    def put(self, data: dict[str, Any], restaurant_id: str, force: bool) -> settings_service.SettingsChangeResult:
        """Replace the settings as a whole (audited; every worker applies them on its next request)."""
        return settings_service.replace_settings(
            actor=current_account(), restaurant_id=restaurant_id, data=data, force=force, now=_now()
        )


@blp.route("/<restaurant_id>/settings/changes", methods=["GET"])
@auth_required(*STAFF)
@blp.response(200, SettingsChangeSchema(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
def settings_changes(restaurant_id: str) -> list[Any]:
    """List the latest settings changes: who, when, the settings before and after."""
    return settings_service.list_settings_changes(actor=current_account(), restaurant_id=restaurant_id)


@blp.route("/<restaurant_id>/floor-plan", methods=["PUT"])
@auth_required(*STAFF)
@blp.arguments(FloorPlanReplaceSchema)
@blp.response(200, FloorPlanSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (unknown table or area, duplicates)")
def replace_floor_plan(plan: dict[str, Any], restaurant_id: str) -> floor_plan_service.FloorPlan:
    """Replace the floor plan: areas, and each table's position, size, shape and rotation."""
    return floor_plan_service.replace_floor_plan(actor=current_account(), restaurant_id=restaurant_id, plan=plan)
