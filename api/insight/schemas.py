"""The app frontend's stats shape."""

from __future__ import annotations

from marshmallow import fields

from api.schemas import CamelCaseSchema, EpochMillis


class UserStatsSchema(CamelCaseSchema):
    total_likes = fields.Integer()
    total_reservations = fields.Integer(metadata={"description": "Cancelled reservations are not counted"})
    account_age = fields.Integer(metadata={"description": "Whole days since sign-up"})
    top_cuisines = fields.List(fields.String(), metadata={"example": ["italian", "japanese"]})
    last_active = EpochMillis(metadata={"description": "Latest sign-in, like, booking or profile change"})
