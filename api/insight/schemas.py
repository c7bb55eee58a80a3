"""The app frontend's stats shape, and the booking report's query."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from api.booking.schemas import DayListQuerySchema
from api.errors import ErrorCode
from api.schemas import CalendarDate, CamelCaseSchema, EpochMillis


class UserStatsSchema(CamelCaseSchema):
    total_likes = fields.Integer()
    total_reservations = fields.Integer(metadata={"description": "Cancelled reservations are not counted"})
    account_age = fields.Integer(metadata={"description": "Whole days since sign-up"})
    top_cuisines = fields.List(fields.String(), metadata={"example": ["italian", "japanese"]})
    last_active = EpochMillis(metadata={"description": "Latest sign-in, like, booking or profile change"})


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
