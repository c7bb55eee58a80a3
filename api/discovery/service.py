"""Discovery rules: preferences, swipes and the ranked feed (docs/discovery.md has the formula).

The feed is one SQL query: hard filters (not swiped yet, preferred cuisines and prices,
within the maximum distance of home, great-circle distance computed in SQL), then a
deterministic score from affinities learned from the user's likes, rating, popularity and
distance, ordered by score then id. `build_feed_query` is shared with the benchmark and the
plan test, so they measure exactly what the service runs.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import TextClause

from api.accounts import service as accounts_service
from api.accounts.authz import ensure_self_or_admin
from api.accounts.models import User
from api.db import atomic
from api.discovery.models import DEFAULT_MAX_DISTANCE_MILES, Swipe, SwipeAction, UserPreferences
from api.errors import ErrorCode, NotFound
from api.extensions import db
from api.restaurants import service as restaurants_service
from api.restaurants.models import Restaurant

EARTH_RADIUS_MILES = 3958.8
# Miles per degree of latitude is 68.7-69.4; divide by the smallest so the box never cuts a match.
MILES_PER_DEGREE_LATITUDE = 68.7
# review_count at which popularity saturates (log scale: 10 reviews ~ 0.28, 100 ~ 0.54, 1000 ~ 0.81).
POPULARITY_CAP = 5000

# The weights of docs/discovery.md. A signal the user cannot have (no likes yet, no home) drops
# out and the others are renormalised, so every feed spans the same 0-100 scale.
WEIGHT_CUISINE = 0.35
WEIGHT_FEATURE = 0.10
WEIGHT_RATING = 0.25
WEIGHT_POPULARITY = 0.15
WEIGHT_DISTANCE = 0.15


@dataclass(frozen=True)
class Preferences:
    user_id: uuid.UUID
    cuisines: list[str] = field(default_factory=list)
    price_ranges: list[int] = field(default_factory=list)
    home_location: dict[str, float] | None = None
    max_distance_miles: float = DEFAULT_MAX_DISTANCE_MILES
    updated_at: datetime | None = None
    dietary_restrictions: list[str] = field(default_factory=list)
    home_address: str = ""

    @property
    def home(self) -> tuple[float, float] | None:
        if self.home_location is None:
            return None
        return self.home_location["latitude"], self.home_location["longitude"]


@dataclass(frozen=True)
class Affinity:
    """What the user's likes say: the share of liked restaurants with each cuisine and feature."""

    likes: int
    cuisine_shares: dict[str, float]
    feature_shares: dict[str, float]


@dataclass(frozen=True)
class Favorite:
    """A like, as the app frontend's favourites read it."""

    user_id: uuid.UUID
    restaurant: Restaurant
    match_score: int
    liked_at: datetime


@dataclass(frozen=True)
class FavoriteRemoval:
    success: bool
    message: str


@dataclass(frozen=True)
class FeedEntry:
    restaurant: Restaurant
    distance_miles: float | None
    match_score: int
    match_reason: str


# ---------------------------------------------------------------- preferences


def get_preferences(*, actor: User, user_id: uuid.UUID | str | None) -> Preferences:
    """A user's preferences (defaults when never set). :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND."""
    owner = ensure_self_or_admin(user_id, actor)
    _ensure_user(owner, actor)
    return load_preferences(user_id=owner)


def replace_preferences(
    *, actor: User, user_id: uuid.UUID | str | None, preferences: dict[str, Any], now: datetime
) -> Preferences:
    """Replace a user's preferences (an upsert). :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND."""
    owner = ensure_self_or_admin(user_id, actor)
    home = preferences.get("home_location")
    values = {
        "user_id": owner,
        # Order-preserving de-duplication: the list is a set of filters.
        "cuisines": list(dict.fromkeys(c.strip() for c in preferences.get("cuisines", []))),
        "price_ranges": sorted(set(preferences.get("price_ranges", []))),
        "home_latitude": home["latitude"] if home else None,
        "home_longitude": home["longitude"] if home else None,
        "max_distance_miles": preferences.get("max_distance_miles", DEFAULT_MAX_DISTANCE_MILES),
        "updated_at": now,
    }
    with atomic():
        _ensure_user(owner, actor)
        _upsert_preferences(values)
    return load_preferences(user_id=owner)


def _upsert_preferences(values: dict[str, Any]) -> None:
    """Insert the user's preferences, or overwrite the columns given in `values`."""
    stmt = pg_insert(UserPreferences).values(**values)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[UserPreferences.user_id],
            set_={k: stmt.excluded[k] for k in values if k != "user_id"},
        )
    )


def load_preferences(*, user_id: uuid.UUID) -> Preferences:
    """The stored preferences, or the defaults (no filters, no home, 10 miles)."""
    row = db.session.execute(
        select(UserPreferences).where(UserPreferences.user_id == user_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        return Preferences(user_id=user_id)
    home = None
    if row.home_latitude is not None and row.home_longitude is not None:
        home = {"latitude": row.home_latitude, "longitude": row.home_longitude}
    return Preferences(
        user_id=user_id,
        cuisines=list(row.cuisines),
        price_ranges=list(row.price_ranges),
        home_location=home,
        max_distance_miles=row.max_distance_miles,
        updated_at=row.updated_at,
        dietary_restrictions=list(row.dietary_restrictions or []),
        home_address=row.home_address or "",
    )


def _ensure_user(user_id: uuid.UUID, actor: User) -> None:
    # Only admins can name someone else (ensure_self_or_admin); tell them when that user does not exist.
    if user_id != actor.id and db.session.get(User, user_id) is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, "No user has this id.")


# ---------------------------------------------------------------- swipes


def record_swipe(
    *,
    actor: User,
    user_id: uuid.UUID | str | None,
    restaurant_id: uuid.UUID | str,
    action: str,
    now: datetime,
    match_score: int | None = None,
) -> Swipe:
    """Like or pass a restaurant: one row per (user, restaurant), the most recent swipe wins.

    An upsert, so a retried or double-tapped swipe is harmless; a swipe made earlier than the
    stored one (a delayed retry) does not overwrite it. A like from the app's favourites carries
    the match score it was shown with. :raise 403: USER_MISMATCH. :raise 404: RESTAURANT_NOT_FOUND, USER_NOT_FOUND.
    """
    owner = ensure_self_or_admin(user_id, actor)
    action = SwipeAction(action)
    with atomic():
        restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
        _ensure_user(owner, actor)
        stmt = pg_insert(Swipe).values(
            user_id=owner,
            restaurant_id=restaurant.id,
            action=action,
            match_score=match_score,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[Swipe.user_id, Swipe.restaurant_id],
            set_={
                "action": stmt.excluded.action,
                "updated_at": stmt.excluded.updated_at,
                "match_score": func.coalesce(stmt.excluded.match_score, Swipe.match_score),
            },
            where=Swipe.updated_at <= stmt.excluded.updated_at,
        )
        db.session.execute(stmt)
        swipe = db.session.execute(
            select(Swipe)
            .where(Swipe.user_id == owner, Swipe.restaurant_id == restaurant.id)
            .execution_options(populate_existing=True)
        ).scalar_one()
    return swipe


# ---------------------------------------------------------------- the app frontend's profile and favourites
#
# FoodTok keeps a user's tastes in `User.preferences` and calls likes "favorites". Both are the
# discovery data above: preferences map onto `user_preferences`, favourites are like-swipes.

_PRICE_SIGNS = ("$", "$$", "$$$", "$$$$")


def app_preferences(user_id: uuid.UUID) -> dict[str, Any]:
    """The app's `preferences` object (registered with accounts, which dumps the app's `User`).

    `priceRange` is the dearest accepted price ("$$" means $ and $$; "$$$$" when there is no
    filter); cuisines are lower-case, as the app spells them; `favoriteRestaurants` are the ids
    (as the app knows them) of the restaurants the user liked.
    """
    preferences = load_preferences(user_id=user_id)
    home = preferences.home_location or {}
    liked = db.session.scalars(
        select(Restaurant)
        .join(Swipe, Swipe.restaurant_id == Restaurant.id)
        .where(Swipe.user_id == user_id, Swipe.action == SwipeAction.LIKE)
        .order_by(Swipe.updated_at.desc(), Restaurant.id)
    )
    return {
        "cuisineTypes": [c.lower() for c in preferences.cuisines],
        "dietaryRestrictions": preferences.dietary_restrictions,
        "priceRange": _PRICE_SIGNS[max(preferences.price_ranges, default=4) - 1],
        "maxDistance": preferences.max_distance_miles,
        "location": {
            "latitude": home.get("latitude"),
            "longitude": home.get("longitude"),
            "address": preferences.home_address,
        },
        "favoriteRestaurants": [restaurant.app_id for restaurant in liked],
    }


def get_profile(*, actor: User, user_id: uuid.UUID | str | None) -> User:
    """The app's profile read. :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND."""
    return accounts_service.get_user(user_id=ensure_self_or_admin(user_id, actor))


def update_app_preferences(
    *, actor: User, user_id: uuid.UUID | str | None, changes: dict[str, Any], now: datetime
) -> User:
    """Merge the app's partial `preferences` into the user's discovery preferences.

    Cuisines take the catalogue's spelling ("italian" filters "Italian" restaurants); a price
    range "$$" accepts $ and $$ ("$$$$": no filter); `favoriteRestaurants` is not written here
    (favourites are likes: `POST /api/favorites`). :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND.
    """
    owner = ensure_self_or_admin(user_id, actor)
    with atomic():
        user = accounts_service.get_user(user_id=owner)
        current = load_preferences(user_id=owner)
        values: dict[str, Any] = {"user_id": owner, "updated_at": now}
        if "cuisine_types" in changes:
            values["cuisines"] = list(dict.fromkeys(_catalogue_cuisines(changes["cuisine_types"])))
        if "dietary_restrictions" in changes:
            values["dietary_restrictions"] = list(dict.fromkeys(changes["dietary_restrictions"]))
        if "price_range" in changes:
            dearest = changes["price_range"]
            values["price_ranges"] = [] if dearest in (None, 4) else list(range(1, dearest + 1))
        if "max_distance" in changes:
            values["max_distance_miles"] = changes["max_distance"]
        location = changes.get("location")
        if location is not None:
            latitude, longitude = location.get("latitude"), location.get("longitude")
            if latitude is not None and longitude is not None:
                values.update(home_latitude=latitude, home_longitude=longitude)
            elif "latitude" in location or "longitude" in location:
                values.update(home_latitude=None, home_longitude=None)
            if "address" in location:
                values["home_address"] = location["address"] or None
        if current.updated_at is None:  # first write: the columns the app did not send take their defaults
            values.setdefault("cuisines", [])
            values.setdefault("price_ranges", [])
            values.setdefault("max_distance_miles", DEFAULT_MAX_DISTANCE_MILES)
        _upsert_preferences(values)
        user.updated_at = now
    return user


def _catalogue_cuisines(names: list[str]) -> list[str]:
    """Each name as the catalogue spells it (case-insensitively), or title-cased when no restaurant has it."""
    known = {c.lower(): c for c in db.session.scalars(select(func.unnest(Restaurant.cuisines)).distinct())}
    return [known.get(name.strip().lower(), name.strip().title()) for name in names if name.strip()]


def add_favorite(
    *, actor: User, user_id: uuid.UUID | str | None, restaurant_id: str, match_score: int | None, now: datetime
) -> Favorite:
    """Favourite a restaurant: a like swipe (the feed skips it, its cuisines count as liked).

    Name and image come from our catalogue, not from the request.
    :raise 403: USER_MISMATCH. :raise 404: RESTAURANT_NOT_FOUND, USER_NOT_FOUND.
    """
    swipe = record_swipe(
        actor=actor,
        user_id=user_id,
        restaurant_id=restaurant_id,
        action=SwipeAction.LIKE,
        match_score=match_score,
        now=now,
    )
    restaurant = restaurants_service.get_restaurant(restaurant_id=swipe.restaurant_id)
    return Favorite(
        user_id=swipe.user_id, restaurant=restaurant, match_score=swipe.match_score or 0, liked_at=swipe.updated_at
    )


def list_favorites(*, actor: User, user_id: uuid.UUID | str | None, limit: int) -> list[Favorite]:
    """The user's likes, latest first. :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND."""
    owner = ensure_self_or_admin(user_id, actor)
    _ensure_user(owner, actor)
    rows = db.session.execute(
        select(Swipe, Restaurant)
        .join(Restaurant, Restaurant.id == Swipe.restaurant_id)
        .where(Swipe.user_id == owner, Swipe.action == SwipeAction.LIKE)
        .order_by(Swipe.updated_at.desc(), Restaurant.id)
        .limit(limit)
    )
    return [
        Favorite(user_id=owner, restaurant=restaurant, match_score=swipe.match_score or 0, liked_at=swipe.updated_at)
        for swipe, restaurant in rows
    ]


def is_favorite(*, actor: User, user_id: uuid.UUID | str | None, restaurant_id: str) -> bool:
    """Whether the user liked the restaurant. :raise 403: USER_MISMATCH. :raise 404: RESTAURANT_NOT_FOUND."""
    owner = ensure_self_or_admin(user_id, actor)
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    action = db.session.scalar(select(Swipe.action).where(Swipe.user_id == owner, Swipe.restaurant_id == restaurant.id))
    return action == SwipeAction.LIKE


def remove_favorite(*, actor: User, user_id: uuid.UUID | str | None, restaurant_id: str) -> FavoriteRemoval:
    """Unlike a restaurant: the like is deleted, so the feed may show it again (idempotent).

    :raise 403: USER_MISMATCH. :raise 404: RESTAURANT_NOT_FOUND.
    """
    owner = ensure_self_or_admin(user_id, actor)
    with atomic():
        restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
        result = db.session.execute(
            delete(Swipe).where(
                Swipe.user_id == owner, Swipe.restaurant_id == restaurant.id, Swipe.action == SwipeAction.LIKE
            )
        )
    if result.rowcount:
        return FavoriteRemoval(success=True, message=f"{restaurant.name} was removed from your favorites.")
    return FavoriteRemoval(success=True, message=f"{restaurant.name} was not in your favorites.")


# ---------------------------------------------------------------- the feed


def get_feed(*, actor: User, user_id: uuid.UUID | str | None, limit: int) -> list[FeedEntry]:
    """Seed 000's discovery feed: unswiped restaurants matching the user's filters, best match first.

    :raise 403: USER_MISMATCH. :raise 404: USER_NOT_FOUND.
    """
    owner = ensure_self_or_admin(user_id, actor)
    _ensure_user(owner, actor)
    preferences = load_preferences(user_id=owner)
    affinity = load_affinity(user_id=owner)
    query, params = build_feed_query(user_id=owner, preferences=preferences, affinity=affinity, limit=limit)
    rows = db.session.execute(query, params).mappings().all()
    restaurants = {
        r.id: r for r in db.session.scalars(select(Restaurant).where(Restaurant.id.in_([row["id"] for row in rows])))
    }
    return [
        FeedEntry(
            restaurant=restaurants[row["id"]],
            distance_miles=None if row["distance_rounded"] is None else float(row["distance_rounded"]),
            match_score=int(row["match_score"]),
            match_reason=match_reason(row, restaurants[row["id"]], affinity, preferences),
        )
        for row in rows
    ]


def load_affinity(*, user_id: uuid.UUID) -> Affinity:
    """Count the cuisines and features of the restaurants the user liked (reads the swipes primary key)."""
    liked = db.session.execute(
        select(Restaurant.cuisines, Restaurant.features)
        .join(Swipe, Swipe.restaurant_id == Restaurant.id)
        .where(Swipe.user_id == user_id, Swipe.action == SwipeAction.LIKE)
    ).all()
    cuisines: Counter[str] = Counter()
    features: Counter[str] = Counter()
    for row in liked:
        cuisines.update(set(row.cuisines or []))
        features.update(set(row.features or []))
    n = len(liked)
    return Affinity(
        likes=n,
        cuisine_shares={c: k / n for c, k in cuisines.items()},
        feature_shares={f: k / n for f, k in features.items()},
    )


def cuisine_shares(preferences: Preferences, affinity: Affinity) -> dict[str, float]:
    """Share of likes per cuisine, the preferred cuisines counting as one extra liked restaurant.

    That prior lets a new user's stated cuisines speak, and likes soon outweigh it: with
    preferences [Italian, Japanese] and three Italian likes, Italian is 4/4 and Japanese 1/4.
    """
    prior = 1 if preferences.cuisines else 0
    total = affinity.likes + prior
    if total == 0:
        return {}
    counts = {c: share * affinity.likes for c, share in affinity.cuisine_shares.items()}
    for c in preferences.cuisines:
        counts[c] = counts.get(c, 0) + 1
    return {c: k / total for c, k in counts.items()}


def feed_weights(preferences: Preferences, affinity: Affinity) -> dict[str, float]:
    """The weights in play for this user: cuisine needs likes or preferred cuisines, features need
    liked features, distance needs a home; the rest renormalise to a 0-100 scale."""
    weights = {"rating": WEIGHT_RATING, "popularity": WEIGHT_POPULARITY}
    if cuisine_shares(preferences, affinity):
        weights["cuisine"] = WEIGHT_CUISINE
    if affinity.feature_shares:
        weights["feature"] = WEIGHT_FEATURE
    if preferences.home is not None:
        weights["distance"] = WEIGHT_DISTANCE
    return weights


_HAVERSINE = (
    f"2 * {EARTH_RADIUS_MILES} * asin(least(1.0, sqrt("
    "power(sin(radians(r.latitude - :home_lat) / 2), 2)"
    " + cos(radians(:home_lat)) * cos(radians(r.latitude)) * power(sin(radians(r.longitude - :home_lon) / 2), 2)"
    ")))"
)


def build_feed_query(
    *, user_id: uuid.UUID, preferences: Preferences, affinity: Affinity, limit: int, explain: str = ""
) -> tuple[TextClause, dict[str, Any]]:
    """The feed as one SQL statement and its parameters.

    `explain` (e.g. "ANALYZE, BUFFERS, FORMAT JSON") prefixes EXPLAIN with those options, for
    bench/discovery_feed.py and the plan test, so they examine exactly the statement the feed runs.
    """
    shares = cuisine_shares(preferences, affinity)
    weights = feed_weights(preferences, affinity)
    params: dict[str, Any] = {
        "user_id": user_id,
        "limit": limit,
        "w_cuisine": weights.get("cuisine", 0.0),
        "w_feature": weights.get("feature", 0.0),
        "w_rating": weights["rating"],
        "w_popularity": weights["popularity"],
        "w_distance": weights.get("distance", 0.0),
        "w_total": sum(weights.values()),
        "popularity_log_cap": math.log1p(POPULARITY_CAP),
    }
    # Only predicates that apply are written, so the planner sees plain indexable conditions.
    where = ["NOT EXISTS (SELECT 1 FROM swipes s WHERE s.user_id = :user_id AND s.restaurant_id = r.id)"]
    if preferences.cuisines:
        where.append("r.cuisines && CAST(:cuisines AS varchar(60)[])")
        params["cuisines"] = list(preferences.cuisines)
    if preferences.price_ranges:
        where.append("r.price_range = ANY(CAST(:price_ranges AS smallint[]))")
        params["price_ranges"] = list(preferences.price_ranges)
    distance_sql = "NULL::float8"
    home = preferences.home
    if home is not None:
        lat, lon = home
        max_miles = preferences.max_distance_miles
        params.update(home_lat=lat, home_lon=lon, max_miles=max_miles)
        # A bounding box (ix_restaurants_latitude_longitude) in front of the exact haversine test.
        lat_delta = max_miles / MILES_PER_DEGREE_LATITUDE
        params.update(lat_min=lat - lat_delta, lat_max=lat + lat_delta)
        where.append("r.latitude BETWEEN :lat_min AND :lat_max")
        widest = math.radians(min(90.0, abs(lat) + lat_delta))
        if math.cos(widest) > 0.01:
            lon_delta = lat_delta / math.cos(widest)
            if lon - lon_delta >= -180 and lon + lon_delta <= 180:  # no wrap across the antimeridian
                params.update(lon_min=lon - lon_delta, lon_max=lon + lon_delta)
                where.append("r.longitude BETWEEN :lon_min AND :lon_max")
        distance_sql = _HAVERSINE
        where.append(f"{_HAVERSINE} <= :max_miles")
    distance_term = "0.0::float8" if home is None else "greatest(0.0, 1.0 - r.distance_miles / :max_miles)"
    # Affinity only adds to the rest of the score, by at most `affinity_bound`: a candidate whose
    # other signals plus that bound cannot reach the limit-th best of the other signals alone can
    # never make the page, so the (costlier) affinity is computed for the shortlist only. The
    # result is exactly that of scoring every candidate; the margin covers float rounding.
    params["affinity_bound"] = (
        params["w_cuisine"] * max(shares.values(), default=0.0)
        + params["w_feature"] * max(affinity.feature_shares.values(), default=0.0)
    ) / params["w_total"]
    sql = f"""{f"EXPLAIN ({explain})" if explain else ""}
WITH candidates AS (
    SELECT r.id, r.cuisines, r.features, r.distance_miles, r.rating, r.popularity,
        {distance_term} AS distance,
        (CAST(:w_rating AS float8) * r.rating + CAST(:w_popularity AS float8) * r.popularity
         + CAST(:w_distance AS float8) * {distance_term}) / CAST(:w_total AS float8) AS rest
    FROM (
        SELECT r.id, r.cuisines, r.features, {distance_sql} AS distance_miles, r.rating / 5.0 AS rating,
            least(1.0, ln(1 + r.review_count) / CAST(:popularity_log_cap AS float8)) AS popularity
        FROM restaurants r
        WHERE {" AND ".join(where)}
    ) r
), cutoff AS (
    SELECT rest FROM candidates ORDER BY rest DESC OFFSET :limit - 1 LIMIT 1
), signals AS MATERIALIZED (
    -- Materialized: each signal is computed once per candidate, not again for the output columns.
    SELECT c.id, c.distance_miles, c.rating, c.popularity, c.distance,
        {_best_share_sql("c.cuisines", shares, "cuisine", params)} AS cuisine,
        {_best_share_sql("c.features", affinity.feature_shares, "feature", params)} AS feature
    FROM candidates c
    WHERE c.rest + CAST(:affinity_bound AS float8) + 1e-9
          >= coalesce((SELECT rest FROM cutoff), '-infinity'::float8)
), scored AS (
    SELECT s.*,
        (CAST(:w_cuisine AS float8) * s.cuisine + CAST(:w_feature AS float8) * s.feature
         + CAST(:w_rating AS float8) * s.rating + CAST(:w_popularity AS float8) * s.popularity
         + CAST(:w_distance AS float8) * s.distance) / CAST(:w_total AS float8) AS score
    FROM signals s
)
SELECT id, score, round((100 * score)::numeric)::int AS match_score,
    round(distance_miles::numeric, 1) AS distance_rounded,
    cuisine, feature, rating, popularity, distance
FROM scored
ORDER BY score DESC, id
LIMIT :limit
"""
    return text(sql), params


def _best_share_sql(column: str, shares: dict[str, float], prefix: str, params: dict[str, Any]) -> str:
    """The largest share among the row's names, as a CASE over array overlaps, largest share first.

    One `&&` per distinct share value instead of a correlated unnest per row: scoring the whole
    catalogue (a user without filters) stays a few microseconds a row.
    """
    by_share: dict[float, list[str]] = {}
    for name, share in shares.items():
        by_share.setdefault(share, []).append(name)
    branches = []
    for i, (share, names) in enumerate(sorted(by_share.items(), reverse=True)):
        params[f"{prefix}_names_{i}"], params[f"{prefix}_share_{i}"] = sorted(names), share
        names_param, share_param = f"{prefix}_names_{i}", f"{prefix}_share_{i}"
        branches.append(f"WHEN {column} && CAST(:{names_param} AS varchar(60)[]) THEN CAST(:{share_param} AS float8)")
    if not branches:
        return "0.0::float8"
    return f"CASE {' '.join(branches)} ELSE 0.0::float8 END"


# Phrases for features the demo catalogue uses; any other feature is shown as it is spelled.
FEATURE_PHRASES = {
    "Romantic": "Romantic atmosphere",
    "Outdoor Seating": "Outdoor seating",
    "Wine Bar": "Great wine list",
    "Private Dining": "Private dining",
    "Live Music": "Live music",
    "Rooftop": "Rooftop views",
    "Chef's Table": "Chef's table",
    "Vegan Friendly": "Vegan-friendly menu",
    "Kid Friendly": "Great for kids",
    "Cocktail Bar": "Craft cocktails",
    "Late Night": "Open late",
    "Brunch": "Weekend brunch",
    "Waterfront": "Waterfront views",
    "Tasting Menu": "Tasting menu",
    "Dog Friendly": "Dog-friendly",
}

# When two signals contribute equally, this order decides which is named first.
_REASON_ORDER = ("cuisine", "feature", "distance", "rating", "popularity")


def match_reason(row: Any, restaurant: Restaurant, affinity: Affinity, preferences: Preferences) -> str:
    """The two signals that added most to this restaurant's score, in words ("Loves Italian cuisine • 0.8 mi away")."""
    weights = feed_weights(preferences, affinity)
    contributions = [(weights[name] * float(row[name]), -_REASON_ORDER.index(name), name) for name in weights]
    top = [name for value, _, name in sorted(contributions, reverse=True) if value > 0][:2]
    phrases = [_phrase(name, row, restaurant, affinity, preferences) for name in top]
    return " • ".join(phrases) if phrases else "New on Seatkeeper"


def _phrase(name: str, row: Any, restaurant: Restaurant, affinity: Affinity, preferences: Preferences) -> str:
    if name == "cuisine":
        shares = cuisine_shares(preferences, affinity)
        best = max(restaurant.cuisines, key=lambda c: shares.get(c, 0.0))
        return f"Loves {best} cuisine"
    if name == "feature":
        best = max(restaurant.features, key=lambda f: affinity.feature_shares.get(f, 0.0))
        return FEATURE_PHRASES.get(best, best)
    if name == "distance":
        return f"{float(row['distance_rounded']):.1f} mi away"
    if name == "rating":
        return f"Rated {restaurant.rating:.1f}/5"
    return f"Popular: {restaurant.review_count:,} reviews"
