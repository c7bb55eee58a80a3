"""The newsletter form (seed 003): `POST /api/newsletter` and the unsubscribe link's target.

Both answer `200 {"success": true}`: a repeat signup is not an error, and the answer is the
same for a new and a known address, so the form cannot be used to learn who subscribed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from api.extensions import limiter
from api.newsletter import service
from api.newsletter.schemas import SignupSchema, SuccessSchema, UnsubscribeSchema
from api.schemas import ErrorSchema

blp = Blueprint("newsletter", __name__, url_prefix="/api/newsletter", description="Newsletter signups")


def _newsletter_limit() -> str:
    return current_app.config["SETTINGS"].ratelimit_newsletter


@blp.route("", methods=["POST"])
@limiter.limit(_newsletter_limit)
@blp.arguments(SignupSchema)
@blp.response(200, SuccessSchema)
@blp.alt_response(422, schema=ErrorSchema, description="BAD_EMAIL or VALIDATION_ERROR")
@blp.alt_response(429, schema=ErrorSchema, description="RATE_LIMITED (with Retry-After)")
def subscribe(body: dict[str, Any]) -> dict[str, bool]:
    """Subscribe an email address (repeat signups succeed and re-subscribe)."""
    service.subscribe(**body, now=datetime.now(UTC))
    return {"success": True}


@blp.route("/unsubscribe", methods=["POST"])
@limiter.limit(_newsletter_limit)
@blp.arguments(UnsubscribeSchema)
@blp.response(200, SuccessSchema)
@blp.alt_response(404, schema=ErrorSchema, description="SUBSCRIPTION_NOT_FOUND")
@blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
@blp.alt_response(429, schema=ErrorSchema, description="RATE_LIMITED (with Retry-After)")
def unsubscribe(body: dict[str, Any]) -> dict[str, bool]:
    """Unsubscribe with the secret token from the unsubscribe link."""
    service.unsubscribe(token=body["token"], now=datetime.now(UTC))
    return {"success": True}
