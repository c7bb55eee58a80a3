"""Guest profiles over HTTP: `/api/restaurants/<id>/guests` (staff of the restaurant, admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts.authz import STAFF_ROLES, auth_required, current_account
from api.guests import service as guests_service
from api.guests.schemas import GuestListQuerySchema, GuestPageSchema, GuestSchema, GuestUpdateSchema
from api.schemas import ErrorSchema

blp = Blueprint(
    "guests", __name__, url_prefix="/api/restaurants", description="Guest profiles: visits, no-shows, notes, tags"
)


@blp.route("/<restaurant_id>/guests", methods=["GET"])
@auth_required(*STAFF_ROLES)
@blp.arguments(GuestListQuerySchema, location="query")
@blp.response(200, GuestPageSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def list_guests(query: dict[str, Any], restaurant_id: str) -> guests_service.GuestPage:
    """List the restaurant's guests, most visits first, with search by email, name or phone."""
    return guests_service.list_guests(
        actor=current_account(),
        restaurant_id=restaurant_id,
        q=query.get("q"),
        tag=query.get("tag"),
        page=query["page"],
        page_size=query["page_size"],
    )


@blp.route("/<restaurant_id>/guests/<guest_id>")
class GuestById(MethodView):
    @auth_required(*STAFF_ROLES)
    @blp.response(200, GuestSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, GUEST_NOT_FOUND")
    def get(self, restaurant_id: str, guest_id: str) -> dict[str, Any]:
        """Show a guest's visits, no-shows, late cancellations, notes, tags and latest bookings."""
        return guests_service.get_guest(actor=current_account(), restaurant_id=restaurant_id, guest_id=guest_id)

    @auth_required(*STAFF_ROLES)
    @blp.arguments(GuestUpdateSchema)
    @blp.response(200, GuestSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="Not staff of this restaurant")
    @blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, GUEST_NOT_FOUND")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def patch(self, changes: dict[str, Any], restaurant_id: str, guest_id: str) -> dict[str, Any]:
        """Set staff notes and tags (allergies, VIP, ...) on a guest."""
        return guests_service.update_guest(
            actor=current_account(),
            restaurant_id=restaurant_id,
            guest_id=guest_id,
            changes=changes,
            now=datetime.now(UTC),
        )
