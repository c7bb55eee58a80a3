"""Discovery over HTTP: the feed (seed 000 endpoint 7), swipes and a user's preferences, and the
FoodTok app's views of the same data: its profile and preferences (`/api/auth/profile`,
`/api/auth/preferences`) and its favourites (`/api/favorites`, which are like-swipes).

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
    AppPreferencesUpdateSchema,
    AppUserEnvelopeSchema,
    DiscoveryQuerySchema,
    FavoriteCheckSchema,
    FavoriteCreatedSchema,
    FavoriteCreateSchema,
    FavoriteListQuerySchema,
    FavoriteQuerySchema,
    FavoriteRemovalSchema,
    FavoriteSchema,
    FeedItemSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    SwipeCreateSchema,
    SwipeSchema,
)
from api.schemas import ErrorSchema

blp = Blueprint("discovery", __name__, url_prefix="/api", description="Discovery feed, swipes and preferences")
profile_blp = Blueprint(
    "app_profile", __name__, url_prefix="/api/auth", description="The app frontend's profile and preferences"
)
favorites_blp = Blueprint(
    "favorites", __name__, url_prefix="/api/favorites", description="The app frontend's favourites (likes)"
)


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
    @blp.arguments(PreferencesUpdateSchema, required=False)  # no body: every field takes its default
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


@profile_blp.route("/profile/<user_id>", methods=["GET"])
@auth_required()
@profile_blp.response(200, AppUserEnvelopeSchema)
@profile_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@profile_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@profile_blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
def profile(user_id: str) -> dict[str, Any]:
    """Show a user with their preferences ("current_user": the caller)."""
    return {"user": discovery_service.get_profile(actor=current_account(), user_id=user_id)}


@profile_blp.route("/preferences", methods=["PATCH"])
@auth_required()
@profile_blp.arguments(AppPreferencesUpdateSchema)
@profile_blp.response(200, AppUserEnvelopeSchema)
@profile_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@profile_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH or ORIGIN_NOT_ALLOWED")
@profile_blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
@profile_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def update_preferences(body: dict[str, Any]) -> dict[str, Any]:
    """Change some of a user's preferences; answer the user."""
    user = discovery_service.update_app_preferences(
        actor=current_account(), user_id=body["user_id"], changes=body["preferences"], now=_now()
    )
    return {"user": user}


@favorites_blp.route("", methods=["POST"])
@auth_required()
@favorites_blp.arguments(FavoriteCreateSchema)
@favorites_blp.response(201, FavoriteCreatedSchema)
@favorites_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@favorites_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH or ORIGIN_NOT_ALLOWED")
@favorites_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND, USER_NOT_FOUND")
@favorites_blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
def add_favorite(body: dict[str, Any]) -> dict[str, Any]:
    """Favourite a restaurant (a like; idempotent)."""
    favorite = discovery_service.add_favorite(
        actor=current_account(),
        user_id=body["user_id"],
        restaurant_id=body["restaurant_id"],
        match_score=body["match_score"],
        now=_now(),
    )
    return {"success": True, "favorite": favorite}


@favorites_blp.route("", methods=["DELETE"])
@auth_required()
@favorites_blp.arguments(FavoriteQuerySchema, location="query")
@favorites_blp.response(200, FavoriteRemovalSchema)
@favorites_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@favorites_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH or ORIGIN_NOT_ALLOWED")
@favorites_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
def remove_favorite(query: dict[str, Any]) -> discovery_service.FavoriteRemoval:
    """Remove a restaurant from the favourites (idempotent)."""
    return discovery_service.remove_favorite(
        actor=current_account(), user_id=query["user_id"], restaurant_id=query["restaurant_id"]
    )


@favorites_blp.route("/check", methods=["GET"])
@auth_required()
@favorites_blp.arguments(FavoriteQuerySchema, location="query")
@favorites_blp.response(200, FavoriteCheckSchema)
@favorites_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@favorites_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@favorites_blp.alt_response(404, schema=ErrorSchema, description="RESTAURANT_NOT_FOUND")
def check_favorite(query: dict[str, Any]) -> dict[str, bool]:
    """Tell whether the user favourited a restaurant."""
    favorite = discovery_service.is_favorite(
        actor=current_account(), user_id=query["user_id"], restaurant_id=query["restaurant_id"]
    )
    return {"is_favorite": favorite}


@favorites_blp.route("/<user_id>", methods=["GET"])
@auth_required()
@favorites_blp.arguments(FavoriteListQuerySchema, location="query")
@favorites_blp.response(200, FavoriteSchema(many=True))
@favorites_blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@favorites_blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@favorites_blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
def list_favorites(query: dict[str, Any], user_id: str) -> list[discovery_service.Favorite]:
    """List a user's favourites, latest first."""
    return discovery_service.list_favorites(actor=current_account(), user_id=user_id, limit=query["limit"])
