"""The staff's booking tools: deciding primetime requests, phone and walk-in bookings, table blocks.

Approvals live under `/api/reservations` (on the reservations blueprint); staff bookings and
blocks under the restaurant they belong to (`/api/restaurants/<id>/...`, their own blueprint,
because the restaurants domain sits below booking). Staff of the restaurant and admins only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.booking import approvals, service, staff_bookings
from api.booking.models import TableBlock
from api.booking.routes import blp as reservations_blp
from api.booking.schemas import ReservationSchema
from api.booking.staff_booking_schemas import (
    ApprovalBatchSchema,
    ApprovalSchema,
    DecisionBatchSchema,
    StaffBookingCreateSchema,
    TableBlockCreateSchema,
    TableBlockSchema,
)
from api.schemas import ErrorSchema

blp = Blueprint(
    "staff_bookings",
    __name__,
    url_prefix="/api/restaurants",
    description="Staff bookings (phone, walk-in) and timed table blocks",
)


def _now() -> datetime:
    return datetime.now(UTC)


# --- approvals (on /api/reservations) -------------------------------------------------------------


@reservations_blp.route("/<uuid:reservation_id>/approve", methods=["POST"])
@auth_required(*STAFF_ROLES)
@reservations_blp.arguments(ApprovalSchema)
@reservations_blp.response(200, ReservationSchema)
@reservations_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@reservations_blp.alt_response(403, schema=ErrorSchema, description="Not staff")
@reservations_blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND (also another restaurant's)")
@reservations_blp.alt_response(409, schema=ErrorSchema, description="INVALID_TRANSITION (not pending; details.status)")
@reservations_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (rejectionReason to reject)")
def approve_reservation(body: dict[str, Any], reservation_id: uuid.UUID) -> Any:
    """Approve or reject a pending (primetime) booking; a rejected deposit is refunded in full."""
    actor = current_account()
    approvals.decide(
        actor=actor,
        reservation_id=reservation_id,
        action=body["action"],
        rejection_reason=body["rejection_reason"],
        now=_now(),
    )
    return service.get_reservation(reservation_id=reservation_id, actor=actor)


@reservations_blp.route("/approvals", methods=["POST"])
@auth_required(*STAFF_ROLES)
@reservations_blp.arguments(ApprovalBatchSchema)
@reservations_blp.response(200, DecisionBatchSchema)
@reservations_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@reservations_blp.alt_response(403, schema=ErrorSchema, description="Not staff")
@reservations_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (the batch's shape)")
def decide_approvals(body: dict[str, Any]) -> dict[str, Any]:
    """Approve or reject many pending bookings; each item is decided and answered on its own."""
    return {"items": approvals.decide_many(actor=current_account(), items=body["items"], now=_now())}


# --- staff bookings -------------------------------------------------------------------------------


@blp.route("/<restaurant_id>/reservations", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(StaffBookingCreateSchema)
@blp.response(201, ReservationSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND")
@blp.alt_response(409, schema=ErrorSchema, description="TABLE_TAKEN (the chosen table), FULLY_BOOKED, RACE_LOST")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR, BAD_TIME, BAD_GUESTS, BAD_EMAIL")
@blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT (retry after a second)")
def create_staff_booking(body: dict[str, Any], restaurant_id: str) -> service.ReservationDetails:
    """Book a guest on the phone or at the door (walkIn: seated now); no approval needed."""
    return staff_bookings.create_staff_booking(
        actor=current_account(),
        restaurant_id=restaurant_id,
        booking=staff_bookings.StaffBooking(**body),
        now=_now(),
    )


# --- table blocks ---------------------------------------------------------------------------------


@blp.route("/<restaurant_id>/tables/<table_id>/blocks")
class TableBlocks(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(200, TableBlockSchema(many=True))
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND")
    def get(self, restaurant_id: str, table_id: str) -> list[TableBlock]:
        """List the table's blocks that have not ended yet."""
        return staff_bookings.list_blocks(
            actor=current_account(), restaurant_id=restaurant_id, table_id=table_id, now=_now()
        )

    @auth_required(*STAFF_ROLES)
    @blp.arguments(TableBlockCreateSchema)
    @blp.response(201, TableBlockSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND")
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="BOOKINGS_AFFECTED (details.bookings lists them), TABLE_BLOCKED, RACE_LOST",
    )
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR, BAD_TIME")
    @blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT (retry after a second)")
    def post(self, body: dict[str, Any], restaurant_id: str, table_id: str) -> TableBlock:
        """Block the table from start to end (a private event, a repair); nothing can be booked on it then."""
        return staff_bookings.create_block(
            actor=current_account(),
            restaurant_id=restaurant_id,
            table_id=table_id,
            start=body["start"],
            end=body["end"],
            reason=body["reason"],
            now=_now(),
        )


@blp.route("/<restaurant_id>/tables/<table_id>/blocks/<block_id>")
class TableBlockById(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND, BLOCK_NOT_FOUND")
    def delete(self, restaurant_id: str, table_id: str, block_id: str) -> None:
        """Lift a block: the table is bookable again at once."""
        staff_bookings.delete_block(
            actor=current_account(), restaurant_id=restaurant_id, table_id=table_id, block_id=block_id
        )
