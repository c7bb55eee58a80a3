"""Discovery wire shapes: seed 000's feed (endpoint 7), preferences and swipes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.discovery.models import DEFAULT_MAX_DISTANCE_MILES, MAX_DISTANCE_MILES_LIMIT, SwipeAction
from api.restaurants.schemas import Inline, InputSchema, PriceRange, ReservationSummarySchema
from api.schemas import CamelCaseSchema

# ---------------------------------------------------------------- feed


class DiscoveryQuerySchema(InputSchema):
    class Meta:
        unknown = ma.EXCLUDE

    user_id = fields.String(metadata={"description": "Defaults to the signed-in user; others need staff"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class FeedLocationSchema(CamelCaseSchema):
    address = fields.String(attribute="restaurant.address")
    city = fields.String(attribute="restaurant.city")
    distance = fields.Float(
        attribute="distance_miles", allow_none=True, metadata={"description": "Miles from home, null without one"}
    )


class FeedRestaurantSchema(CamelCaseSchema):
    """Dumped over a `FeedEntry`: the restaurant's fields plus the distance the feed measured."""

    id = fields.UUID(attribute="restaurant.id")
    name = fields.String(attribute="restaurant.name")
    description = fields.String(attribute="restaurant.description")
    cuisine = fields.List(fields.String(), attribute="restaurant.cuisines")
    price_range = PriceRange(attribute="restaurant.price_range", metadata={"example": "$$"})
    rating = fields.Float(attribute="restaurant.rating")
    review_count = fields.Integer(attribute="restaurant.review_count")
    images = fields.List(fields.String(), attribute="restaurant.images")
    location = Inline(FeedLocationSchema)
    reservation_info = fields.Nested(ReservationSummarySchema, attribute="restaurant")


class FeedItemSchema(CamelCaseSchema):
    """Seed 000 endpoint 7: one restaurant of the feed, exactly."""

    restaurant = Inline(FeedRestaurantSchema)
    match_score = fields.Integer(metadata={"description": "0-100, see docs/discovery.md"})
    match_reason = fields.String(metadata={"example": "Loves Italian cuisine • 0.8 mi away"})


# ---------------------------------------------------------------- preferences


class HomeLocationSchema(InputSchema):
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class PreferencesSchema(CamelCaseSchema):
    user_id = fields.UUID()
    cuisines = fields.List(fields.String())
    price_ranges = fields.List(PriceRange())
    home_location = fields.Nested(HomeLocationSchema, allow_none=True)
    max_distance_miles = fields.Float()
    updated_at = fields.DateTime(allow_none=True)


class PreferencesUpdateSchema(InputSchema):
    """The whole set (PUT): a field left out takes its default (no filter, no home, 10 miles)."""

    cuisines = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), load_default=list, validate=validate.Length(max=30)
    )
    price_ranges = fields.List(PriceRange(), load_default=list, validate=validate.Length(max=4))
    home_location = fields.Nested(HomeLocationSchema, allow_none=True, load_default=None)
    max_distance_miles = fields.Float(
        load_default=DEFAULT_MAX_DISTANCE_MILES,
        validate=validate.Range(min=0, max=MAX_DISTANCE_MILES_LIMIT, min_inclusive=False),
    )


# ---------------------------------------------------------------- swipes


class SwipeCreateSchema(InputSchema):
    user_id = fields.String(metadata={"description": "Must be the signed-in user unless staff"})
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in SwipeAction]))


class SwipeSchema(CamelCaseSchema):
    user_id = fields.UUID()
    restaurant_id = fields.UUID()
    action = fields.String()
    swiped_at = fields.DateTime(attribute="updated_at")
