"""Wire shapes of the app frontend's reservation flow (seed 000, endpoints 1-6).

Field names, nesting and types are the seed's contract: dollars as plain numbers (`50`,
`12.5`) while we keep integer cents inside, instants as epoch milliseconds, local `date`
("YYYY-MM-DD") and `time` ("HH:MM") in the restaurant's own time zone. The real FoodTok
client reads more than the seed lists (issue 14): `remainingCapacity` per slot, the whole
`Reservation` (restaurant name, image, cuisines, address, payment, statuses with "no-show"),
and it names restaurants by their Yelp id, so every `restaurantId` accepts ours or a
registered external id and answers with the one the app knows (`Restaurant.app_id`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields, validate

from api.payments import service as payments_service
from api.schemas import CalendarDate, CamelCaseSchema, EpochMillis


def dollars(cents: int) -> int | float:
    """Cents as the seed's dollar number: 5000 -> 50, 1250 -> 12.5."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _local_start(obj: Any) -> datetime:
    return obj.starts_at.astimezone(ZoneInfo(obj.restaurant.timezone))


def _local_date(obj: Any) -> str:
    return _local_start(obj).date().isoformat()


def _local_time(obj: Any) -> str:
    return _local_start(obj).strftime("%H:%M")


def _app_restaurant_id(obj: Any) -> str:
    return obj.restaurant.app_id


# The app spells the status enum with a hyphen.
_APP_STATUS = {"no_show": "no-show"}


def _app_status(reservation: Any) -> str:
    return _APP_STATUS.get(reservation.status, reservation.status)


def _payment_method(reservation: Any) -> dict[str, str] | None:
    if not reservation.payment_last4:
        return None
    return {"type": "credit-card", "last4": reservation.payment_last4, "cardBrand": reservation.payment_brand or ""}


_RESTAURANT_ID = {"description": "Our UUID or a registered external id (a Yelp business id)"}


class Dollars(fields.Float):
    """Integer cents inside, a dollar number on the wire (dump only)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | float | None:
        return None if value is None else dollars(int(value))


class _QuerySchema(CamelCaseSchema):
    class Meta:
        unknown = ma.EXCLUDE


# --- 1. availability --------------------------------------------------------------------------


class AppAvailabilityRequestSchema(CamelCaseSchema):
    restaurant_id = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata=_RESTAURANT_ID)
    service_date = CalendarDate(required=True, data_key="date", metadata={"example": "2026-11-15"})
    party_size = fields.Integer(required=True, strict=True, metadata={"example": 2})


@dataclass(frozen=True)
class _SlotView:
    """A slot with its day's deposit: the app reads `depositPerPerson` on each slot."""

    slot: Any
    available: bool
    available_tables: int
    total_tables: int
    deposit_per_person_cents: int

    @property
    def remaining_capacity(self) -> int:
        return self.available_tables


class AppSlotSchema(CamelCaseSchema):
    time = fields.Function(lambda s: s.slot.local_time.strftime("%H:%M"), metadata={"example": "19:00"})
    available = fields.Boolean()
    remaining_capacity = fields.Integer(metadata={"description": "Tables free for the party (= availableTables)"})
    available_tables = fields.Integer()
    total_tables = fields.Integer()
    deposit_per_person = Dollars(attribute="deposit_per_person_cents")


class AppAvailabilitySchema(CamelCaseSchema):
    restaurant_id = fields.Function(_app_restaurant_id, metadata=_RESTAURANT_ID)
    date = fields.Date(attribute="service_date")
    slots = fields.List(fields.Nested(AppSlotSchema))
    deposit_per_person = Dollars(attribute="deposit_per_person_cents")
    total_deposit = Dollars(attribute="total_deposit_cents")

    @ma.pre_dump
    def _slot_views(self, day: Any, **_kwargs: Any) -> Any:
        deposit = day.deposit_per_person_cents
        views = [_SlotView(s.slot, s.available, s.available_tables, s.total_tables, deposit) for s in day.slots]
        return dataclasses.replace(day, slots=views)


# --- 2. hold ----------------------------------------------------------------------------------


class AppHoldCreateSchema(CamelCaseSchema):
    user_id = fields.String(
        load_default=None, metadata={"description": 'The caller\'s id or "current_user" (others: staff only)'}
    )
    restaurant_id = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata=_RESTAURANT_ID)
    service_date = CalendarDate(required=True, data_key="date", metadata={"example": "2026-11-15"})
    wall_time = fields.Time(
        required=True,
        data_key="time",
        metadata={"example": "19:00", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"},
    )
    party_size = fields.Integer(required=True, strict=True, metadata={"example": 2})


class AppHoldSchema(CamelCaseSchema):
    hold_id = fields.UUID(attribute="id")
    user_id = fields.UUID()
    restaurant_id = fields.Function(_app_restaurant_id, metadata=_RESTAURANT_ID)
    restaurant_name = fields.Function(lambda h: h.restaurant.name)
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
    restaurant_id = fields.Function(_app_restaurant_id, metadata=_RESTAURANT_ID)
    restaurant_name = fields.Function(lambda h: h.restaurant.name)
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    expires_at = EpochMillis()


# --- 4. confirm -------------------------------------------------------------------------------


class AppPaymentMethodSchema(CamelCaseSchema):
    """A gateway token, or the app's card-shaped `{type: "credit-card", last4, cardholderName,
    expiryMonth, expiryYear}` without one: the local fake gateway charges the test card with
    those last 4 (4242 pays, 0002 is declined); Stripe answers 422 PAYMENT_TOKEN_REQUIRED.
    Brand and last 4 stored with the reservation always come from the gateway."""

    class Meta:
        unknown = ma.EXCLUDE

    type = fields.String(load_default="card", validate=validate.Length(max=40))
    token = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    payment_method_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    last4 = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$"),
        metadata={"description": "Used only without a token, by the fake gateway"},
    )
    card_brand = fields.String(load_default=None, metadata={"description": "Ignored: the gateway reports it"})
    cardholder_name = fields.String(load_default=None, metadata={"description": "Ignored"})
    expiry_month = fields.Raw(load_default=None, metadata={"description": "Ignored"})
    expiry_year = fields.Raw(load_default=None, metadata={"description": "Ignored"})

    @ma.post_load
    def _token(self, data: dict[str, Any], **_kwargs: Any) -> str:
        token = data.get("payment_method_id") or data.get("token")
        return token or payments_service.token_for_card(last4=data.get("last4"))


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


class AppPaymentSummarySchema(CamelCaseSchema):
    type = fields.String(metadata={"example": "credit-card"})
    last4 = fields.String(metadata={"example": "4242"})
    card_brand = fields.String(metadata={"example": "Visa"})


class AppReservationSchema(CamelCaseSchema):
    """The app's `Reservation`, as confirm, the user's list and the guest's own read answer it."""

    reservation_id = fields.UUID(attribute="id")
    confirmation_code = fields.String(metadata={"example": "FT-ABC234"})
    user_id = fields.UUID()
    restaurant_id = fields.Function(_app_restaurant_id, metadata=_RESTAURANT_ID)
    restaurant_name = fields.Function(lambda r: r.restaurant.name)
    restaurant_image = fields.Function(lambda r: (r.restaurant.images or [None])[0], allow_none=True)
    restaurant_cuisine = fields.List(fields.String(), attribute="restaurant.cuisines")
    restaurant_address = fields.Function(lambda r: r.restaurant.full_address)
    date = fields.Function(_local_date)
    time = fields.Function(_local_time)
    party_size = fields.Integer()
    deposit_amount = Dollars(attribute="deposit_cents")
    deposit_paid = fields.Boolean()
    payment_method = fields.Function(_payment_method, allow_none=True)
    special_requests = fields.String()
    status = fields.Function(
        _app_status, metadata={"enum": ["pending", "confirmed", "modified", "cancelled", "completed", "no-show"]}
    )
    created_at = EpochMillis()
    modified_at = EpochMillis(allow_none=True, metadata={"description": "When its time, party or requests changed"})
    cancelled_at = EpochMillis(allow_none=True)


class AppConfirmResultSchema(CamelCaseSchema):
    reservation = fields.Nested(AppReservationSchema)
    message = fields.String()


# --- 5. user reservations ---------------------------------------------------------------------


class AppUserReservationsQuerySchema(_QuerySchema):
    filter = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "past"]))


class AppUserReservationSchema(AppReservationSchema):
    """The app's `Reservation` plus seed 000's `cuisine` (the same list as `restaurantCuisine`)."""

    cuisine = fields.Function(lambda r: list(r.restaurant.cuisines or []))


class AppReservationQuerySchema(_QuerySchema):
    user_id = fields.String(
        load_default=None, metadata={"description": "The caller's id or \"current_user\": the guest's own read"}
    )


# --- change (PATCH) ---------------------------------------------------------------------------


class AppChangeSchema(CamelCaseSchema):
    """The app's `PATCH /reservations/<id>` body: `{userId, date?, time?, partySize?, specialRequests?}`.

    Staff send no `userId` (or the guest's). A date alone keeps the local time, a time alone the date."""

    class Meta:
        unknown = ma.EXCLUDE

    user_id = fields.String(
        load_default=None, metadata={"description": 'The caller\'s id or "current_user"; staff may omit it'}
    )
    service_date = CalendarDate(load_default=None, data_key="date", metadata={"example": "2026-11-15"})
    wall_time = fields.Time(
        load_default=None,
        data_key="time",
        metadata={"example": "20:00", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"},
    )
    party_size = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=100))
    special_requests = fields.String(load_default=None, validate=validate.Length(max=500))

    @ma.validates_schema
    def _something_to_change(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if all(data.get(name) is None for name in ("service_date", "wall_time", "party_size", "special_requests")):
            raise ma.ValidationError("Send at least one of date, time, partySize, specialRequests.", "_schema")


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
