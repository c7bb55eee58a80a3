"""The guest manage link's API: `/api/manage/<token>` (api/booking/manage.py explains the tokens).

No account and no Authorization header: the token in the path is the credential. Rate-limited per
client address (`RATELIMIT_MANAGE`); a wrong token is 404 and a stale one 410, never another booking.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.booking import changes, manage
from api.booking.manage_schemas import ManageCancelResultSchema, ManageChangeSchema, ManagedReservationSchema
from api.extensions import limiter
from api.ratelimit import RATE_LIMITED, setting
from api.schemas import ErrorSchema

blp = Blueprint("manage", __name__, url_prefix="/api/manage", description="Guest manage links (no account)")

_NOT_FOUND = {"schema": ErrorSchema, "description": "MANAGE_LINK_NOT_FOUND (wrong or guessed token)"}
_GONE = {
    "schema": ErrorSchema,
    "description": "MANAGE_LINK_EXPIRED: the stay has ended, or the booking is cancelled, rejected, completed or a "
    "no-show (details.status)",
}


@blp.after_request
def _no_store(response: Response) -> Response:
    """The URL holds the secret and the answer a guest's booking: no cache keeps either."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _now() -> datetime:
    return datetime.now(UTC)


# One budget per client address for every method: GET, PATCH and DELETE count together.
_manage_limit = limiter.shared_limit(setting("ratelimit_manage"), scope="manage-link")


@blp.route("/<token>")
class ManagedReservation(MethodView):
    @_manage_limit
    @blp.response(200, ManagedReservationSchema)
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(410, **_GONE)
    @blp.alt_response(429, **RATE_LIMITED)
    def get(self, token: str) -> Any:
        """Show the booking a manage link opens."""
        return manage.view_reservation(token=token, now=_now())

    @_manage_limit
    @blp.arguments(ManageChangeSchema)
    @blp.response(200, ManagedReservationSchema)
    @blp.alt_response(
        402, schema=ErrorSchema, description="PAYMENT_DECLINED, PAYMENT_METHOD_REQUIRED (a larger deposit)"
    )
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="FULLY_BOOKED, RACE_LOST, DUPLICATE_BOOKING, TOO_LATE_TO_CHANGE, INVALID_TRANSITION: "
        "nothing changed",
    )
    @blp.alt_response(410, **_GONE)
    @blp.alt_response(422, schema=ErrorSchema, description="BAD_TIME, BAD_GUESTS or VALIDATION_ERROR")
    @blp.alt_response(429, **RATE_LIMITED)
    @blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT, PAYMENT_GATEWAY_ERROR (retrying is safe)")
    def patch(self, body: dict[str, Any], token: str) -> Any:
        """Change the date, time, party size or requests of the booking a manage link opens (the guest's rules)."""
        return manage.change_reservation(token=token, requested=changes.ReservationChange(**body), now=_now())

    @_manage_limit
    @blp.response(200, ManageCancelResultSchema)
    @blp.alt_response(404, **_NOT_FOUND)
    @blp.alt_response(409, schema=ErrorSchema, description="INVALID_TRANSITION (the party is already seated)")
    @blp.alt_response(410, **_GONE)
    @blp.alt_response(429, **RATE_LIMITED)
    def delete(self, token: str) -> Any:
        """Cancel the booking a manage link opens; the deposit is refunded by the booking's policy."""
        return manage.cancel_reservation(token=token, now=_now())
