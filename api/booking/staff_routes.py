"""A reservation's history, and what staff do on the floor: seat, complete, no-show, cancel, extend.

History is for the reservation's guest (the signed-in owner) and the restaurant's staff and
admins; the actions are for staff of the reservation's restaurant and admins (customers 403;
another restaurant's staff 404, as for `GET /api/reservations/<id>`). Every move goes through
`api.booking.lifecycle` (one status table, one audit row per move); see docs/lifecycle.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.booking import cancellation, lifecycle, service
from api.booking.schemas import ReservationSchema
from api.booking.staff_schemas import (
    ActionReasonSchema,
    ExtendedSchema,
    ExtendSchema,
    ReservationHistorySchema,
    StaffCancelResultSchema,
    StaffCancelSchema,
)
from api.errors import Conflict, ErrorCode
from api.schemas import ErrorSchema

blp = Blueprint(
    "reservation-lifecycle",
    __name__,
    url_prefix="/api/reservations",
    description="A reservation's history and the staff's status actions",
)

_NOT_STAFF = "Not staff or an admin (FORBIDDEN)"
_NOT_FOUND = "RESERVATION_NOT_FOUND (also another restaurant's)"
_BAD_BODY = "VALIDATION_ERROR"


def _now() -> datetime:
    return datetime.now(UTC)


def _staff_view(reservation_id: uuid.UUID) -> service.ReservationDetails:
    return service.get_reservation(reservation_id=reservation_id, actor=current_account())


@blp.route("/<uuid:reservation_id>/history", methods=["GET"])
@auth_required()
@blp.response(200, ReservationHistorySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND (also someone else's)")
def reservation_history(reservation_id: uuid.UUID) -> dict[str, Any]:
    """List a reservation's status changes and edits, oldest first (its guest, its restaurant's staff)."""
    reservation, events = lifecycle.read_history(actor=current_account(), reservation_id=reservation_id)
    return {"reservation_id": reservation.id, "status": reservation.status, "events": events}


@blp.route("/<uuid:reservation_id>/seat", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(ActionReasonSchema, required=False)
@blp.response(200, ReservationSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=_NOT_STAFF)
@blp.alt_response(404, schema=ErrorSchema, description=_NOT_FOUND)
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="INVALID_TRANSITION (details.status), OUTSIDE_TIME_WINDOW (too early or the stay ended), "
    "BOOKINGS_AFFECTED (an early party's table is still taken)",
)
@blp.alt_response(422, schema=ErrorSchema, description=_BAD_BODY)
@blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT")
def seat(body: dict[str, Any] | None, reservation_id: uuid.UUID) -> Any:
    """Seat a confirmed party (from EARLY_SEATING_MINUTES before its start until its stay ends)."""
    lifecycle.seat_reservation(
        actor=current_account(), reservation_id=reservation_id, now=_now(), reason=(body or {}).get("reason", "")
    )
    return _staff_view(reservation_id)


@blp.route("/<uuid:reservation_id>/complete", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(ActionReasonSchema, required=False)
@blp.response(200, ReservationSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=_NOT_STAFF)
@blp.alt_response(404, schema=ErrorSchema, description=_NOT_FOUND)
@blp.alt_response(409, schema=ErrorSchema, description="INVALID_TRANSITION (not seated; details.status)")
@blp.alt_response(422, schema=ErrorSchema, description=_BAD_BODY)
def complete(body: dict[str, Any] | None, reservation_id: uuid.UUID) -> Any:
    """Mark a seated party as gone: completed, and the rest of its stay freed."""
    lifecycle.complete_reservation(
        actor=current_account(), reservation_id=reservation_id, now=_now(), reason=(body or {}).get("reason", "")
    )
    return _staff_view(reservation_id)


@blp.route("/<uuid:reservation_id>/no-show", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(ActionReasonSchema, required=False)
@blp.response(200, ReservationSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=_NOT_STAFF)
@blp.alt_response(404, schema=ErrorSchema, description=_NOT_FOUND)
@blp.alt_response(
    409, schema=ErrorSchema, description="INVALID_TRANSITION (details.status), OUTSIDE_TIME_WINDOW (not started)"
)
@blp.alt_response(422, schema=ErrorSchema, description=_BAD_BODY)
def no_show(body: dict[str, Any] | None, reservation_id: uuid.UUID) -> Any:
    """Mark a confirmed party that did not come as a no-show; its table is freed at once."""
    lifecycle.mark_no_show(
        actor=current_account(), reservation_id=reservation_id, now=_now(), reason=(body or {}).get("reason", "")
    )
    return _staff_view(reservation_id)


@blp.route("/<uuid:reservation_id>/cancel", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(StaffCancelSchema)
@blp.response(200, StaffCancelResultSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=_NOT_STAFF)
@blp.alt_response(404, schema=ErrorSchema, description=_NOT_FOUND)
@blp.alt_response(
    409, schema=ErrorSchema, description="INVALID_TRANSITION (already cancelled, seated or finished; details.status)"
)
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (a reason is required)")
def cancel(body: dict[str, Any], reservation_id: uuid.UUID) -> dict[str, Any]:
    """Cancel a pending or confirmed reservation for the restaurant, with a reason; the deposit is refunded by the
    policy frozen at booking."""
    actor = current_account()
    _staff_view(reservation_id)  # 404 unless the caller manages its restaurant (not merely is its guest)
    try:
        result = cancellation.cancel_reservation(
            actor=actor, reservation_id=reservation_id, user_id=None, now=_now(), reason=body["reason"]
        )
    except Conflict as err:
        if err.code != ErrorCode.ALREADY_CANCELLED:
            raise
        # The app's DELETE keeps seed 000's code; staff get the status machine's, like every other move.
        raise Conflict(
            ErrorCode.INVALID_TRANSITION,
            "A cancelled reservation cannot be cancelled.",
            details={"status": "cancelled", "action": "cancel"},
        ) from err
    return {
        "reservation_id": result.reservation_id,
        "status": "cancelled",
        "refund_percent": result.refund_percent,
        "refund_cents": result.refund_cents,
        "message": result.message,
    }


@blp.route("/<uuid:reservation_id>/extend", methods=["POST"])
@auth_required(*STAFF_ROLES)
@blp.arguments(ExtendSchema)
@blp.response(200, ExtendedSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=_NOT_STAFF)
@blp.alt_response(404, schema=ErrorSchema, description=_NOT_FOUND)
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="INVALID_TRANSITION (not seated), BOOKINGS_AFFECTED (later bookings on the table that no other "
    "table can take: details.bookings; nothing changed), RACE_LOST",
)
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR (minutes 5-240)")
@blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT")
def extend(body: dict[str, Any], reservation_id: uuid.UUID) -> dict[str, Any]:
    """Let a seated party stay longer on its table; later bookings on it move to another free table."""
    extended = lifecycle.extend_stay(
        actor=current_account(), reservation_id=reservation_id, minutes=body["minutes"], now=_now()
    )
    return {"reservation": _staff_view(reservation_id), "moved": extended.moved}
