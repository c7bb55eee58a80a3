"""`/api/trades`: guests swap reservations (seed 002). Signed-in guests only; each sees the trades they are in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.accounts.authz import auth_required, current_account
from api.schemas import ErrorSchema
from api.trades import service
from api.trades.schemas import TradeAnswerSchema, TradeListsSchema, TradeProposalSchema, TradeSchema

blp = Blueprint("trades", __name__, url_prefix="/api/trades", description="Guests swapping reservations")


def _now() -> datetime:
    return datetime.now(UTC)


@blp.route("")
class Trades(MethodView):
    @auth_required()
    @blp.arguments(TradeProposalSchema)
    @blp.response(201, TradeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(404, schema=ErrorSchema, description="RESERVATION_NOT_FOUND (yours, or the other)")
    @blp.alt_response(409, schema=ErrorSchema, description="TRADE_NOT_POSSIBLE or TRADE_EXISTS")
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    def post(self, body: dict[str, Any]) -> Any:
        """Propose to swap your booking for another guest's at the same restaurant."""
        return service.propose(actor=current_account(), **body, now=_now())

    @auth_required()
    @blp.response(200, TradeListsSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    def get(self) -> service.TradeLists:
        """List the trades you proposed (sent) and were offered (received), newest first."""
        return service.list_trades(actor=current_account())


@blp.route("/<uuid:trade_id>")
class TradeDetail(MethodView):
    @auth_required()
    @blp.response(200, TradeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(404, schema=ErrorSchema, description="TRADE_NOT_FOUND (also one you are not in)")
    def get(self, trade_id: uuid.UUID) -> Any:
        """Show one trade you are in."""
        return service.get_trade(actor=current_account(), trade_id=trade_id)

    @auth_required()
    @blp.arguments(TradeAnswerSchema)
    @blp.response(200, TradeSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
    @blp.alt_response(403, schema=ErrorSchema, description="FORBIDDEN (the other guest's action)")
    @blp.alt_response(404, schema=ErrorSchema, description="TRADE_NOT_FOUND")
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="TRADE_CLOSED, TRADE_STALE, TRADE_NOT_POSSIBLE or TRADE_CONFLICT (nothing changed)",
    )
    @blp.alt_response(422, schema=ErrorSchema, description="VALIDATION_ERROR")
    @blp.alt_response(503, schema=ErrorSchema, description="LOCK_TIMEOUT (retry after a second)")
    def post(self, body: dict[str, Any], trade_id: uuid.UUID) -> Any:
        """Accept or reject a trade offered to you (with a message), or withdraw one you proposed."""
        return service.respond(actor=current_account(), trade_id=trade_id, **body, now=_now())
