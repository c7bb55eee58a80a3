"""Wire shapes of the staff's booking tools: approvals, phone and walk-in bookings, table blocks."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from api.booking.approvals import DECISIONS, MAX_REASON_LENGTH, REJECT
from api.booking.schemas import TrimmedEmail, WholeNumber
from api.schemas import CalendarDateTime, CamelCaseSchema

_TIME_DESCRIPTION = "ISO 8601. With Z or an offset it is an instant; without, the restaurant's wall clock."


# ---------------------------------------------------------------- approvals


class ApprovalSchema(CamelCaseSchema):
    """`{"action": "approve"}` or `{"action": "reject", "rejectionReason": "..."}`."""

    action = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    rejection_reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_REASON_LENGTH),
        metadata={"description": "Required to reject; shown to the guest"},
    )

    @validates_schema
    def _reason_to_reject(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("action") == REJECT and not (data.get("rejection_reason") or "").strip():
            raise ValidationError("Give the guest a reason for the rejection.", "rejectionReason")


class ApprovalItemSchema(ApprovalSchema):
    reservation_id = fields.UUID(required=True)

    @validates_schema
    def _reason_to_reject(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Checked per item by the service instead, so one bad item does not refuse the batch."""


class ApprovalBatchSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(ApprovalItemSchema), required=True, validate=validate.Length(min=1, max=100))


class DecisionErrorSchema(CamelCaseSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class DecisionSchema(CamelCaseSchema):
    """One item's answer: `ok` with the new `status`, or the `error` it met (nothing else changed for it)."""

    reservation_id = fields.UUID(required=True)
    ok = fields.Boolean(required=True)
    status = fields.String(allow_none=True)
    error = fields.Nested(DecisionErrorSchema, allow_none=True)


class DecisionBatchSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(DecisionSchema), required=True)


# ---------------------------------------------------------------- staff bookings


class StaffBookingCreateSchema(CamelCaseSchema):
    """A phone booking (`time` required) or a walk-in (`walkIn: true`, seated now)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))
    email = TrimmedEmail(load_default=None, allow_none=True, validate=validate.Length(max=254))
    party_size = WholeNumber(required=True, validate=validate.Range(min=1, max=100), metadata={"example": 2})
    time = CalendarDateTime(load_default=None, allow_none=True, metadata={"description": _TIME_DESCRIPTION})
    table_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "Best fit when absent"})
    walk_in = fields.Boolean(load_default=False, metadata={"description": "Seat the party now"})
    special_requests = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def _time_unless_walk_in(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("walk_in") and data.get("time") is None:
            raise ValidationError("Give the time, or walkIn: true.", "time")
        if not (data.get("name") or "").strip():
            raise ValidationError("Give the guest's name.", "name")
        if not (data.get("phone") or "").strip():
            raise ValidationError("Give the guest's phone number.", "phone")


# ---------------------------------------------------------------- table blocks


class TableBlockCreateSchema(CamelCaseSchema):
    start = CalendarDateTime(required=True, metadata={"description": _TIME_DESCRIPTION})
    end = CalendarDateTime(required=True, metadata={"description": _TIME_DESCRIPTION + " Exclusive."})
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class TableBlockSchema(CamelCaseSchema):
    id = fields.UUID(required=True)
    table_id = fields.UUID(required=True)
    start = fields.DateTime(required=True, attribute="starts_at")
    end = fields.DateTime(required=True, attribute="ends_at")
    reason = fields.String(required=True)
    created_at = fields.DateTime()
