"""The app frontend's reservation flow (seed 000, endpoints 1-6), on the reservations blueprint.

`POST /availability` is public (the seed's own curl sends no token; the grid reveals nothing
about anyone). Every other route needs the Bearer token, and its `userId` must be the caller
unless the caller is staff (403 USER_MISMATCH). The POSTs that create something (`/hold`,
`/confirm`) honour the `Idempotency-Key` header.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from api.accounts.authz import auth_required, current_account
from api.booking import cancellation, changes, checkout, holds
from api.booking.app_schemas import (
    AppActiveHoldQuerySchema,
    AppActiveHoldSchema,
    AppAvailabilityRequestSchema,
    AppAvailabilitySchema,
    AppCancelResultSchema,
    AppCancelSchema,
    AppChangeSchema,
    AppConfirmResultSchema,
    AppConfirmSchema,
    AppHoldCreatedSchema,
    AppHoldCreateSchema,
    AppRefundQuoteSchema,
    AppReservationSchema,
    AppUserReservationSchema,
    AppUserReservationsQuerySchema,
)
from api.booking.routes import blp
from api.extensions import limiter
from api.idempotency.decorator import idempotent
from api.ratelimit import RATE_LIMITED, setting, user_key
from api.schemas import ErrorSchema


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("/availability", methods=["POST"])
@blp.arguments(AppAvailabilityRequestSchema)
@blp.response(200, AppAvailabilitySchema)
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="BAD_GUESTS, VALIDATION_ERROR")
def app_availability(args: dict[str, Any]) -> holds.DayAvailability:
    """List a day's seatings with the tables free for a party (public)."""
    return holds.day_availability(**args, now=_now())


@blp.route("/hold", methods=["POST"])
@auth_required()
@limiter.limit(setting("ratelimit_hold"), key_func=user_key)  # below auth_required: the key is the user
@idempotent(answer_in_transaction=True)
@blp.arguments(AppHoldCreateSchema)
@blp.response(201, AppHoldCreatedSchema)
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(409, schema=ErrorSchema, description="ACTIVE_HOLD_EXISTS, FULLY_BOOKED, RACE_LOST")
@blp.alt_response(422, schema=ErrorSchema, description="BAD_TIME, BAD_GUESTS, IDEMPOTENCY_KEY_REUSED")
@blp.alt_response(429, **RATE_LIMITED)
@blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT")
def app_create_hold(args: dict[str, Any]) -> holds.HoldCreated:
    """Hold a table for 10 minutes while the guest pays the deposit."""
    return holds.create_hold(actor=current_account(), **args, now=_now())


@blp.route("/hold/active", methods=["GET"])
@auth_required()
@blp.arguments(AppActiveHoldQuerySchema, location="query")
@blp.response(200, AppActiveHoldSchema)
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="NO_ACTIVE_HOLD")
def app_active_hold(args: dict[str, Any]) -> Any:
    """Show the user's unexpired hold."""
    return holds.get_active_hold(actor=current_account(), user_id=args["user_id"], now=_now())


@blp.route("/confirm", methods=["POST"])
@auth_required()
@idempotent
@blp.arguments(AppConfirmSchema)
@blp.response(201, AppConfirmResultSchema)
@blp.alt_response(402, schema=ErrorSchema, description="PAYMENT_DECLINED")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="HOLD_NOT_FOUND")
@blp.alt_response(409, schema=ErrorSchema, description="PAYMENT_IN_PROGRESS, IDEMPOTENCY_KEY_IN_USE")
@blp.alt_response(410, schema=ErrorSchema, description="HOLD_EXPIRED")
@blp.alt_response(422, schema=ErrorSchema, description="RAW_CARD_REJECTED, VALIDATION_ERROR")
@blp.alt_response(503, schema=ErrorSchema, description="PAYMENT_GATEWAY_ERROR, LOCK_TIMEOUT")
def app_confirm(args: dict[str, Any]) -> checkout.Confirmation:
    """Pay the deposit and turn the hold into a reservation."""
    return checkout.confirm_reservation(actor=current_account(), **args, now=_now())


@blp.route("/user/<user_id>", methods=["GET"])
@auth_required()
@blp.arguments(AppUserReservationsQuerySchema, location="query")
@blp.response(200, AppUserReservationSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
def app_user_reservations(args: dict[str, Any], user_id: str) -> list[Any]:
    """List a user's upcoming or past reservations."""
    return cancellation.list_user_reservations(
        actor=current_account(), user_id=user_id, when=args["filter"], now=_now()
    )


@blp.route("/<uuid:reservation_id>", methods=["DELETE"])
@auth_required()
@blp.arguments(AppCancelSchema)
@blp.response(200, AppCancelResultSchema)
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND")
@blp.alt_response(409, schema=ErrorSchema, description="ALREADY_CANCELLED")
def app_cancel(args: dict[str, Any], reservation_id: uuid.UUID) -> cancellation.Cancelled:
    """Cancel a reservation and refund the deposit by the frozen policy."""
    return cancellation.cancel_reservation(
        actor=current_account(), reservation_id=reservation_id, user_id=args["user_id"], now=_now()
    )


@blp.route("/<uuid:reservation_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(AppChangeSchema)
@blp.response(200, AppReservationSchema)
@blp.alt_response(402, schema=ErrorSchema, description="PAYMENT_DECLINED, PAYMENT_METHOD_REQUIRED (a larger deposit)")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND (also someone else's)")
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="TOO_LATE_TO_CHANGE, INVALID_TRANSITION, FULLY_BOOKED, RACE_LOST, DUPLICATE_BOOKING, "
    "PAYMENT_IN_PROGRESS: nothing changed",
)
@blp.alt_response(422, schema=ErrorSchema, description="BAD_TIME, BAD_GUESTS, VALIDATION_ERROR")
@blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT, PAYMENT_GATEWAY_ERROR (retrying is safe)")
def app_change(args: dict[str, Any], reservation_id: uuid.UUID) -> Any:
    """Change a reservation's date, time, party size or requests (the guest's own, or staff's restaurant's)."""
    user_id = args.pop("user_id")
    return changes.change_for_user(
        reservation_id=reservation_id,
        user=current_account(),
        user_id=user_id,
        requested=changes.ReservationChange(**args),
        now=_now(),
    )


@blp.route("/<uuid:reservation_id>/refund-quote", methods=["GET"])
@auth_required()
@blp.response(200, AppRefundQuoteSchema)
@blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND")
def app_refund_quote(reservation_id: uuid.UUID) -> cancellation.RefundQuote:
    """Tell the guest what cancelling now would refund."""
    return cancellation.quote_refund(actor=current_account(), reservation_id=reservation_id, now=_now())
