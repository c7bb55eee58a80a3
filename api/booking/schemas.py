"""Wire shapes of the Café Fausse website's reservation endpoints (seed 003).

The website's client switches on `code`: a bad `time`, `guests` or `email` answers 422 with
BAD_TIME, BAD_GUESTS or BAD_EMAIL whether the schema or the service catches it, so these
schemas raise the field's own code instead of the generic VALIDATION_ERROR.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import fields, pre_load, validate

from api.booking.app_schemas import AppReservationSchema
from api.booking.models import ReservationStatus
from api.booking.service import ReservationDetails
from api.errors import ErrorCode, Unprocessable
from api.schemas import CalendarDate, CalendarDateTime, CamelCaseSchema, PageQuerySchema, PaginationSchema

_FIELD_MESSAGES = {
    ErrorCode.BAD_TIME: "time must be an ISO 8601 date and time, e.g. 2025-09-10T19:00:00-04:00.",
    ErrorCode.BAD_GUESTS: "guests must be a whole number of people.",
    ErrorCode.BAD_EMAIL: "email must be a valid email address.",
    ErrorCode.BAD_DATE: "date must be a calendar date, YYYY-MM-DD.",
}


class FieldCodesMixin:
    """Answer a field's own error code (the first in `field_codes` order) instead of VALIDATION_ERROR.

    marshmallow calls `handle_error` before raising; raising our `Unprocessable` here skips
    webargs' generic 422 and lands in the app's `AppError` handler with the field messages.
    """

    field_codes: ClassVar[dict[str, ErrorCode]] = {}

    def handle_error(self, error: ma.ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        for name, code in self.field_codes.items():
            wire_name = self.fields[name].data_key or name  # type: ignore[attr-defined]
            if wire_name in messages:
                raise Unprocessable(code, _FIELD_MESSAGES[code], details={"fields": messages})


class WholeNumber(fields.Integer):
    """An integer, or a string of one; 2.5 is refused rather than truncated to 2."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class TrimmedEmail(fields.Email):
    """An email address; the spaces a phone keyboard adds around it are not an error."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value.strip() if isinstance(value, str) else value, attr, data, **kwargs)


class SlotFilter(fields.Field):
    """A local wall time (`19:00`) or an ISO 8601 date and time (with or without offset)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Give a local time (HH:MM) or an ISO 8601 time."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time | dt.datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            wall = dt.time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if wall.tzinfo is not None:
                raise self.make_error("invalid")
            return wall
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as err:
            raise self.make_error("invalid") from err


class SlotInstant(fields.DateTime):
    """The slot, read from `starts_at` (marshmallow refuses two fields naming one attribute)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing) -> Any:
        return super().get_value(obj, "starts_at", accessor, default)


# ---------------------------------------------------------------- input


class ReservationCreateSchema(FieldCodesMixin, CamelCaseSchema):
    """`{time, guests, name, email, phone?}`: a time without offset is the restaurant's local time."""

    field_codes: ClassVar[dict[str, ErrorCode]] = {
        "time": ErrorCode.BAD_TIME,
        "guests": ErrorCode.BAD_GUESTS,
        "email": ErrorCode.BAD_EMAIL,
    }

    time = CalendarDateTime(
        required=True,
        metadata={
            "description": "ISO 8601. With Z or an offset it is an instant; without, the restaurant's wall "
            "clock. Rounded down to the slot (19:12 -> 19:00).",
            "example": "2025-09-10T19:00:00-04:00",
        },
    )
    guests = WholeNumber(required=True, metadata={"description": "Party size", "example": 2})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = TrimmedEmail(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default="", allow_none=True, validate=validate.Length(max=40))


class AvailabilityQuerySchema(FieldCodesMixin, CamelCaseSchema):
    """`?time=ISO8601` (an instant, or the restaurant's wall clock when it has no offset)."""

    class Meta:
        unknown = ma.EXCLUDE

    field_codes: ClassVar[dict[str, ErrorCode]] = {"time": ErrorCode.BAD_TIME}

    time = CalendarDateTime(required=True, metadata={"example": "2025-09-10T19:12:00-04:00"})


class DayListQuerySchema(FieldCodesMixin, PageQuerySchema):
    """`?date=YYYY-MM-DD&page=&page_size=` (seed 003's snake_case `page_size`; `pageSize` works too) and filters."""

    field_codes: ClassVar[dict[str, ErrorCode]] = {"date": ErrorCode.BAD_DATE, "slot": ErrorCode.BAD_TIME}

    date = CalendarDate(required=True, metadata={"description": "The restaurant's local service day"})
    restaurant_id = fields.UUID(
        data_key="restaurantId",
        load_default=None,
        metadata={"description": "Defaults to the website's restaurant (DEFAULT_RESTAURANT_SLUG)"},
    )
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    table = fields.Integer(load_default=None, validate=validate.Range(min=0), metadata={"description": "Table number"})
    slot = SlotFilter(
        load_default=None,
        metadata={
            "description": "Local wall time (19:00) or ISO 8601 instant",
            "anyOf": [
                {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                {"type": "string", "format": "date-time"},
            ],
        },
    )
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in ReservationStatus]))

    @pre_load
    def accept_camel_page_size(self, data: Any, **kwargs: Any) -> Any:
        if "pageSize" in data and "page_size" not in data:
            data = {**data, "page_size": data["pageSize"]}
        return data


# ---------------------------------------------------------------- output


class AvailabilitySchema(CamelCaseSchema):
    """Seed 003's availability: tables in the slot, taken and free."""

    total_tables = fields.Integer(required=True)
    booked = fields.Integer(required=True)
    available = fields.Integer(required=True)
    slot = fields.DateTime(
        required=True, attribute="slot.starts_at", metadata={"description": "The rounded slot (UTC)"}
    )


class ReservationCreatedSchema(CamelCaseSchema):
    """Seed 003's `{reservationId, tableNumber, slot}` and what the guest needs at the door."""

    reservation_id = fields.UUID(required=True, attribute="id")
    table_number = fields.Integer(required=True, attribute="table.number")
    slot = SlotInstant(required=True, metadata={"description": "The rounded slot (UTC), as startsAt"})
    confirmation_code = fields.String(required=True)
    status = fields.String(required=True)
    party_size = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    service_date = fields.Date(required=True, metadata={"description": "The restaurant's local day"})


class ReservationSchema(CamelCaseSchema):
    """A reservation as staff see it, with its guest."""

    reservation_id = fields.UUID(required=True, attribute="id")
    restaurant_id = fields.UUID(required=True)
    confirmation_code = fields.String(required=True)
    status = fields.String(required=True)
    source = fields.String(required=True)
    table_number = fields.Integer(required=True)
    party_size = fields.Integer(required=True)
    slot = SlotInstant(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    service_date = fields.Date(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    special_requests = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    guest = fields.Nested(
        "DayListGuestSchema",
        allow_none=True,
        metadata={"description": "The day listing's view of the guest: profile id, tags and visit counts"},
    )


class DayListGuestSchema(CamelCaseSchema):
    guest_id = fields.String(required=True, metadata={"description": "GET /api/restaurants/<id>/guests/<guestId>"})
    tags = fields.List(fields.String(), required=True)
    visits = fields.Integer(required=True, metadata={"description": "Seated or completed bookings here"})
    no_shows = fields.Integer(required=True)
    late_cancellations = fields.Integer(required=True)
    has_notes = fields.Boolean(required=True)


class ReservationPageSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(ReservationSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class ReservationReadSchema(AppReservationSchema):
    """`GET /api/reservations/<id>`: the app's `Reservation` (documented here); staff asking without
    `userId` receive `ReservationSchema`, the staff view, instead."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if isinstance(obj, ReservationDetails):
            return ReservationSchema().dump(obj, many=many)
        return super().dump(obj, many=many)
