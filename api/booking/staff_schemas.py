"""Wire shapes of a reservation's history and the staff's status actions (api/booking/staff_routes.py)."""

from __future__ import annotations

from marshmallow import fields, validate

from api.booking.schemas import ReservationSchema
from api.schemas import CamelCaseSchema

REASON_MAX = 500


class ActionReasonSchema(CamelCaseSchema):
    """An optional note on a seat, complete or no-show, kept in the audit row."""

    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX))


class StaffCancelSchema(CamelCaseSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=REASON_MAX),
        metadata={"description": "Why the restaurant cancels; shown in the history"},
    )


class ExtendSchema(CamelCaseSchema):
    minutes = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=5, max=240),
        metadata={"description": "How much longer the seated party stays"},
    )


class ReservationEventSchema(CamelCaseSchema):
    """One audit row: who did what, when, and the status before and after."""

    at = fields.DateTime(required=True)
    actor_role = fields.String(
        required=True, metadata={"description": "guest, staff, admin, system (the worker) or link (a manage link)"}
    )
    actor_id = fields.UUID(allow_none=True, metadata={"description": "The user who acted, if any"})
    action = fields.String(
        required=True, metadata={"description": "approve, reject, seat, complete, no_show, cancel, change, extend, …"}
    )
    from_status = fields.String(allow_none=True, required=True)
    to_status = fields.String(required=True)
    reason = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "What changed: {field: [old, new]}"})


class ReservationHistorySchema(CamelCaseSchema):
    reservation_id = fields.UUID(required=True)
    status = fields.String(required=True)
    events = fields.List(fields.Nested(ReservationEventSchema), required=True)


class StaffCancelResultSchema(CamelCaseSchema):
    reservation_id = fields.UUID(required=True)
    status = fields.String(required=True)
    refund_percent = fields.Integer(required=True)
    refund_cents = fields.Integer(required=True)
    message = fields.String(required=True)


class MovedBookingSchema(CamelCaseSchema):
    reservation_id = fields.UUID(required=True)
    confirmation_code = fields.String(required=True)
    from_table_number = fields.Integer(required=True)
    to_table_number = fields.Integer(required=True)


class ExtendedSchema(CamelCaseSchema):
    reservation = fields.Nested(ReservationSchema, required=True)
    moved = fields.List(
        fields.Nested(MovedBookingSchema),
        required=True,
        metadata={"description": "Later bookings moved to another table so the party keeps its own"},
    )
