"""Wire shapes of the app frontend's reservation flow (seed 000, endpoints 1-6).

Field names, nesting and types are the seed's contract: dollars as plain numbers (`50`,
`12.5`) while we keep integer cents inside, instants as epoch milliseconds, local `date`
("YYYY-MM-DD") and `time` ("HH:MM") in the restaurant's own time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields, validate

from api.payments import service as payments_service
from api.schemas import CalendarDate, CamelCaseSchema

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dollars(cents: int) -> int | float:
    """Cents as the seed's dollar number: 5000 -> 50, 1250 -> 12.5."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def _local_start(obj: Any) -> datetime:
    return obj.starts_at.astimezone(ZoneInfo(obj.restaurant.timezone))


def _local_date(obj: Any) -> str:
    return _local_start(obj).date().isoformat()


def _local_time(obj: Any) -> str:
    return _local_start(obj).strftime("%H:%M")


class Dollars(fields.Float):
    """Integer cents inside, a dollar number on the wire (dump only)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | float | None:
        return None if value is None else dollars(int(value))


class EpochMillis(fields.Integer):
    """An aware datetime as milliseconds since the Unix epoch (dump only)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else epoch_millis(value)


class _QuerySchema(CamelCaseSchema):
    class Meta:
        unknown = ma.EXCLUDE


# --- 1. availability --------------------------------------------------------------------------


class AppAvailabilityRequestSchema(CamelCaseSchema):
    restaurant_id = fields.UUID(required=True)
    service_date = CalendarDate(required=True, data_key="date", metadata={"example": "2026-11-15"})
    party_size = fields.Integer(required=True, strict=True, metadata={"example": 2})


class AppSlotSchema(CamelCaseSchema):
    time = fields.Function(lambda s: s.slot.local_time.strftime("%H:%M"), metadata={"example": "19:00"})
    available = fields.Boolean()
    available_tables = fields.Integer()
    total_tables = fields.Integer()


class AppAvailabilitySchema(CamelCaseSchema):
    slots = fields.List(fields.Nested(AppSlotSchema))
    deposit_per_person = Dollars(attribute="deposit_per_person_cents")
    total_deposit = Dollars(attribute="total_deposit_cents")


# --- 2. hold ----------------------------------------------------------------------------------


class AppHoldCreateSchema(CamelCaseSchema):
    user_id = fields.String(load_default=None, metadata={"description": "Must be the caller's id unless staff"})
    restaurant_id = fields.UUID(required=True)
    service_date = CalendarDate(required=True, data_key="date", metadata={"example": "2026-11-15"})
    wall_time = fields.Time(required=True, data_key="time", metadata={"example": "19:00"})
    party_size = fields.Integer(required=True, strict=True, metadata={"example": 2})


class AppHoldSchema(CamelCaseSchema):
    hold_id = fields.UUID(attribute="id")
    user_id = fields.UUID()
    restaurant_id = fields.UUID()
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    created_at = EpochMillis()
    expires_at = EpochMillis()


class AppHoldCreatedSchema(CamelCaseSchema):
    hold = fields.Nested(AppHoldSchema)
    total_deposit = Dollars(attribute="total_deposit_cents")
    expires_in = fields.Integer(metadata={"description": "Seconds until the hold expires"})


# --- 3. active hold ---------------------------------------------------------------------------


class AppActiveHoldQuerySchema(_QuerySchema):
    user_id = fields.String(load_default=None)


class AppActiveHoldSchema(CamelCaseSchema):
    hold_id = fields.UUID(attribute="id")
    restaurant_id = fields.UUID()
    restaurant_name = fields.Function(lambda h: h.restaurant.name)
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    expires_at = EpochMillis()


# --- 4. confirm -------------------------------------------------------------------------------


class AppPaymentMethodSchema(CamelCaseSchema):
    """The seed's `{type, last4, cardBrand}` plus a gateway token; `last4`/`cardBrand` are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    type = fields.String(load_default="card", validate=validate.Length(max=40))
    token = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    payment_method_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    last4 = fields.String(load_default=None, metadata={"description": "Ignored: the gateway reports it"})
    card_brand = fields.String(load_default=None, metadata={"description": "Ignored: the gateway reports it"})

    @ma.validates_schema
    def _needs_token(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not (data.get("token") or data.get("payment_method_id")):
            raise ma.ValidationError("Send a gateway token in `token` or `paymentMethodId`.", "token")

    @ma.post_load
    def _token(self, data: dict[str, Any], **_kwargs: Any) -> str:
        return data.get("payment_method_id") or data["token"]


class AppConfirmSchema(CamelCaseSchema):
    hold_id = fields.UUID(required=True)
    user_id = fields.String(load_default=None)
    payment_method = fields.Nested(AppPaymentMethodSchema, required=True)
    special_requests = fields.String(load_default="", allow_none=True, validate=validate.Length(max=500))

    @ma.pre_load
    def _refuse_card_numbers(self, data: Any, **_kwargs: Any) -> Any:
        # Before any field is read: a body with a card number is refused whole (422
        # RAW_CARD_REJECTED), never echoed, never stored (not even as an idempotency hash).
        payments_service.reject_raw_card_data(data)
        return data


class AppReservationSchema(CamelCaseSchema):
    reservation_id = fields.UUID(attribute="id")
    confirmation_code = fields.String(metadata={"example": "FT-ABC234"})
    user_id = fields.UUID()
    restaurant_id = fields.UUID()
    restaurant_name = fields.Function(lambda r: r.restaurant.name)
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    status = fields.String()
    created_at = EpochMillis()


class AppConfirmResultSchema(CamelCaseSchema):
    reservation = fields.Nested(AppReservationSchema)
    message = fields.String()


# --- 5. user reservations ---------------------------------------------------------------------


class AppUserReservationsQuerySchema(_QuerySchema):
    filter = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "past"]))


class AppUserReservationSchema(CamelCaseSchema):
    reservation_id = fields.UUID(attribute="id")
    confirmation_code = fields.String()
    restaurant_id = fields.UUID()
    restaurant_name = fields.Function(lambda r: r.restaurant.name)
    restaurant_image = fields.Function(lambda r: (r.restaurant.images or [None])[0], allow_none=True)
    cuisine = fields.Function(lambda r: list(r.restaurant.cuisines or []))
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    status = fields.String()
    created_at = EpochMillis()


# --- 6. cancel --------------------------------------------------------------------------------


class AppCancelSchema(CamelCaseSchema):
    user_id = fields.String(load_default=None)


class AppCancelResultSchema(CamelCaseSchema):
    success = fields.Boolean()
    message = fields.String()
    refund_amount = Dollars(attribute="refund_cents")
    refund_percentage = fields.Integer(attribute="refund_percent")


class AppRefundQuoteSchema(CamelCaseSchema):
    reservation_id = fields.UUID()
    cancellable = fields.Boolean()
    deposit_amount = Dollars(attribute="deposit_cents")
    refund_amount = Dollars(attribute="refund_cents")
    refund_percentage = fields.Integer(attribute="refund_percent")
    hours_until_start = fields.Float(metadata={"description": "Hours from now to the reservation's start"})
