"""Bad input anywhere is a 4xx envelope naming what is wrong, never a 500, and changes nothing.

PostgreSQL cannot store a NUL character and UTF-8 cannot encode a lone surrogate (JSON "\\ud800");
the shared schema base (`api.schemas.BaseSchema`) refuses both in every body and query, nested
or not, before any service runs. Path parameters are parsed (UUIDs, dates) before they reach SQL.
"""

from __future__ import annotations

import pytest

from api.accounts.models import User
from api.extensions import db
from tests.test_errors import assert_envelope

NUL = "\u0000"
SURROGATE = "\ud800"


def fields_of(response) -> dict:
    return assert_envelope(response, 422, "VALIDATION_ERROR")["details"]["fields"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_bad_text_in_a_body_field_is_422_naming_the_field_and_stores_nothing(client, bad):
    body = {"email": "newcomer@example.com", "password": "a long enough password", "name": f"Al{bad}ex"}

    response = client.post("/api/auth/register", json=body)

    assert list(fields_of(response)) == ["name"]
    assert db.session.query(User).filter_by(email="newcomer@example.com").count() == 0


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_bad_text_in_a_login_email_is_422_not_a_lookup(client, bad):
    response = client.post("/api/auth/login", json={"email": f"guest{bad}@example.com", "password": "x"})

    assert list(fields_of(response)) == ["email"]


def test_bad_text_in_a_newsletter_signup_is_422(client):
    response = client.post("/api/newsletter", json={"email": "reader@example.com", "name": f"Re{NUL}ader"})

    assert list(fields_of(response)) == ["name"]


def test_nul_in_a_nested_list_names_its_position_and_changes_nothing(client, customer, auth_headers):
    url = f"/api/users/{customer.id}/preferences"
    before = client.get(url, headers=auth_headers(customer)).get_json()

    response = client.put(url, json={"cuisines": ["Italian", f"Th{NUL}ai"]}, headers=auth_headers(customer))

    assert fields_of(response) == {"cuisines": {"1": ["Text may not contain NUL characters."]}}
    assert client.get(url, headers=auth_headers(customer)).get_json() == before


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/restaurants?q=pi{NUL}zza", "q"),
        (f"/api/restaurants?cuisine=Italian&cuisine=Th{NUL}ai", "cuisine"),
    ],
)
def test_nul_in_a_query_value_is_422_naming_the_parameter(client, url, field):
    assert field in fields_of(client.get(url))


def test_nul_in_a_staff_query_is_422(client, admin, auth_headers):
    assert "email" in fields_of(client.get(f"/api/admin/users?email=a{NUL}b", headers=auth_headers(admin)))
    listing = client.get(f"/api/reservations?date=2026-03-02&email=a{NUL}b", headers=auth_headers(admin))
    assert "email" in fields_of(listing)


def test_nul_in_a_field_name_is_escaped_so_the_stored_idempotent_answer_replays(client):
    # The 422 of an idempotent route is kept in jsonb, which cannot hold NUL either.
    body = {"time": "2026-03-02T19:00:00", "guests": 2, "name": "A", "email": "a@example.com", f"na{NUL}me": 1}
    headers = {"Idempotency-Key": "form-submit-nul"}

    first = client.post("/api/reservations", json=body, headers=headers)
    again = client.post("/api/reservations", json=body, headers=headers)

    assert fields_of(first) == {"na\\u0000me": ["Text may not contain NUL characters."]}
    assert again.status_code == 422 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_nul_in_an_idempotency_key_is_422(client):
    response = client.post("/api/reservations", json={}, headers={"Idempotency-Key": f"a{NUL}b"})

    assert "Idempotency-Key" in fields_of(response)


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        (f"/api/restaurants/a{NUL}b", 404, "RESTAURANT_NOT_FOUND"),
        (f"/api/restaurants/a{NUL}b/tables", 404, "RESTAURANT_NOT_FOUND"),
        (f"/api/users/a{NUL}b/preferences", 403, "USER_MISMATCH"),
        (f"/api/reservations/user/a{NUL}b", 403, "USER_MISMATCH"),
    ],
)
def test_nul_in_a_path_parameter_never_reaches_sql(client, admin, customer, auth_headers, url, status, code):
    user = admin if url.endswith("/tables") else customer
    assert_envelope(client.get(url, headers=auth_headers(user)), status, code)


DEEP = "[" * 20000 + "]" * 20000


def _body_routes(app) -> list[tuple[str, str]]:
    """Every JSON route that takes a body, with placeholder path parameters."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            if rule.rule.startswith("/api/"):
                path = rule.rule
                for argument in rule.arguments:
                    path = path.replace(f"<{argument}>", "00000000-0000-0000-0000-000000000000")
                routes.append((method, path))
    return routes


def test_a_body_nested_twenty_thousand_deep_is_400_on_every_route(app, client, admin, auth_headers):
    routes = _body_routes(app)
    assert len(routes) > 15
    for method, path in routes:
        response = client.open(
            path, method=method, data=DEEP, content_type="application/json", headers=auth_headers(admin)
        )
        assert_envelope(response, 400, "MALFORMED_JSON"), (method, path)


def test_shallow_but_bracket_heavy_bodies_still_parse(client):
    response = client.post("/api/newsletter", json={"email": "reader@example.com", "name": "[" * 600}, headers={})
    assert response.status_code != 400, response.get_json()


FAR = "9999-12-31"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/api/reservations/availability?time={FAR}T19:00:00", None),
        ("GET", f"/api/reservations/availability?time={FAR}T23:59:59-12:00", None),
        ("POST", "/api/reservations", {"time": f"{FAR}T19:00:00", "guests": 2, "name": "A", "email": "a@example.com"}),
        ("POST", "/api/reservations/availability", {"date": FAR, "partySize": 2}),
        ("POST", "/api/reservations/hold", {"date": FAR, "time": "19:00", "partySize": 2}),
        ("GET", f"/api/reservations?date={FAR}", None),
    ],
)
def test_the_last_day_of_year_9999_is_422_everywhere(client, cafe_id, customer, admin, auth_headers, method, url, body):
    if body is not None and "partySize" in body:
        body = {**body, "restaurantId": str(cafe_id), "userId": str(customer.id)}
    headers = auth_headers(admin if url.startswith("/api/reservations?") else customer)
    response = client.open(url, method=method, json=body, headers=headers)
    assert response.status_code == 422, (url, response.get_json())
    assert response.get_json()["code"] in {"BAD_TIME", "BAD_DATE", "VALIDATION_ERROR"}


@pytest.fixture
def cafe_id(app):
    from api.restaurants.demo import ensure_cafe_fausse

    restaurant, _ = ensure_cafe_fausse()
    db.session.commit()
    return restaurant.id
