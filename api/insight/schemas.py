"""The app frontend's stats shape, and the booking report's query."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from api.booking.schemas import DayListQuerySchema
from api.errors import ErrorCode
from api.restaurants.schemas import HourMinute, InputSchema
from api.schemas import CalendarDate, CalendarDateTime, CamelCaseSchema, EpochMillis


class UserStatsSchema(CamelCaseSchema):
    total_likes = fields.Integer()
    total_reservations = fields.Integer(metadata={"description": "Cancelled reservations are not counted"})
    account_age = fields.Integer(metadata={"description": "Whole days since sign-up"})
    top_cuisines = fields.List(fields.String(), metadata={"example": ["italian", "japanese"]})
    last_active = EpochMillis(metadata={"description": "Latest sign-in, like, booking or profile change"})


# ---------------------------------------------------------------- calendar


class CalendarQuerySchema(InputSchema):
    start_date = CalendarDate(required=True, metadata={"description": "First local day"})
    end_date = CalendarDate(required=True, metadata={"description": "Last local day (at most 62 days in all)"})
    party_size = fields.Integer(validate=validate.Range(min=1, max=100), metadata={"description": "Default 2"})


class PeriodOutSchema(CamelCaseSchema):
    open_time = HourMinute(attribute="opens_at")
    close_time = HourMinute(attribute="closes_at")


class CalendarSlotSchema(CamelCaseSchema):
    time = fields.Function(lambda s: s.slot.local_time.strftime("%H:%M"), metadata={"description": "Local wall time"})
    starts_at = fields.DateTime(attribute="slot.starts_at")
    available_tables = fields.Integer()
    available = fields.Boolean()


class CalendarReservationSchema(CamelCaseSchema):
    reservation_id = fields.UUID()
    confirmation_code = fields.String()
    status = fields.String()
    party_size = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    table_number = fields.Integer()
    name = fields.String()


class CalendarPrimetimeSchema(CamelCaseSchema):
    open_time = fields.String()
    close_time = fields.String()


class CalendarDaySchema(CamelCaseSchema):
    date = fields.Date()
    closed = fields.Boolean(attribute="is_closed", metadata={"description": "No service period that day"})
    hours = fields.List(fields.Nested(PeriodOutSchema))
    primetime = fields.List(fields.Nested(CalendarPrimetimeSchema))
    slots = fields.List(fields.Nested(CalendarSlotSchema))
    reservations = fields.List(fields.Nested(CalendarReservationSchema))


class CalendarSchema(CamelCaseSchema):
    restaurant_id = fields.UUID(attribute="restaurant.id")
    time_zone = fields.String(attribute="restaurant.timezone")
    start_date = fields.Date()
    end_date = fields.Date()
    party_size = fields.Integer()
    reservations_scope = fields.String(
        metadata={"description": "all (staff, admins), own (a guest), none (anonymous)", "enum": ["all", "own", "none"]}
    )
    days = fields.List(fields.Nested(CalendarDaySchema))


# ---------------------------------------------------------------- dashboards


class ActivitySchema(CamelCaseSchema):
    at = fields.DateTime()
    action = fields.String()
    actor_role = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reservation_id = fields.UUID()
    confirmation_code = fields.String()
    restaurant_id = fields.UUID()
    reason = fields.String()


class UpcomingSchema(CamelCaseSchema):
    reservation_id = fields.UUID(attribute="id")
    restaurant_id = fields.UUID()
    restaurant_name = fields.String()
    confirmation_code = fields.String()
    status = fields.String()
    party_size = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    service_date = fields.Date()


class GuestDashboardSchema(CamelCaseSchema):
    upcoming = fields.List(fields.Nested(UpcomingSchema))
    recent_activity = fields.List(fields.Nested(ActivitySchema))


class PendingSchema(CamelCaseSchema):
    reservation_id = fields.UUID(attribute="id")
    confirmation_code = fields.String()
    party_size = fields.Integer()
    starts_at = fields.DateTime()
    service_date = fields.Date()
    table_number = fields.Integer()
    name = fields.String()


class RestaurantDashboardSchema(CamelCaseSchema):
    restaurant_id = fields.UUID(attribute="restaurant.id")
    date = fields.Date(metadata={"description": "The restaurant's local today"})
    pending_approvals = fields.List(
        fields.Nested(PendingSchema), metadata={"description": "Pending from today on: the first 20, soonest first"}
    )
    pending_count = fields.Integer(metadata={"description": "Pending reservations from today on"})
    today_reservations = fields.Integer(metadata={"description": "Not cancelled or rejected"})
    today_covers = fields.Integer(metadata={"description": "Without no-shows"})
    seated_now = fields.Integer()
    seated_covers = fields.Integer()
    no_shows_today = fields.Integer()
    recent_activity = fields.List(fields.Nested(ActivitySchema))


# ---------------------------------------------------------------- statistics


class StatisticsQuerySchema(InputSchema):
    start_date = CalendarDate(required=True)
    end_date = CalendarDate(required=True, metadata={"description": "At most 366 days after startDate"})


class CoversDaySchema(CamelCaseSchema):
    date = fields.Date()
    covers = fields.Integer()


class NoticeBucketSchema(CamelCaseSchema):
    bucket = fields.String(metadata={"example": "2-24h"})
    min_hours = fields.Integer()
    max_hours = fields.Integer(allow_none=True)
    count = fields.Integer()


class OccupancyHourSchema(CamelCaseSchema):
    hour = fields.Integer(metadata={"description": "Local hour of day, 0-23"})
    occupied_table_minutes = fields.Float()
    open_table_minutes = fields.Float()
    occupancy = fields.Float(allow_none=True, metadata={"description": "occupied / open (null when closed)"})


class StatisticsSchema(CamelCaseSchema):
    restaurant_id = fields.UUID(allow_none=True, metadata={"description": "null: every restaurant"})
    start_date = fields.Date()
    end_date = fields.Date()
    bookings = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_source = fields.Dict(keys=fields.String(), values=fields.Integer())
    covers = fields.Integer()
    covers_per_day = fields.List(fields.Nested(CoversDaySchema))
    no_shows = fields.Integer()
    no_show_rate = fields.Float(allow_none=True)
    cancellations_by_notice = fields.List(fields.Nested(NoticeBucketSchema))
    occupancy_by_hour = fields.List(fields.Nested(OccupancyHourSchema))
    deposits_taken_cents = fields.Integer()
    deposits_refunded_cents = fields.Integer()


# ---------------------------------------------------------------- floor plan


class FloorPlanQuerySchema(InputSchema):
    at = CalendarDateTime(metadata={"description": "An instant: each table's state then (ISO 8601 with offset)"})


class BookingReportQuerySchema(DayListQuerySchema):
    """`?startDate=&endDate=` (local service days, inclusive, at most 366), the staff day listing's
    filters (`email`, `table`, `slot`, `status`) and paging, and `format=json` (pages) or `csv`."""

    class Meta(DayListQuerySchema.Meta):
        exclude = ("date", "restaurant_id")

    field_codes: ClassVar[dict[str, ErrorCode]] = {
        "start_date": ErrorCode.BAD_DATE,
        "end_date": ErrorCode.BAD_DATE,
        "slot": ErrorCode.BAD_TIME,
    }

    start_date = CalendarDate(required=True, data_key="startDate", metadata={"description": "First local service day"})
    end_date = CalendarDate(
        required=True, data_key="endDate", metadata={"description": "Last local service day (inclusive)"}
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "json: one page of the report; csv: the whole report, streamed (paging ignored)"},
    )
