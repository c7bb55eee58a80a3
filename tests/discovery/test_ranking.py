"""The feed's filters and ranking, with scores worked out by hand from docs/discovery.md.

score = 100 x sum(weight x signal) / sum(weights in play), weights cuisine .35, feature .10,
rating .25, popularity .15, distance .15; rating = stars / 5; popularity = ln(1 + reviews) / ln(5001);
distance = 1 - miles / maxDistance. Cuisine and feature need likes (or preferred cuisines),
distance needs a home; absent signals drop out of both sums.

Handy values: ln(5001) = 8.51739, so popularity(10) = 0.28153, (100) = 0.54185, (1000) = 0.81113.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.discovery import service as discovery
from tests.restaurants.helpers import make_restaurant

HOME = (40.7359, -74.0014)


def feed(user, limit=20):
    return discovery.get_feed(actor=user, user_id=None, limit=limit)


def names(entries):
    return [e.restaurant.name for e in entries]


def scores(entries):
    return {e.restaurant.name: e.match_score for e in entries}


def swipe(user, restaurant, action, now):
    return discovery.record_swipe(actor=user, user_id=None, restaurant_id=restaurant.id, action=action, now=now)


def set_preferences(user, now, **preferences):
    discovery.replace_preferences(actor=user, user_id=None, preferences=preferences, now=now)


@pytest.fixture
def three_places():
    """A: Italian 4.0 (100 reviews), B: Japanese 4.8 (1000), C: Italian 3.5 (10); no coordinates."""
    common = {"latitude": None, "longitude": None, "features": []}
    return {
        "A": make_restaurant(name="A", cuisines=["Italian"], rating=4.0, review_count=100, **common),
        "B": make_restaurant(name="B", cuisines=["Japanese"], rating=4.8, review_count=1000, **common),
        "C": make_restaurant(name="C", cuisines=["Italian"], rating=3.5, review_count=10, **common),
    }


def test_new_user_gets_the_best_rated_overall(customer, three_places):
    # Only rating (.25) and popularity (.15) are in play:
    #   A (.25 x .80 + .15 x .54185) / .40 = .7032 -> 70
    #   B (.25 x .96 + .15 x .81113) / .40 = .9042 -> 90
    #   C (.25 x .70 + .15 x .28153) / .40 = .5431 -> 54
    entries = feed(customer)

    assert names(entries) == ["B", "A", "C"]
    assert scores(entries) == {"A": 70, "B": 90, "C": 54}
    assert entries[0].match_reason == "Rated 4.8/5 • Popular: 1,000 reviews"
    assert all(e.distance_miles is None for e in entries)


def test_liking_three_italian_places_raises_italian_restaurants(customer, three_places, now):
    liked = [make_restaurant(name=f"Liked {i}", cuisines=["Italian"], features=[]) for i in range(3)]
    for i, restaurant in enumerate(liked):
        swipe(customer, restaurant, "like", now + timedelta(seconds=i))

    # Every like is Italian, so Italian's share is 1 and cuisine (.35) joins the sum (.75):
    #   A (.35 x 1 + .2 + .08128) / .75 = .8417 -> 84
    #   B (.35 x 0 + .24 + .12167) / .75 = .4822 -> 48
    #   C (.35 x 1 + .175 + .04223) / .75 = .7563 -> 76
    entries = feed(customer)

    assert names(entries) == ["A", "C", "B"]
    assert scores(entries) == {"A": 84, "B": 48, "C": 76}
    assert entries[0].match_reason == "Loves Italian cuisine • Rated 4.0/5"


def test_liked_features_raise_restaurants_that_have_them(customer, now):
    plain = make_restaurant(name="Plain", cuisines=["Thai"], features=["Kid Friendly"], latitude=None, longitude=None)
    cosy = make_restaurant(name="Cosy", cuisines=["Thai"], features=["Romantic"], latitude=None, longitude=None)
    liked = make_restaurant(name="Liked", cuisines=["Greek"], features=["Romantic", "Wine Bar"])
    swipe(customer, liked, "like", now)

    # Likes: one restaurant, Greek, Romantic + Wine Bar. Thai has share 0; Romantic has share 1.
    # In play: cuisine .35, feature .10, rating .25, popularity .15 (sum .85); both rated 4.0 with 100 reviews:
    #   Cosy  (.10 x 1 + .2 + .08128) / .85 = .4486 -> 45
    #   Plain (.10 x 0 + .2 + .08128) / .85 = .3309 -> 33
    entries = feed(customer)

    assert names(entries) == ["Cosy", "Plain"]
    assert scores(entries) == {"Cosy": 45, "Plain": 33}
    assert entries[0].match_reason == "Rated 4.0/5 • Romantic atmosphere"
    assert plain.id != cosy.id


def test_preferred_cuisines_filter_and_likes_outweigh_them(customer, now):
    italian = make_restaurant(name="Italian", cuisines=["Italian"], latitude=None, longitude=None)
    japanese = make_restaurant(name="Japanese", cuisines=["Japanese"], latitude=None, longitude=None)
    make_restaurant(name="Mexican", cuisines=["Mexican"], rating=5.0, latitude=None, longitude=None)
    set_preferences(customer, now, cuisines=["Italian", "Japanese"])

    # Preferred cuisines count as one extra like holding both: each has share 1 before any like.
    before = feed(customer)
    assert [e.restaurant.id for e in before] == sorted([italian.id, japanese.id])  # equal scores: by id
    assert scores(before) == {"Italian": 84, "Japanese": 84}  # (.35 + .2 + .08128) / .75
    assert before[0].match_reason.startswith("Loves ")

    for i in range(3):
        swipe(customer, make_restaurant(name=f"Liked {i}", cuisines=["Italian"]), "like", now)
    # Italian (3 + 1) / 4 = 1, Japanese 1 / 4 = .25; both 4.0 stars, 100 reviews; sum of weights .75:
    #   Italian  (.35 + .28128) / .75 = .8417 -> 84
    #   Japanese (.0875 + .28128) / .75 = .4917 -> 49
    after = feed(customer)
    assert names(after) == ["Italian", "Japanese"]
    assert scores(after) == {"Italian": 84, "Japanese": 49}


def test_price_preferences_filter(customer, now):
    make_restaurant(name="Cheap", price_range=1, latitude=None, longitude=None)
    make_restaurant(name="Mid", price_range=2, latitude=None, longitude=None)
    make_restaurant(name="Fine", price_range=4, latitude=None, longitude=None)
    set_preferences(customer, now, price_ranges=[1, 4])

    assert sorted(names(feed(customer))) == ["Cheap", "Fine"]


def test_a_restaurant_beyond_the_max_distance_never_appears(customer, now):
    lat, lon = HOME
    # 0.01 degree of latitude is 0.69094 miles; at this latitude 0.03 degree of longitude is 1.5711 miles.
    make_restaurant(name="Near", latitude=lat + 0.01, longitude=lon)  # 0.69 mi
    make_restaurant(name="Mid", latitude=lat - 0.02, longitude=lon)  # 1.38 mi
    make_restaurant(name="Corner", latitude=lat + 0.02, longitude=lon + 0.03)  # 2.09 mi: in the box, not the circle
    make_restaurant(name="Far", latitude=lat + 0.05, longitude=lon, rating=5.0, review_count=5000)  # 3.45 mi
    make_restaurant(name="Nowhere", latitude=None, longitude=None, rating=5.0)  # unknown distance
    set_preferences(customer, now, home_location={"latitude": lat, "longitude": lon}, max_distance_miles=2.0)

    # In play: rating .25, popularity .15, distance .15 (sum .55); both 4.0 stars, 100 reviews:
    #   Near (.2 + .08128 + .15 x (1 - .69094 / 2)) / .55 = .6899 -> 69
    #   Mid  (.2 + .08128 + .15 x (1 - 1.38188 / 2)) / .55 = .5957 -> 60
    entries = feed(customer)

    assert names(entries) == ["Near", "Mid"]
    assert scores(entries) == {"Near": 69, "Mid": 60}
    assert [e.distance_miles for e in entries] == [0.7, 1.4]
    assert entries[0].match_reason == "Rated 4.0/5 • 0.7 mi away"

    set_preferences(customer, now, home_location={"latitude": lat, "longitude": lon}, max_distance_miles=5.0)
    assert "Far" in names(feed(customer)) and "Nowhere" not in names(feed(customer))


def test_a_swiped_restaurant_never_reappears(customer, three_places, now):
    swipe(customer, three_places["B"], "pass", now)
    assert names(feed(customer)) == ["A", "C"]

    swipe(customer, three_places["B"], "like", now + timedelta(minutes=1))
    swipe(customer, three_places["A"], "like", now + timedelta(minutes=2))
    assert names(feed(customer)) == ["C"]


def test_a_delayed_older_swipe_does_not_overwrite_a_newer_one(customer, three_places, now):
    swipe(customer, three_places["A"], "like", now)
    stale = swipe(customer, three_places["A"], "pass", now - timedelta(seconds=5))

    assert stale.action == "like"
    assert stale.updated_at == now


def test_other_users_swipes_do_not_hide_restaurants(customer, other_customer, three_places, now):
    swipe(other_customer, three_places["B"], "pass", now)

    assert names(feed(customer)) == ["B", "A", "C"]


def test_equal_scores_are_ordered_by_id(customer):
    twins = [make_restaurant(name=f"Twin {i}", latitude=None, longitude=None) for i in range(4)]

    entries = feed(customer)

    assert [e.restaurant.id for e in entries] == sorted(t.id for t in twins)
    assert len({e.match_score for e in entries}) == 1


def test_feed_is_empty_not_an_error_when_nothing_matches(customer, now):
    make_restaurant(cuisines=["Italian"])
    set_preferences(customer, now, cuisines=["Klingon"])

    assert feed(customer) == []
