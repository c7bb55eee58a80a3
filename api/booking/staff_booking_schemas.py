"""Wire shapes of the staff's booking tools: approvals, phone and walk-in bookings, table blocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from api.booking.approvals import DECISIONS, MAX_REASON_LENGTH, REJECT
from api.booking.schemas import SlotFilter, TrimmedEmail, WholeNumber
from api.schemas import CalendarDate, CalendarDateTime, CamelCaseSchema

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
    """A phone booking (`time`, with `date` when it is a wall time) or a walk-in (`walkIn: true`, seated now).

    The staff console sends `date` (`YYYY-MM-DD`) and `time` (`HH:MM`) on the restaurant's wall
    clock, and may name the table by `tableNumber`; API clients may send one ISO 8601 `time` and
    `tableId` instead.
    """

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))
    email = TrimmedEmail(load_default=None, allow_none=True, validate=validate.Length(max=254))
    party_size = WholeNumber(required=True, validate=validate.Range(min=1, max=100), metadata={"example": 2})
    date = CalendarDate(
        load_default=None, allow_none=True, metadata={"description": "The local day, with an HH:MM time"}
    )
    time = SlotFilter(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "A local wall time (19:00) on `date`, or " + _TIME_DESCRIPTION,
            "anyOf": [
                {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                {"type": "string", "format": "date-time"},
            ],
        },
    )
    table_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "Best fit when absent"})
    table_number = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0), metadata={"description": "Or by number"}
    )
    walk_in = fields.Boolean(load_default=False, metadata={"description": "Seat the party now"})
    special_requests = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def _time_unless_walk_in(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("walk_in"):
            when = data.get("time")
            if when is None:
                raise ValidationError("Give the time, or walkIn: true.", "time")
            if isinstance(when, dt.time) and data.get("date") is None:
                raise ValidationError("Give the date of this local time.", "date")
        if data.get("table_id") is not None and data.get("table_number") is not None:
            raise ValidationError("Name the table by tableId or by tableNumber, not both.", "tableNumber")
        if not (data.get("name") or "").strip():
            raise ValidationError("Give the guest's name.", "name")
        if not (data.get("phone") or "").strip():
            raise ValidationError("Give the guest's phone number.", "phone")

    @post_load
    def _one_time(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """`date` + `HH:MM` become one naive wall time (read in the restaurant's zone by the service)."""
        day, when = data.pop("date"), data.get("time")
        if isinstance(when, dt.time):
            # Without a date only a walk-in gets here (validated above), and a walk-in starts now.
            data["time"] = dt.datetime.combine(day, when) if day is not None else None
        return data


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
