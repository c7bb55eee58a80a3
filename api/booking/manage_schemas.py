"""Wire shapes of the guest manage link (`/api/manage/<token>`)."""

from __future__ import annotations

from marshmallow import fields

from api.booking.app_schemas import AppChangeSchema, Dollars
from api.booking.models import ReservationStatus
from api.schemas import CamelCaseSchema


class ManagedReservationSchema(CamelCaseSchema):
    """The booking a manage link opens, in the restaurant's local time."""

    confirmation_code = fields.String(metadata={"example": "FT-ABC234"})
    restaurant_id = fields.UUID()
    date = fields.Date(metadata={"example": "2026-12-04"})
    time = fields.Function(lambda m: m.time.strftime("%H:%M"), metadata={"example": "19:00"})
    party_size = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in ReservationStatus]})
    restaurant_name = fields.String()
    special_requests = fields.String()
    timezone = fields.String(metadata={"example": "America/New_York"})
    deposit = Dollars(attribute="deposit_cents", metadata={"description": "Dollars"})
    cancellable = fields.Boolean(metadata={"description": "Whether DELETE would cancel it now"})
    refund_if_cancelled = Dollars(
        attribute="refund_cents_if_cancelled", metadata={"description": "Dollars refunded if cancelled now"}
    )


class ManageCancelResultSchema(CamelCaseSchema):
    success = fields.Boolean()
    message = fields.String()
    refund_amount = Dollars(attribute="refund_cents", metadata={"description": "Dollars"})
    refund_percentage = fields.Integer(attribute="refund_percent")


class ManageChangeSchema(AppChangeSchema):
    """`PATCH /api/manage/<token>`: `{date?, time?, partySize?, specialRequests?}` (the token is the guest)."""

    class Meta(AppChangeSchema.Meta):
        exclude = ("user_id",)
