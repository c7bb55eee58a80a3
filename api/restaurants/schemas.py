"""Restaurant wire shapes: seed 000's details (endpoint 8), the catalogue list, and staff input.

The database keeps flat columns (`address`, `price_range` 1-4, `deposit_per_person_cents`);
the wire groups them (`location`, `reservationInfo`) and speaks "$".."$$$$" and dollars.
"""

from __future__ import annotations

import itertools
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from marshmallow import ValidationError, fields, post_load, pre_dump, validate, validates_schema

from api.restaurants.models import WEEKDAYS
from api.schemas import CalendarDate, CamelCaseSchema, PaginationSchema

MAX_PARTY_SIZE = 100
INT4_MAX = 2_147_483_647  # PostgreSQL `integer`


def price_symbol(price_range: int) -> str:
    return "$" * int(price_range)


class PriceRange(fields.String):
    """`"$"`..`"$$$$"` on the wire, 1-4 in Python and the database."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        symbols: list[str | None] = ["$", "$$", "$$$", "$$$$"]
        self.metadata = {"enum": [*symbols, None] if self.allow_none else symbols, **self.metadata}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else price_symbol(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in {"$", "$$", "$$$", "$$$$"}:
            raise ValidationError('Use "$", "$$", "$$$" or "$$$$".')
        return len(text)


class Dollars(fields.Number):
    """Whole cents inside, a dollar number on the wire (25, or 12.5)."""

    num_type = Decimal

    def _format_num(self, value: Any) -> Decimal:
        # Through str: the JSON float 19.99 means 19.99, not 19.989999999999998436805981327779591083526611328125.
        try:
            return Decimal(str(value))
        except InvalidOperation as err:  # marshmallow turns ValueError into "Not a valid number."; {} is not one
            raise ValueError(value) from err

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | float | None:
        if value is None:
            return None
        cents = int(value)
        return cents // 100 if cents % 100 == 0 else cents / 100

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid number.")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not amount.is_finite() or amount < 0 or amount > 100_000:
            raise ValidationError("Must be between 0 and 100000.")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("At most two decimals.")
        return int(amount * 100)


class Whole(fields.Nested):
    """A nested object that is always loaded complete, even inside a partial (PATCH) load."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


class Inline(fields.Nested):
    """Nest a schema over the parent object itself: flat columns become one wire object."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing) -> Any:
        return obj


HHMM = "%H:%M"


class HourMinute(fields.Time):
    """A local time as `HH:MM` (what `strptime("%H:%M")` reads, so the spec's pattern says it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=HHMM, **kwargs)
        self.metadata = {"pattern": r"^([01]?[0-9]|2[0-3]):[0-5]?[0-9]$", **self.metadata}


class InputSchema(CamelCaseSchema):
    """Staff and client input (the shared base answers 422 for text PostgreSQL cannot store, naming the field)."""


# ---------------------------------------------------------------- output


class DayHoursSchema(CamelCaseSchema):
    is_open = fields.Boolean(required=True)
    open_time = HourMinute(allow_none=True, metadata={"example": "17:00"})
    close_time = HourMinute(allow_none=True, metadata={"example": "22:00"})


class WeekSchema(CamelCaseSchema):
    """Monday to Sunday; several service periods a day show the earliest opening and latest closing."""

    monday = fields.Nested(DayHoursSchema)
    tuesday = fields.Nested(DayHoursSchema)
    wednesday = fields.Nested(DayHoursSchema)
    thursday = fields.Nested(DayHoursSchema)
    friday = fields.Nested(DayHoursSchema)
    saturday = fields.Nested(DayHoursSchema)
    sunday = fields.Nested(DayHoursSchema)

    @pre_dump
    def _from_restaurant(self, restaurant: Any, **kwargs: Any) -> dict[str, Any]:
        return restaurant.weekly_hours


class LocationSchema(CamelCaseSchema):
    address = fields.String()
    city = fields.String()
    state = fields.String()
    zip_code = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class ReservationInfoSchema(CamelCaseSchema):
    accepts_reservations = fields.Boolean()
    deposit_per_person = Dollars(attribute="deposit_per_person_cents", metadata={"description": "Dollars"})
    minimum_party_size = fields.Integer(attribute="min_party_size")
    maximum_party_size = fields.Integer(attribute="max_party_size")
    cancellation_policy = fields.String(metadata={"description": "Derived from the restaurant's refund policy"})


class ReservationSummarySchema(CamelCaseSchema):
    accepts_reservations = fields.Boolean()
    deposit_per_person = Dollars(attribute="deposit_per_person_cents", metadata={"description": "Dollars"})


class _RestaurantFieldsSchema(CamelCaseSchema):
    """The fields the details and the catalogue list share."""

    id = fields.UUID()
    name = fields.String()
    description = fields.String()
    cuisine = fields.List(fields.String(), attribute="cuisines")
    price_range = PriceRange(metadata={"example": "$$"})
    rating = fields.Float()
    review_count = fields.Integer()
    images = fields.List(fields.String())
    location = Inline(LocationSchema)
    features = fields.List(fields.String())


class RestaurantSchema(_RestaurantFieldsSchema):
    """Seed 000 endpoint 8: a restaurant's details, exactly."""

    reservation_info = Inline(ReservationInfoSchema)
    hours = Inline(WeekSchema)


class RestaurantSummarySchema(_RestaurantFieldsSchema):
    """One restaurant in the catalogue list."""

    reservation_info = Inline(ReservationSummarySchema)


class RestaurantPageSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(RestaurantSummarySchema))
    pagination = fields.Nested(PaginationSchema)


class RefundTierSchema(InputSchema):
    # The stored JSON uses the wire's camelCase keys, so load and dump straight to them.
    min_hours_before = fields.Integer(
        required=True, attribute="minHoursBefore", validate=validate.Range(min=0, max=24 * 90)
    )
    percent = fields.Integer(required=True, validate=validate.Range(min=0, max=100))


class DurationRuleSchema(InputSchema):
    max_party = fields.Integer(required=True, attribute="maxParty", validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    minutes = fields.Integer(required=True, validate=validate.Range(min=15, max=720))


class SettingsSchema(InputSchema):
    """Booking settings that staff manage (not part of the seed's public shape)."""

    slug = fields.String(
        validate=[validate.Length(max=80), validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")],
        metadata={"example": "bella-notte"},
    )
    time_zone = fields.String(attribute="timezone", metadata={"example": "America/New_York"})
    # Divisors of 60 only: clocks move by whole hours, so a slot grid of the local wall clock then
    # stays aligned with the UTC buckets that occupancy claims use across DST changes.
    slot_minutes = fields.Integer(validate=validate.OneOf([5, 10, 15, 20, 30, 60]))
    default_duration_minutes = fields.Integer(validate=validate.Range(min=15, max=720))
    durations_by_party = fields.List(Whole(DurationRuleSchema), validate=validate.Length(max=10))
    booking_horizon_days = fields.Integer(validate=validate.Range(min=1, max=730))
    min_lead_minutes = fields.Integer(validate=validate.Range(min=0, max=30 * 24 * 60))
    refund_policy = fields.List(Whole(RefundTierSchema), validate=validate.Length(max=10))
    currency = fields.String(validate=validate.Regexp(r"^[a-z]{3}$"))
    phone = fields.String(validate=validate.Length(max=40))
    email = fields.String(validate=validate.Length(max=254))
    send_confirmation_emails = fields.Boolean(
        metadata={"description": "Email guests when they book (requested/confirmed); docs/notifications.md"}
    )


class RestaurantAdminSchema(RestaurantSchema):
    """The details plus the staff-managed settings (answer to create and edit)."""

    settings = Inline(SettingsSchema)
    external_ids = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"example": {"yelp": "gR9D"}})


# ---------------------------------------------------------------- input


def _name_list() -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=20))


class LocationInputSchema(InputSchema):
    address = fields.String(validate=validate.Length(max=200))
    city = fields.String(validate=validate.Length(max=100))
    state = fields.String(validate=validate.Length(max=50))
    zip_code = fields.String(validate=validate.Length(max=20))
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class ReservationInfoInputSchema(InputSchema):
    accepts_reservations = fields.Boolean()
    deposit_per_person = Dollars(metadata={"description": "Dollars, at most two decimals"})
    minimum_party_size = fields.Integer(validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    maximum_party_size = fields.Integer(validate=validate.Range(min=1, max=MAX_PARTY_SIZE))


class RestaurantCreateSchema(InputSchema):
    """A new restaurant (admin). Grouped like the details; returns flat model fields."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    cuisine = _name_list()
    price_range = PriceRange()
    rating = fields.Float(validate=validate.Range(min=0, max=5))
    review_count = fields.Integer(validate=validate.Range(min=0, max=INT4_MAX))
    images = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), validate=validate.Length(max=20))
    features = _name_list()
    location = fields.Nested(LocationInputSchema)
    reservation_info = fields.Nested(ReservationInfoInputSchema)
    settings = fields.Nested(SettingsSchema)
    external_ids = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_-]{0,29}$")),
        values=fields.String(allow_none=True, validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=10),
        metadata={
            "description": 'Ids on other platforms, e.g. {"yelp": "<business id>"}: the app frontend may '
            "send them as restaurantId. A null value removes that platform's id.",
            "example": {"yelp": "gR9DTbKCvezQlqvD7_FzPw"},
        },
    )

    @validates_schema
    def _refund_tiers_distinct(self, data: dict[str, Any], **kwargs: Any) -> None:
        tiers = (data.get("settings") or {}).get("refund_policy")
        if tiers is None:
            return
        hours = [tier["minHoursBefore"] for tier in tiers]
        if len(set(hours)) != len(hours):
            raise ValidationError({"refundPolicy": ["Each minHoursBefore may appear once."]}, "settings")
        ordered = sorted(tiers, key=lambda tier: -tier["minHoursBefore"])
        percents = [tier["percent"] for tier in ordered]
        if any(later > earlier for earlier, later in itertools.pairwise(percents)):
            raise ValidationError(
                {"refundPolicy": ["Cancelling later may not refund more than cancelling earlier."]}, "settings"
            )

    @post_load
    def _flatten(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Turn the wire groups into model column names."""
        flat: dict[str, Any] = {}
        renames = {"cuisine": "cuisines"}
        for key, value in data.items():
            if key in {"location", "reservation_info", "settings"}:
                continue
            flat[renames.get(key, key)] = value
        flat.update(data.get("location") or {})
        info = data.get("reservation_info") or {}
        info_renames = {
            "deposit_per_person": "deposit_per_person_cents",
            "minimum_party_size": "min_party_size",
            "maximum_party_size": "max_party_size",
        }
        flat.update({info_renames.get(k, k): v for k, v in info.items()})
        settings = dict(data.get("settings") or {})
        if "refund_policy" in settings:
            settings["refund_policy"] = sorted(settings["refund_policy"], key=lambda t: -t["minHoursBefore"])
        if "durations_by_party" in settings:
            settings["durations_by_party"] = sorted(settings["durations_by_party"], key=lambda r: r["maxParty"])
        flat.update(settings)
        return flat


class RestaurantUpdateSchema(RestaurantCreateSchema):
    """Any subset of the create fields (admin, or staff of the restaurant)."""

    name = fields.String(validate=validate.Length(min=1, max=200))


class RestaurantListQuerySchema(InputSchema):
    """Filters and paging for the catalogue; `cuisine` and `priceRange` may repeat (any of them matches)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cuisine = fields.List(fields.String(validate=validate.Length(min=1, max=60)), load_default=list)
    price_range = fields.List(PriceRange(), load_default=list)
    city = fields.String(validate=validate.Length(min=1, max=100))
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Part of the name"})


# ---------------------------------------------------------------- tables


class TableSchema(CamelCaseSchema):
    id = fields.UUID()
    number = fields.Integer()
    label = fields.String()
    min_seats = fields.Integer()
    max_seats = fields.Integer()
    area = fields.String()
    is_active = fields.Boolean()


class TableCreateSchema(InputSchema):
    number = fields.Integer(required=True, validate=validate.Range(min=1, max=100_000))
    label = fields.String(validate=validate.Length(max=40))
    min_seats = fields.Integer(validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    max_seats = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    area = fields.String(validate=validate.Length(min=1, max=60))
    is_active = fields.Boolean()


class TableUpdateSchema(TableCreateSchema):
    number = fields.Integer(validate=validate.Range(min=1, max=100_000))
    max_seats = fields.Integer(validate=validate.Range(min=1, max=MAX_PARTY_SIZE))


class TableRemovalSchema(CamelCaseSchema):
    outcome = fields.String(
        validate=validate.OneOf(["deleted", "deactivated"]),
        metadata={"description": "deactivated when reservations or holds still reference the table"},
    )
    table = fields.Nested(TableSchema)


# ---------------------------------------------------------------- hours and closures


class PeriodSchema(InputSchema):
    """One service period of a weekday (an `OpeningHours` row)."""

    day = fields.String(required=True, validate=validate.OneOf(WEEKDAYS))
    open_time = HourMinute(required=True, attribute="opens_at", metadata={"example": "17:00"})
    close_time = HourMinute(required=True, attribute="closes_at", metadata={"example": "22:00"})

    @validates_schema
    def _closes_after_opens(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["closes_at"] <= data["opens_at"]:
            raise ValidationError("closeTime must be after openTime (periods end by midnight).", "closeTime")


class HoursReplaceSchema(InputSchema):
    """The whole week: days without a period are closed."""

    periods = fields.List(fields.Nested(PeriodSchema), required=True, validate=validate.Length(max=7 * 6))


class HoursSchema(CamelCaseSchema):
    """The service periods as stored, and the week as seed 000 shows it."""

    periods = fields.List(fields.Nested(PeriodSchema), attribute="opening_hours")
    hours = Inline(WeekSchema)


class ClosureSchema(CamelCaseSchema):
    date = fields.Date(attribute="service_date")
    closed = fields.Boolean(
        attribute="is_closed", metadata={"description": "true: closed all day; false: open only openTime-closeTime"}
    )
    open_time = HourMinute(attribute="opens_at", allow_none=True)
    close_time = HourMinute(attribute="closes_at", allow_none=True)
    reason = fields.String()


class PublicPeriodSchema(CamelCaseSchema):
    """One weekly service period, as a guest sees it."""

    day = fields.String(metadata={"enum": list(WEEKDAYS)})
    open_time = HourMinute(attribute="opens_at", metadata={"example": "17:00"})
    close_time = HourMinute(attribute="closes_at", metadata={"example": "23:00"})


class PublicClosureSchema(CamelCaseSchema):
    """A dated exception without its staff-written reason."""

    date = fields.Date(attribute="service_date")
    closed = fields.Boolean(attribute="is_closed", metadata={"description": "false: open only openTime-closeTime"})
    open_time = HourMinute(attribute="opens_at", allow_none=True)
    close_time = HourMinute(attribute="closes_at", allow_none=True)


class ScheduleSchema(CamelCaseSchema):
    """When a restaurant seats guests, in its own time zone (public)."""

    restaurant_id = fields.UUID(attribute="id")
    name = fields.String()
    time_zone = fields.String(attribute="timezone", metadata={"example": "America/New_York"})
    local_now = fields.DateTime(
        metadata={
            "description": "The restaurant's wall clock now, with its UTC offset",
            "example": "2026-12-04T18:05:00-05:00",
        }
    )
    today = fields.Date(metadata={"description": "The restaurant's local date"})
    last_bookable_date = fields.Date(metadata={"description": "today + bookingHorizonDays"})
    accepts_reservations = fields.Boolean()
    slot_minutes = fields.Integer()
    booking_horizon_days = fields.Integer()
    minimum_party_size = fields.Integer(attribute="min_party_size")
    maximum_party_size = fields.Integer(attribute="max_party_size")
    periods = fields.List(fields.Nested(PublicPeriodSchema), attribute="opening_hours")
    hours = Inline(WeekSchema)
    closures = fields.List(fields.Nested(PublicClosureSchema))


class AffectedBookingSchema(CamelCaseSchema):
    """A booking a change of hours strands (the same objects as BOOKINGS_AFFECTED's `details.bookings`)."""

    id = fields.String()
    confirmation_code = fields.String(attribute="confirmationCode")
    starts_at = fields.String(attribute="startsAt", metadata={"description": "ISO 8601 instant"})
    date = fields.String()
    party_size = fields.Integer(attribute="partySize")
    status = fields.String()


class HoursChangeSchema(HoursSchema):
    affected_bookings = fields.List(
        fields.Nested(AffectedBookingSchema),
        metadata={"description": "With force=true: the future bookings now outside the hours (empty otherwise)."},
    )


class ClosureChangeSchema(ClosureSchema):
    affected_bookings = fields.List(
        fields.Nested(AffectedBookingSchema),
        metadata={"description": "With force=true: the bookings that day inside the closure (empty otherwise)."},
    )


class ForceQuerySchema(InputSchema):
    force = fields.Boolean(
        load_default=False,
        metadata={"description": "Apply the change even though it strands future bookings, and list them."},
    )


class ClosureCreateSchema(InputSchema):
    """Closed all day (no times) or open for one period instead of the week's hours."""

    date = CalendarDate(required=True, attribute="service_date")
    open_time = HourMinute(allow_none=True, attribute="opens_at")
    close_time = HourMinute(allow_none=True, attribute="closes_at")
    reason = fields.String(validate=validate.Length(max=200), load_default="")

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **kwargs: Any) -> None:
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if (opens is None) != (closes is None):
            raise ValidationError("Give both openTime and closeTime, or neither for a full-day closure.", "closeTime")
        if opens is not None and closes <= opens:
            raise ValidationError("closeTime must be after openTime.", "closeTime")


# ---------------------------------------------------------------- the settings resource


class RestaurantSettingsSchema(InputSchema):
    """The whole settings document of a restaurant (`GET`/`PUT /api/restaurants/<id>/settings`).

    A PUT sends every field: the document is validated and applied as a whole.
    """

    time_zone = fields.String(required=True, attribute="timezone", metadata={"example": "America/New_York"})
    # Divisors of 60 only, as in SettingsSchema (the local slot grid stays aligned across DST changes).
    slot_minutes = fields.Integer(required=True, validate=validate.OneOf([5, 10, 15, 20, 30, 60]))
    default_duration_minutes = fields.Integer(
        required=True, validate=validate.Range(min=15, max=720), metadata={"description": "Turn time of any party"}
    )
    turn_times_by_party = fields.List(
        Whole(DurationRuleSchema),
        required=True,
        attribute="durations_by_party",
        validate=validate.Length(max=10),
        metadata={"description": "First rule whose maxParty seats the party wins; else defaultDurationMinutes"},
    )
    min_party_size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    max_party_size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PARTY_SIZE))
    booking_horizon_days = fields.Integer(required=True, validate=validate.Range(min=1, max=730))
    min_lead_minutes = fields.Integer(required=True, validate=validate.Range(min=0, max=30 * 24 * 60))
    accepts_reservations = fields.Boolean(required=True)
    deposit_per_person_cents = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000_000))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[a-z]{3}$"))
    refund_policy = fields.List(Whole(RefundTierSchema), required=True, validate=validate.Length(max=10))
    send_confirmation_emails = fields.Boolean(
        metadata={"description": "Email guests a confirmation (present once the notifications lane adds it)"}
    )
    opening_hours = fields.List(
        Whole(PeriodSchema), required=True, validate=validate.Length(max=7 * 6), metadata={"description": "The week"}
    )


class RestaurantSettingsOutSchema(CamelCaseSchema):
    """The settings document as stored (the audit keeps exactly this shape)."""

    time_zone = fields.String()
    slot_minutes = fields.Integer()
    default_duration_minutes = fields.Integer()
    turn_times_by_party = fields.List(fields.Dict())
    min_party_size = fields.Integer()
    max_party_size = fields.Integer()
    booking_horizon_days = fields.Integer()
    min_lead_minutes = fields.Integer()
    accepts_reservations = fields.Boolean()
    deposit_per_person_cents = fields.Integer()
    currency = fields.String()
    refund_policy = fields.List(fields.Dict())
    send_confirmation_emails = fields.Boolean()
    opening_hours = fields.List(fields.Dict())

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        # The service builds the document with its wire keys already.
        return obj


class SettingsReplaceResultSchema(CamelCaseSchema):
    settings = fields.Nested(RestaurantSettingsOutSchema)
    affected_bookings = fields.List(
        fields.Nested(AffectedBookingSchema),
        metadata={"description": "With force=true: the future bookings now outside the hours (empty otherwise)."},
    )


class SettingsChangeSchema(CamelCaseSchema):
    id = fields.Integer()
    actor_id = fields.UUID(allow_none=True)
    at = fields.DateTime()
    changed = fields.List(fields.String())
    old = fields.Dict()
    new = fields.Dict()


# ---------------------------------------------------------------- floor plan


class FloorAreaSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "Terrace"})
    kind = fields.String(load_default="room", validate=validate.OneOf(["room", "terrace", "bar", "private", "other"]))
    x = fields.Float(load_default=0.0, validate=validate.Range(min=-100_000, max=100_000))
    y = fields.Float(load_default=0.0, validate=validate.Range(min=-100_000, max=100_000))
    width = fields.Float(required=True, validate=validate.Range(min=0, max=100_000, min_inclusive=False))
    height = fields.Float(required=True, validate=validate.Range(min=0, max=100_000, min_inclusive=False))


class TablePlacementSchema(InputSchema):
    table_id = fields.UUID(required=True)
    area = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "Area name"},
    )
    x = fields.Float(required=True, validate=validate.Range(min=-100_000, max=100_000))
    y = fields.Float(required=True, validate=validate.Range(min=-100_000, max=100_000))
    width = fields.Float(required=True, validate=validate.Range(min=0, max=10_000, min_inclusive=False))
    height = fields.Float(required=True, validate=validate.Range(min=0, max=10_000, min_inclusive=False))
    shape = fields.String(load_default="rect", validate=validate.OneOf(["rect", "round"]))
    rotation = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=360, max_inclusive=False))


class FloorPlanReplaceSchema(InputSchema):
    """The whole plan: areas, and the tables placed on it (tables left out are unplaced)."""

    areas = fields.List(fields.Nested(FloorAreaSchema), required=True, validate=validate.Length(max=50))
    tables = fields.List(fields.Nested(TablePlacementSchema), required=True, validate=validate.Length(max=500))


class FloorAreaOutSchema(CamelCaseSchema):
    name = fields.String()
    kind = fields.String()
    x = fields.Float()
    y = fields.Float()
    width = fields.Float()
    height = fields.Float()


class TableOccupantSchema(CamelCaseSchema):
    """Who is on a table at the instant asked (staff only)."""

    reservation_id = fields.UUID()
    name = fields.String()
    party_size = fields.Integer()
    confirmation_code = fields.String()
    status = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


class PlacedTableSchema(CamelCaseSchema):
    table_id = fields.UUID(attribute="table.id")
    number = fields.Integer(attribute="table.number")
    label = fields.String(attribute="table.label")
    min_seats = fields.Integer(attribute="table.min_seats")
    max_seats = fields.Integer(attribute="table.max_seats")
    capacity = fields.Function(lambda placed: placed["table"].max_seats, metadata={"description": "= maxSeats"})
    area = fields.String(attribute="area.name", allow_none=True)
    placed = fields.Boolean(metadata={"description": "false: the table has no position on the plan yet"})
    x = fields.Float(attribute="layout.x", allow_none=True)
    y = fields.Float(attribute="layout.y", allow_none=True)
    width = fields.Float(attribute="layout.width", allow_none=True)
    height = fields.Float(attribute="layout.height", allow_none=True)
    shape = fields.String(attribute="layout.shape", allow_none=True)
    rotation = fields.Float(attribute="layout.rotation", allow_none=True)
    state = fields.String(
        metadata={
            "description": "With ?at=: free, held, booked, seated or blocked",
            "enum": ["free", "held", "booked", "seated", "blocked", None],
        },
        allow_none=True,
    )
    occupant = fields.Nested(TableOccupantSchema, allow_none=True, metadata={"description": "Staff only, with ?at="})

    @pre_dump
    def _flatten(self, obj: Any, **kwargs: Any) -> Any:
        return {
            "table": obj.table,
            "layout": obj.layout,
            "area": obj.area,
            "placed": obj.layout is not None,
            "state": getattr(obj, "state", None),
            "occupant": getattr(obj, "occupant", None),
        }


class FloorPlanSchema(CamelCaseSchema):
    restaurant_id = fields.UUID(attribute="restaurant.id")
    at = fields.DateTime(allow_none=True, metadata={"description": "The instant the states are for (with ?at=)"})
    areas = fields.List(fields.Nested(FloorAreaOutSchema))
    tables = fields.List(fields.Nested(PlacedTableSchema))

    @pre_dump
    def _at(self, obj: Any, **kwargs: Any) -> Any:
        return {"restaurant": obj.restaurant, "areas": obj.areas, "tables": obj.tables, "at": getattr(obj, "at", None)}


# ---------------------------------------------------------------- primetime windows


class PrimetimeWindowSchema(CamelCaseSchema):
    """A weekly window in which bookings wait for approval (local time, `[start, end)`)."""

    id = fields.Integer()
    weekday = fields.Integer(metadata={"description": "0 = Monday ... 6 = Sunday"})
    day = fields.String(metadata={"description": "The weekday's name"})
    start = HourMinute(attribute="start_time", metadata={"example": "19:00"})
    end = HourMinute(attribute="end_time", metadata={"example": "21:00"})
    active = fields.Boolean(attribute="is_active")


class PrimetimeWindowCreateSchema(InputSchema):
    weekday = fields.Integer(required=True, validate=validate.Range(min=0, max=6), metadata={"example": 4})
    start = HourMinute(required=True, attribute="start_time", metadata={"example": "19:00"})
    end = HourMinute(required=True, attribute="end_time", metadata={"example": "21:00"})
    active = fields.Boolean(attribute="is_active", load_default=True)

    @validates_schema
    def _ends_after_starts(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start_time" in data and "end_time" in data and data["end_time"] <= data["start_time"]:
            raise ValidationError("end must be after start (windows end by midnight).", "end")


class PrimetimeWindowUpdateSchema(PrimetimeWindowCreateSchema):
    weekday = fields.Integer(validate=validate.Range(min=0, max=6))
    start = HourMinute(attribute="start_time")
    end = HourMinute(attribute="end_time")
    active = fields.Boolean(attribute="is_active")
