"""What schemathesis (tests/fuzz_openapi.py, in .ci/run) found, pinned as fast tests: the spec says
what the API checks, and OPTIONS advertises only a path's own methods."""

from __future__ import annotations

from tests.conftest import bearer


def spec_schemas(client) -> dict:
    return client.get("/openapi.json").get_json()["components"]["schemas"]


def test_options_on_the_discovery_feed_advertises_only_its_own_methods(client):
    # /api/restaurants/<restaurant_id> (GET, PATCH) must not match the feed's path.
    allowed = {m.strip() for m in client.options("/api/restaurants/discovery").headers["Allow"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS"}
    assert "PATCH" in client.options("/api/restaurants/some-id").headers["Allow"]


def test_price_ranges_times_and_password_length_are_in_the_spec(client):
    schemas = spec_schemas(client)
    assert schemas["PreferencesUpdate"]["properties"]["priceRanges"]["items"]["enum"] == ["$", "$$", "$$$", "$$$$"]
    assert schemas["Period"]["properties"]["openTime"]["pattern"]
    assert schemas["AppHoldCreate"]["properties"]["time"]["pattern"]
    assert schemas["Register"]["properties"]["password"]["minLength"] == 10


def test_a_nullable_nested_object_admits_null_not_any_object(client):
    branches = spec_schemas(client)["PreferencesUpdate"]["properties"]["homeLocation"]["anyOf"]
    assert {"$ref": "#/components/schemas/HomeLocation"} in branches
    assert {"type": "object", "nullable": True, "enum": [None]} in branches


def test_preferences_put_without_a_body_resets_them_as_the_spec_says(client, make_user):
    user = make_user()
    spec = client.get("/openapi.json").get_json()
    assert spec["paths"]["/api/users/{user_id}/preferences"]["put"]["requestBody"]["required"] is False
    response = client.put(f"/api/users/{user.id}/preferences", headers=bearer(user))
    assert response.status_code == 200
    assert response.get_json()["maxDistanceMiles"] == 10.0


def test_calendar_dates_say_their_year_range(client):
    date_filter = next(
        p
        for p in client.get("/openapi.json").get_json()["paths"]["/api/reservations"]["get"]["parameters"]
        if p["name"] == "date"
    )
    assert date_filter["schema"]["pattern"] == "^2[01][0-9]{2}-"  # 2000-01-01 .. 2199-12-31


def test_renumbering_a_table_onto_a_taken_number_is_409_not_500(client, make_user):
    from api.accounts.models import Role
    from tests.booking.helpers import build_restaurant

    restaurant = build_restaurant(tables=[(2, 4)])
    staff = make_user(Role.STAFF, restaurant_id=restaurant.id)
    second = next(table for table in restaurant.tables if table.number == 2)
    response = client.patch(
        f"/api/restaurants/{restaurant.id}/tables/{second.id}", json={"number": 1}, headers=bearer(staff)
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "TABLE_NUMBER_TAKEN"
    assert response.get_json()["details"] == {"number": 1}


def test_exclusive_bounds_are_exclusive_in_the_spec(client):
    distance = spec_schemas(client)["PreferencesUpdate"]["properties"]["maxDistanceMiles"]
    assert distance["minimum"] == 0 and distance["exclusiveMinimum"] is True


def test_a_nullable_price_range_lists_null_among_its_values(client):
    price_range = spec_schemas(client)["AppPreferencesInput"]["properties"]["priceRange"]
    assert price_range["enum"] == ["$", "$$", "$$$", "$$$$", None] and price_range["nullable"] is True
