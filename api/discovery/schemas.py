"""Discovery wire shapes: seed 000's feed (endpoint 7), preferences and swipes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.accounts.schemas import AppUserSchema
from api.discovery.models import DEFAULT_MAX_DISTANCE_MILES, MAX_DISTANCE_MILES_LIMIT, SwipeAction
from api.restaurants.schemas import Inline, InputSchema, PriceRange, ReservationSummarySchema
from api.schemas import CamelCaseSchema, EpochMillis

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


# ---------------------------------------------------------------- the app frontend's profile and favourites


class _AppInputSchema(InputSchema):
    """The app's bodies may carry fields we do not keep; they are ignored, not refused."""

    class Meta:
        unknown = ma.EXCLUDE


class AppLocationSchema(_AppInputSchema):
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))


class AppPreferencesInputSchema(_AppInputSchema):
    """A partial `User.preferences`: the fields sent are changed, the others kept."""

    cuisine_types = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=30)
    )
    dietary_restrictions = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=30)
    )
    price_range = PriceRange(allow_none=True, metadata={"description": "The dearest accepted price", "example": "$$"})
    max_distance = fields.Float(validate=validate.Range(min=0, max=MAX_DISTANCE_MILES_LIMIT, min_inclusive=False))
    location = fields.Nested(AppLocationSchema, allow_none=True)
    favorite_restaurants = fields.List(
        fields.String(), load_only=True, metadata={"description": "Ignored: favourites are POST /api/favorites"}
    )


class AppPreferencesUpdateSchema(_AppInputSchema):
    user_id = fields.String(load_default=None, metadata={"description": 'The caller\'s id or "current_user"'})
    preferences = fields.Nested(AppPreferencesInputSchema, required=True)


class AppUserEnvelopeSchema(CamelCaseSchema):
    user = fields.Nested(AppUserSchema, required=True)


class FavoriteCreateSchema(_AppInputSchema):
    user_id = fields.String(load_default=None, metadata={"description": 'The caller\'s id or "current_user"'})
    restaurant_id = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "Ours or a Yelp id"}
    )
    restaurant_name = fields.String(load_only=True, metadata={"description": "Ignored: the catalogue's name is used"})
    restaurant_image = fields.String(allow_none=True, load_only=True, metadata={"description": "Ignored"})
    match_score = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))


class FavoriteSchema(CamelCaseSchema):
    user_id = fields.UUID()
    restaurant_id = fields.String(attribute="restaurant.app_id", metadata={"description": "As the app knows it"})
    restaurant_name = fields.String(attribute="restaurant.name")
    restaurant_image = fields.Function(lambda f: (f.restaurant.images or [None])[0], allow_none=True)
    match_score = fields.Integer()
    liked_at = EpochMillis()


class FavoriteCreatedSchema(CamelCaseSchema):
    success = fields.Boolean()
    favorite = fields.Nested(FavoriteSchema)


class FavoriteListQuerySchema(_AppInputSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FavoriteQuerySchema(_AppInputSchema):
    user_id = fields.String(load_default=None, metadata={"description": 'The caller\'s id or "current_user"'})
    restaurant_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


class FavoriteCheckSchema(CamelCaseSchema):
    is_favorite = fields.Boolean()


class FavoriteRemovalSchema(CamelCaseSchema):
    success = fields.Boolean()
    message = fields.String()
