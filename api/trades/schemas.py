"""The wire shapes of trades (camelCase, like every Seatkeeper contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import fields, validate

from api.schemas import CamelCaseSchema
from api.trades import service


class TradeProposalSchema(CamelCaseSchema):
    requester_reservation_id = fields.UUID(required=True, metadata={"description": "Your booking, offered"})
    target_reservation_id = fields.UUID(required=True, metadata={"description": "The booking you would like instead"})
    message = fields.String(load_default="", validate=validate.Length(max=1000))


class TradeAnswerSchema(CamelCaseSchema):
    action = fields.String(required=True, validate=validate.OneOf(["accept", "reject", "withdraw"]))
    response_message = fields.String(load_default="", validate=validate.Length(max=1000))


class TradeBookingSchema(CamelCaseSchema):
    """One side of a trade: the booking as it stands now, in the restaurant's local time."""

    reservation_id = fields.UUID(attribute="id")
    confirmation_code = fields.String()
    date = fields.Function(lambda r: _local(r).date().isoformat())
    time = fields.Function(lambda r: _local(r).strftime("%H:%M"))
    starts_at = fields.DateTime()
    party_size = fields.Integer()
    table_number = fields.Integer(attribute="table.number")
    status = fields.String()


class TradeSchema(CamelCaseSchema):
    id = fields.UUID()
    restaurant_id = fields.UUID()
    status = fields.Function(
        lambda trade: service.shown_status(trade, datetime.now(UTC)),
        metadata={"enum": ["pending", "accepted", "rejected", "withdrawn", "expired"]},
    )
    message = fields.String()
    response_message = fields.String()
    requester_id = fields.UUID()
    target_id = fields.UUID()
    requester = fields.Nested(TradeBookingSchema, attribute="requester_reservation")
    target = fields.Nested(TradeBookingSchema, attribute="target_reservation")
    expires_at = fields.DateTime(metadata={"description": "The earlier booking's start"})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class TradeListsSchema(CamelCaseSchema):
    sent = fields.List(fields.Nested(TradeSchema))
    received = fields.List(fields.Nested(TradeSchema))


def _local(reservation: Any) -> datetime:
    return reservation.starts_at.astimezone(ZoneInfo(reservation.restaurant.timezone))
