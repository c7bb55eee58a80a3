"""Discovery over HTTP: the feed (seed 000 endpoint 7), swipes and a user's preferences.

Every route needs a signed-in user. A `userId` (query, body or path) must be the caller's
own unless the caller is an admin: 403 USER_MISMATCH otherwise, staff included, whatever their
restaurant (preferences hold a home location; swipes and the feed are the customer's alone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts.authz import auth_required, current_account
from api.discovery import service as discovery_service
from api.discovery.models import Swipe
from api.discovery.schemas import (
    DiscoveryQuerySchema,
    FeedItemSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    SwipeCreateSchema,
    SwipeSchema,
)
from api.schemas import ErrorSchema

blp = Blueprint("discovery", __name__, url_prefix="/api", description="Discovery feed, swipes and preferences")


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("/restaurants/discovery", methods=["GET"])
@auth_required()
@blp.arguments(DiscoveryQuerySchema, location="query")
@blp.response(200, FeedItemSchema(many=True))
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND (staff naming an unknown user)")
def discovery_feed(query: dict[str, Any]) -> list[discovery_service.FeedEntry]:
    """Recommend restaurants the user has not swiped yet, best match first."""
    return discovery_service.get_feed(actor=current_account(), user_id=query.get("user_id"), limit=query["limit"])


@blp.route("/restaurants/<restaurant_id>/swipe", methods=["POST"])
@auth_required()
@blp.arguments(SwipeCreateSchema)
@blp.response(200, SwipeSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, USER_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def swipe(body: dict[str, Any], restaurant_id: str) -> Swipe:
    """Like or pass a restaurant (idempotent; the latest swipe wins)."""
    return discovery_service.record_swipe(
        actor=current_account(),
        user_id=body.get("user_id"),
        restaurant_id=restaurant_id,
        action=body["action"],
        now=_now(),
    )


@blp.route("/users/<user_id>/preferences")
class UserPreferences(MethodView):
    @auth_required()
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
    @blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
    def get(self, user_id: str) -> discovery_service.Preferences:
        """Show a user's discovery preferences (defaults when never set)."""
        return discovery_service.get_preferences(actor=current_account(), user_id=user_id)

    @auth_required()
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
    @blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def put(self, preferences: dict[str, Any], user_id: str) -> discovery_service.Preferences:
        """Replace a user's discovery preferences."""
        return discovery_service.replace_preferences(
            actor=current_account(), user_id=user_id, preferences=preferences, now=_now()
        )
