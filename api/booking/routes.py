"""The reservations blueprint: `/api/reservations` serves both client contracts.

The Café Fausse website's endpoints (seed 003) are declared in this module; the app
frontend's hold/confirm/cancel flow (seed 000) in `app_routes.py`, on the same blueprint.
The website books without an account, at the restaurant named by `DEFAULT_RESTAURANT_SLUG`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.booking import service
from api.booking.app_schemas import AppReservationQuerySchema
from api.booking.schemas import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    DayListQuerySchema,
    ReservationCreatedSchema,
    ReservationCreateSchema,
    ReservationPageSchema,
    ReservationReadSchema,
)
from api.extensions import limiter
from api.idempotency.decorator import idempotent
from api.ratelimit import RATE_LIMITED, email_key, setting
from api.schemas import ErrorSchema

blp = Blueprint("reservations", __name__, url_prefix="/api/reservations", description="Reservations and holds")


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("")
class Reservations(MethodView):
    @limiter.limit(setting("ratelimit_booking"))
    @limiter.limit(setting("ratelimit_booking_email"), key_func=email_key)
    @idempotent(answer_in_transaction=True)
    @blp.arguments(ReservationCreateSchema)
    @blp.response(201, ReservationCreatedSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND (the default restaurant is missing)")
    @blp.alt_response(409, schema=ErrorSchema, description="FULLY_BOOKED or RACE_LOST")
    @blp.alt_response(422, schema=ErrorSchema, description="BAD_TIME, BAD_GUESTS, BAD_EMAIL or VALIDATION_ERROR")
    @blp.alt_response(429, **RATE_LIMITED)
    @blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT (retry after a second)")
    def post(self, body: dict[str, Any]) -> Any:
        """Book a table: the time rounds down to its slot, the smallest free table that seats the party is taken."""
        booking = service.BookingRequest(**body)
        return service.create_reservation(restaurant=service.default_restaurant(), booking=booking, now=_now())

    @auth_required(*STAFF_ROLES)
    @blp.arguments(DayListQuerySchema, location="query")
    @blp.response(200, ReservationPageSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff, or staff of another restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
    @blp.alt_response(422, schema=ErrorSchema, description="BAD_DATE, BAD_TIME (slot) or VALIDATION_ERROR")
    def get(self, query: dict[str, Any]) -> service.ReservationPage:
        """List a local day's reservations in time order, a page at a time (staff)."""
        restaurant = service.restaurant_for_staff(actor=current_account(), restaurant_id=query.pop("restaurant_id"))
        return service.list_day_reservations(
            restaurant=restaurant,
            service_date=query.pop("date"),
            page=query.pop("page"),
            page_size=query.pop("page_size"),
            filters=service.DayListFilters(**query),
        )


@blp.route("/availability", methods=["GET"])
@blp.arguments(AvailabilityQuerySchema, location="query")
@blp.response(200, AvailabilitySchema)
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND (the default restaurant is missing)")
@blp.alt_response(422, schema=ErrorSchema, description="BAD_TIME (unparsable, past, closed or beyond the horizon)")
def website_availability(query: dict[str, Any]) -> Any:
    """Count the tables taken and free in the slot a time rounds down to."""
    return service.availability_at(restaurant=service.default_restaurant(), time=query["time"], now=_now())


@blp.route("/<uuid:reservation_id>", methods=["GET"])
@auth_required()
@blp.arguments(AppReservationQuerySchema, location="query")
@blp.response(200, ReservationReadSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND (also someone else's)")
def reservation_detail(query: dict[str, Any], reservation_id: Any) -> Any:
    """Show one reservation: the guest's own (app shape), or staff's view of their restaurant's without userId."""
    return service.read_reservation(reservation_id=reservation_id, actor=current_account(), user_id=query["user_id"])
