"""Insight over HTTP (reads only): the app frontend's `/api/stats/<userId>`, booking reports as JSON
pages or streamed CSV (`/api/restaurants/<id>/reports/bookings`), the calendar, the dashboards,
statistics and the live floor plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.accounts.models import Role
from api.booking.schemas import ReservationPageSchema
from api.insight import calendar, dashboards, floor, reports, statistics
from api.insight import service as insight_service
from api.insight.schemas import (
    BookingReportQuerySchema,
    CalendarQuerySchema,
    CalendarSchema,
    FloorPlanQuerySchema,
    GuestDashboardSchema,
    RestaurantDashboardSchema,
    StatisticsQuerySchema,
    StatisticsSchema,
    UserStatsSchema,
)
from api.restaurants.schemas import FloorPlanSchema
from api.schemas import ErrorSchema

blp = Blueprint("stats", __name__, url_prefix="/api/stats", description="The app frontend's user stats")
insight_blp = Blueprint(
    "insight", __name__, url_prefix="/api", description="Calendar, dashboards, statistics and the live floor plan"
)
reports_blp = Blueprint(
    "reports", __name__, url_prefix="/api/restaurants", description="Booking reports and CSV export (staff)"
)
_CSV_DOC = {
    "200": {
        "description": "One page of the report (format=json), or the whole report as UTF-8 CSV with a header "
        "row, streamed (format=csv)",
        "content": {
            "application/json": {"schema": ReservationPageSchema},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("/<user_id>", methods=["GET"])
@auth_required()
@blp.response(200, UserStatsSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
def user_stats(user_id: str) -> insight_service.UserStats:
    """Show a user's likes, reservations, account age, favourite cuisines and last activity."""
    return insight_service.user_stats(actor=current_account(), user_id=user_id, now=datetime.now(UTC))


@insight_blp.route("/restaurants/<restaurant_id>/calendar", methods=["GET"])
@auth_required(optional=True)
@insight_blp.arguments(CalendarQuerySchema, location="query")
@insight_blp.response(200, CalendarSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="A token was sent and is expired or invalid")
@insight_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@insight_blp.alt_response(
    422, schema=ErrorSchema, description="BAD_DATE (more than 62 days), BAD_GUESTS, VALIDATION_ERROR"
)
def restaurant_calendar(query: dict[str, Any], restaurant_id: str) -> calendar.Calendar:
    """Show each day's hours, free slots for a party and the reservations the caller may see."""
    return calendar.restaurant_calendar(
        actor=current_account(optional=True),
        restaurant_id=restaurant_id,
        start_date=query["start_date"],
        end_date=query["end_date"],
        party_size=query.get("party_size"),
        now=_now(),
    )


@insight_blp.route("/dashboard", methods=["GET"])
@auth_required()
@insight_blp.response(200, GuestDashboardSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def guest_dashboard() -> dashboards.GuestDashboard:
    """Show the signed-in guest's upcoming reservations and recent activity."""
    return dashboards.guest_dashboard(actor=current_account(), now=_now())


@insight_blp.route("/restaurants/<restaurant_id>/dashboard", methods=["GET"])
@auth_required(*STAFF_ROLES)
@insight_blp.response(200, RestaurantDashboardSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@insight_blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@insight_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
def restaurant_dashboard(restaurant_id: str) -> dashboards.RestaurantDashboard:
    """Show today at the restaurant: pending approvals, reservations and covers, seated, no-shows, activity."""
    return dashboards.restaurant_dashboard(actor=current_account(), restaurant_id=restaurant_id, now=_now())


@insight_blp.route("/restaurants/<restaurant_id>/statistics", methods=["GET"])
@auth_required(*STAFF_ROLES)
@insight_blp.arguments(StatisticsQuerySchema, location="query")
@insight_blp.response(200, StatisticsSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@insight_blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@insight_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@insight_blp.alt_response(422, schema=ErrorSchema, description="BAD_DATE (inverted or over 366 days), VALIDATION_ERROR")
def restaurant_statistics(query: dict[str, Any], restaurant_id: str) -> statistics.Statistics:
    """Show a restaurant's bookings, covers, occupancy, no-shows, cancellations and deposits over a range."""
    return statistics.restaurant_statistics(
        actor=current_account(), restaurant_id=restaurant_id, start_date=query["start_date"], end_date=query["end_date"]
    )


@insight_blp.route("/statistics", methods=["GET"])
@auth_required(Role.ADMIN)
@insight_blp.arguments(StatisticsQuerySchema, location="query")
@insight_blp.response(200, StatisticsSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@insight_blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
@insight_blp.alt_response(422, schema=ErrorSchema, description="BAD_DATE (inverted or over 366 days), VALIDATION_ERROR")
def all_statistics(query: dict[str, Any]) -> statistics.Statistics:
    """Show the statistics of every restaurant together over a range (admins)."""
    return statistics.all_statistics(
        actor=current_account(), start_date=query["start_date"], end_date=query["end_date"]
    )


@insight_blp.route("/restaurants/<restaurant_id>/floor-plan", methods=["GET"])
@auth_required(optional=True)
@insight_blp.arguments(FloorPlanQuerySchema, location="query")
@insight_blp.response(200, FloorPlanSchema)
@insight_blp.alt_response(401, schema=ErrorSchema, description="A token was sent and is expired or invalid")
@insight_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@insight_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (at)")
def floor_plan(query: dict[str, Any], restaurant_id: str) -> floor.LiveFloorPlan:
    """Show the floor plan; with ?at=, each table's state then and, for staff, who is on it."""
    return floor.floor_plan_at(
        actor=current_account(optional=True), restaurant_id=restaurant_id, at=query.get("at"), now=_now()
    )


@reports_blp.route("/<uuid:restaurant_id>/reports/bookings", methods=["GET"])
@auth_required(*STAFF_ROLES)
@reports_blp.arguments(BookingReportQuerySchema, location="query")
@reports_blp.response(200, ReservationPageSchema)
@reports_blp.doc(responses=_CSV_DOC)
@reports_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@reports_blp.alt_response(403, schema=ErrorSchema, description="Not staff, or staff of another restaurant")
@reports_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@reports_blp.alt_response(
    422, schema=ErrorSchema, description="BAD_DATE, BAD_DATE_RANGE, BAD_TIME (slot) or VALIDATION_ERROR"
)
def booking_report(query: dict[str, Any], restaurant_id: Any) -> Any:
    """Report a restaurant's bookings over a date range, as JSON pages or a streamed CSV (staff)."""
    report = reports.booking_report(actor=current_account(), restaurant_id=restaurant_id, **query)
    if isinstance(report, reports.CsvExport):
        return Response(
            stream_with_context(report.chunks),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
        )
    return report
