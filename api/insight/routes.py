"""Insight over HTTP: `/api/stats/<userId>` (the app frontend's profile figures) and
`/api/restaurants/<id>/reports/bookings` (booking reports as JSON pages or streamed CSV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.booking.schemas import ReservationPageSchema
from api.insight import reports
from api.insight import service as insight_service
from api.insight.schemas import BookingReportQuerySchema, UserStatsSchema
from api.schemas import ErrorSchema

blp = Blueprint("stats", __name__, url_prefix="/api/stats", description="The app frontend's user stats")
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


@blp.route("/<user_id>", methods=["GET"])
@auth_required()
@blp.response(200, UserStatsSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
def user_stats(user_id: str) -> insight_service.UserStats:
    """Show a user's likes, reservations, account age, favourite cuisines and last activity."""
    return insight_service.user_stats(actor=current_account(), user_id=user_id, now=datetime.now(UTC))


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
