"""The waitlist's wire shapes."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas import CalendarDate, CamelCaseSchema

_WALL = {"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}


class WaitlistJoinSchema(CamelCaseSchema):
    service_date = CalendarDate(required=True, data_key="date", metadata={"example": "2026-12-24"})
    window_start = fields.Time(required=True, data_key="startTime", metadata={"example": "19:00", **_WALL})
    window_end = fields.Time(required=True, data_key="endTime", metadata={"example": "21:00", **_WALL})
    party_size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class WaitlistDayQuerySchema(CamelCaseSchema):
    service_date = CalendarDate(required=True, data_key="date")


class WaitlistOfferSchema(CamelCaseSchema):
    hold_id = fields.UUID(attribute="offer_hold_id", metadata={"description": "Confirm it to claim the table"})
    expires_at = fields.DateTime(attribute="offer_expires_at")


class WaitlistEntrySchema(CamelCaseSchema):
    id = fields.UUID()
    restaurant_id = fields.UUID()
    user_id = fields.UUID()
    date = fields.Date(attribute="service_date")
    start_time = fields.Time(attribute="window_start", format="%H:%M")
    end_time = fields.Time(attribute="window_end", format="%H:%M")
    party_size = fields.Integer()
    status = fields.String(metadata={"enum": ["waiting", "offered", "booked", "lapsed", "left", "expired"]})
    position = fields.Integer(allow_none=True, metadata={"description": "1 = next in line; null unless waiting"})
    offer = fields.Method("_offer", allow_none=True, metadata={"description": "The held table while offered"})
    created_at = fields.DateTime()

    def _offer(self, view: object) -> dict[str, object] | None:
        if getattr(view, "status", None) != "offered":
            return None
        return WaitlistOfferSchema().dump(view)
