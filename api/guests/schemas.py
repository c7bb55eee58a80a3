"""Guest profile shapes."""

from __future__ import annotations

from marshmallow import fields, validate

from api.restaurants.schemas import InputSchema
from api.schemas import CamelCaseSchema, PageQuerySchema, PaginationSchema


class GuestListQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Part of email, name, phone"})
    tag = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "vip"})
    page_size = fields.Integer(data_key="pageSize", load_default=20, validate=validate.Range(min=1, max=100))


class GuestBookingSchema(CamelCaseSchema):
    reservation_id = fields.UUID()
    confirmation_code = fields.String()
    status = fields.String()
    party_size = fields.Integer()
    starts_at = fields.DateTime()


class GuestSummarySchema(CamelCaseSchema):
    guest_id = fields.String(metadata={"description": "The guest's email, URL-safe base64 without padding"})
    email = fields.String()
    name = fields.String()
    phone = fields.String()
    bookings = fields.Integer()
    visits = fields.Integer(metadata={"description": "Seated or completed bookings"})
    no_shows = fields.Integer()
    late_cancellations = fields.Integer(metadata={"description": "Cancelled less than 24 h before the start"})
    first_visit = fields.DateTime(allow_none=True)
    last_visit = fields.DateTime(allow_none=True)
    tags = fields.List(fields.String(), metadata={"example": ["vip", "allergy:nuts", "regular"]})
    notes = fields.String()


class GuestSchema(GuestSummarySchema):
    updated_at = fields.DateTime(allow_none=True, metadata={"description": "Last change of notes or tags"})
    recent_bookings = fields.List(fields.Nested(GuestBookingSchema))


class GuestPageSchema(CamelCaseSchema):
    items = fields.List(fields.Nested(GuestSummarySchema))
    pagination = fields.Nested(PaginationSchema)


class GuestUpdateSchema(InputSchema):
    notes = fields.String(validate=validate.Length(max=4000))
    tags = fields.List(
        fields.String(validate=[validate.Length(min=1, max=40), validate.Regexp(r"^[A-Za-z0-9:_ -]+$")]),
        validate=validate.Length(max=20),
    )
