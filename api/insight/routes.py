"""Insight over HTTP: `/api/stats/<userId>` (the app frontend's profile figures)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_smorest import Blueprint

from api.accounts.authz import auth_required, current_account
from api.insight import service as insight_service
from api.insight.schemas import UserStatsSchema
from api.schemas import ErrorSchema

blp = Blueprint("stats", __name__, url_prefix="/api/stats", description="The app frontend's user stats")


@blp.route("/<user_id>", methods=["GET"])
@auth_required()
@blp.response(200, UserStatsSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="USER_MISMATCH")
@blp.alt_response(404, schema=ErrorSchema, description="USER_NOT_FOUND")
def user_stats(user_id: str) -> insight_service.UserStats:
    """Show a user's likes, reservations, account age, favourite cuisines and last activity."""
    return insight_service.user_stats(actor=current_account(), user_id=user_id, now=datetime.now(UTC))
