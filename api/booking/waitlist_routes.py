"""The waitlist routes: join or read a day's list at `/api/restaurants/<id>/waitlist`; your own at `/api/waitlist`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.booking import waitlist
from api.booking.waitlist_schemas import WaitlistDayQuerySchema, WaitlistEntrySchema, WaitlistJoinSchema
from api.schemas import ErrorSchema

blp = Blueprint("waitlist", __name__, url_prefix="/api", description="Waiting for a table, and timed offers")


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("/restaurants/<restaurant_id>/waitlist", methods=["POST"])
@auth_required()
@blp.arguments(WaitlistJoinSchema)
@blp.response(201, WaitlistEntrySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(409, schema=ErrorSchema, description="WAITLIST_EXISTS (one entry per restaurant and date)")
@blp.alt_response(422, schema=ErrorSchema, description="BAD_GUESTS, BAD_TIME or VALIDATION_ERROR")
def join_waitlist(body: dict[str, Any], restaurant_id: str) -> Any:
    """Wait for a table for your party on a date between two times; the first free table that fits is offered to you."""
    return waitlist.join(actor=current_account(), restaurant_id=restaurant_id, **body, now=_now())


@blp.route("/restaurants/<restaurant_id>/waitlist", methods=["GET"])
@auth_required(*STAFF_ROLES)
@blp.arguments(WaitlistDayQuerySchema, location="query")
@blp.response(200, WaitlistEntrySchema(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def day_waitlist(query: dict[str, Any], restaurant_id: str) -> Any:
    """A day's waitlist in order, with each entry's status and offer (staff)."""
    return waitlist.restaurant_entries(actor=current_account(), restaurant_id=restaurant_id, **query, now=_now())


@blp.route("/waitlist", methods=["GET"])
@auth_required()
@blp.response(200, WaitlistEntrySchema(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def my_waitlist() -> Any:
    """Your waitlist entries, newest first, with your position while waiting and the offer while one is open."""
    return waitlist.my_entries(actor=current_account(), now=_now())


@blp.route("/waitlist/<uuid:entry_id>", methods=["DELETE"])
@auth_required()
@blp.response(204)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(404, schema=ErrorSchema, description="WAITLIST_ENTRY_NOT_FOUND (also someone else's)")
def leave_waitlist(entry_id: uuid.UUID) -> None:
    """Leave the waitlist; an open offer's table is given back and offered to the next guest."""
    waitlist.leave(actor=current_account(), entry_id=entry_id, now=_now())
