"""Admin user management over HTTP: listing, role and restaurant changes, deactivation that bites at once."""

from __future__ import annotations

import uuid

from api.accounts.models import Role
from api.restaurants.demo import ensure_cafe_fausse
from tests.accounts.conftest import keep_setup, login, present_refresh_token, refresh_cookie


def test_admin_lists_users_paginated_and_filtered(client, auth_headers, admin, customer, other_customer, make_user):
    make_user(Role.STAFF, "cook@example.com")
    response = client.get("/api/admin/users?page=1&pageSize=2", headers=auth_headers(admin))
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["items"]) == 2
    assert body["pagination"] == {
        "page": 1,
        "pageSize": 2,
        "total": 4,
        "pages": 2,
        "nextPage": 2,
        "prevPage": None,
    }
    assert all("passwordHash" not in item and "password_hash" not in item for item in body["items"])

    response = client.get("/api/admin/users?role=staff", headers=auth_headers(admin))
    assert [user["email"] for user in response.get_json()["items"]] == ["cook@example.com"]
    response = client.get("/api/admin/users?email=OTHER", headers=auth_headers(admin))
    assert [user["email"] for user in response.get_json()["items"]] == [other_customer.email]


def test_list_rejects_bad_query_values(client, auth_headers, admin):
    for query in ("pageSize=0", "pageSize=101", "page=0", "role=owner"):
        response = client.get(f"/api/admin/users?{query}", headers=auth_headers(admin))
        assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR"), query


def test_admin_makes_a_customer_staff_of_a_restaurant(client, auth_headers, admin, customer):
    restaurant, _ = ensure_cafe_fausse()
    response = client.patch(
        f"/api/admin/users/{customer.id}",
        json={"role": "staff", "restaurantId": str(restaurant.id)},
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["role"] == "staff"
    assert response.get_json()["restaurantId"] == str(restaurant.id)
    # the change applies to the very next request, whatever the old token's role claim says
    me = client.get("/api/auth/me", headers=auth_headers(customer)).get_json()
    assert me["role"] == "staff"


def test_patch_errors(client, auth_headers, admin, customer):
    keep_setup()
    response = client.patch(f"/api/admin/users/{uuid.uuid4()}", json={"isActive": False}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (404, "USER_NOT_FOUND")
    response = client.patch("/api/admin/users/not-a-uuid", json={"isActive": False}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (404, "NOT_FOUND")
    response = client.patch(f"/api/admin/users/{customer.id}", json={"role": "owner"}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")
    response = client.patch(f"/api/admin/users/{customer.id}", json={"role": "staff"}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")
    response = client.patch(f"/api/admin/users/{admin.id}", json={"role": "customer"}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (403, "FORBIDDEN")


def test_deactivated_users_tokens_stop_working_at_once(client, auth_headers, admin, customer):
    signed_in = login(client, customer.email)
    access = signed_in.get_json()["accessToken"]
    refresh = refresh_cookie(signed_in)["value"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200

    response = client.patch(f"/api/admin/users/{customer.id}", json={"isActive": False}, headers=auth_headers(admin))
    assert response.status_code == 200 and response.get_json()["isActive"] is False

    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    present_refresh_token(client, refresh)
    response = client.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    assert login(client, customer.email).status_code == 401

    # reactivated: signing in works again (old refresh tokens stay revoked)
    client.patch(f"/api/admin/users/{customer.id}", json={"isActive": True}, headers=auth_headers(admin))
    assert login(client, customer.email).status_code == 200
