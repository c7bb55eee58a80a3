"""People: admins create, read and edit users and count them; users edit their own name and phone
and change their password, which ends every other session of theirs."""

from __future__ import annotations

import uuid

from api.accounts.models import Role
from api.restaurants.demo import ensure_cafe_fausse
from tests.accounts.conftest import FIXTURE_PASSWORD, keep_setup, login, present_refresh_token, refresh_cookie

NEW_PASSWORD = "a brand new passphrase"


def cafe_id() -> str:
    restaurant, _ = ensure_cafe_fausse()
    keep_setup()
    return str(restaurant.id)


def test_admin_creates_staff_of_a_restaurant_who_can_sign_in(client, auth_headers, admin):
    restaurant_id = cafe_id()
    response = client.post(
        "/api/admin/users",
        json={
            "email": "Cook@Example.com",
            "password": NEW_PASSWORD,
            "role": "staff",
            "restaurantId": restaurant_id,
            "name": " Chef Cook ",
            "phone": "+1 555 0100",
        },
        headers=auth_headers(admin),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("email", "role", "restaurantId", "name", "phone", "isActive")} == {
        "email": "cook@example.com",
        "role": "staff",
        "restaurantId": restaurant_id,
        "name": "Chef Cook",
        "phone": "+1 555 0100",
        "isActive": True,
    }
    assert "password" not in body and "passwordHash" not in body
    signed_in = login(client, "cook@example.com", NEW_PASSWORD)
    assert signed_in.status_code == 200 and signed_in.get_json()["user"]["role"] == "staff"

    response = client.get(f"/api/admin/users/{body['id']}", headers=auth_headers(admin))
    assert response.status_code == 200 and response.get_json() == body


def test_creating_a_user_checks_role_restaurant_email_and_password(client, auth_headers, admin, customer):
    restaurant_id = cafe_id()
    cases = [
        ({"role": "staff"}, 422, "VALIDATION_ERROR"),  # staff without a restaurant
        ({"role": "customer", "restaurantId": restaurant_id}, 422, "VALIDATION_ERROR"),
        ({"role": "admin", "restaurantId": restaurant_id}, 422, "VALIDATION_ERROR"),
        ({"role": "staff", "restaurantId": str(uuid.uuid4())}, 422, "VALIDATION_ERROR"),  # no such restaurant
        ({"role": "owner"}, 422, "VALIDATION_ERROR"),
        ({"role": "customer", "password": "short"}, 422, "WEAK_PASSWORD"),
        ({"role": "customer", "email": customer.email.upper()}, 409, "EMAIL_TAKEN"),
        ({"role": "customer", "isActive": False}, 422, "VALIDATION_ERROR"),  # unknown field
    ]
    for extra, status, code in cases:
        body = {"email": "someone-new@example.com", "password": NEW_PASSWORD, **extra}
        response = client.post("/api/admin/users", json=body, headers=auth_headers(admin))
        assert (response.status_code, response.get_json()["code"]) == (status, code), extra
        if status == 422 and code == "VALIDATION_ERROR" and "restaurantId" in str(extra):
            assert "restaurantId" in response.get_json()["details"]["fields"], extra


def test_only_admins_manage_people(client, auth_headers, customer, make_user):
    staff = make_user(Role.STAFF, "waiter@example.com")
    for user in (customer, staff):
        assert client.get(f"/api/admin/users/{customer.id}", headers=auth_headers(user)).status_code == 403
        assert client.get("/api/users/summary", headers=auth_headers(user)).status_code == 403
        response = client.post(
            "/api/admin/users", json={"email": "x@example.com", "role": "admin"}, headers=auth_headers(user)
        )
        assert response.status_code == 403


def test_reading_an_unknown_user_is_404(client, auth_headers, admin):
    response = client.get(f"/api/admin/users/{uuid.uuid4()}", headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (404, "USER_NOT_FOUND")


def test_admin_edits_name_phone_role_and_restaurant(client, auth_headers, admin, customer):
    restaurant_id = cafe_id()
    response = client.patch(
        f"/api/admin/users/{customer.id}",
        json={"name": "Ada King", "phone": "555-0199", "role": "staff", "restaurantId": restaurant_id},
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["phone"], body["role"], body["restaurantId"]) == (
        "Ada King",
        "555-0199",
        "staff",
        restaurant_id,
    )
    # a name alone leaves the rest as it is
    response = client.patch(f"/api/admin/users/{customer.id}", json={"name": "Ada"}, headers=auth_headers(admin))
    assert (response.get_json()["name"], response.get_json()["restaurantId"]) == ("Ada", restaurant_id)
    # back to customer: the restaurant goes with the role
    response = client.patch(f"/api/admin/users/{customer.id}", json={"role": "customer"}, headers=auth_headers(admin))
    assert (response.get_json()["role"], response.get_json()["restaurantId"]) == ("customer", None)
    response = client.patch(f"/api/admin/users/{customer.id}", json={"name": "x" * 201}, headers=auth_headers(admin))
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")


def test_a_deactivated_user_cannot_sign_in_and_their_sessions_end(client, auth_headers, admin, customer):
    signed_in = login(client, customer.email)
    refresh, access = refresh_cookie(signed_in)["value"], signed_in.get_json()["accessToken"]
    keep_setup()
    response = client.patch(f"/api/admin/users/{customer.id}", json={"isActive": False}, headers=auth_headers(admin))
    assert response.status_code == 200 and response.get_json()["isActive"] is False
    assert login(client, customer.email).get_json()["code"] == "INVALID_CREDENTIALS"
    other = client.application.test_client()
    present_refresh_token(other, refresh)
    assert other.post("/api/auth/refresh").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_summary_counts_users_by_role(client, auth_headers, admin, customer, other_customer, make_user):
    make_user(Role.STAFF, "waiter@example.com")
    gone = make_user(Role.CUSTOMER, "gone@example.com")
    client.patch(f"/api/admin/users/{gone.id}", json={"isActive": False}, headers=auth_headers(admin))
    response = client.get("/api/users/summary", headers=auth_headers(admin))
    assert response.status_code == 200
    # by hand: admin; customer, other_customer, gone (deactivated, still counted); one waiter
    assert response.get_json() == {
        "totalUsers": 5,
        "byRole": {"customer": 3, "staff": 1, "admin": 1},
        "activeUsers": 4,
    }


def test_users_edit_their_own_name_and_phone_only(client, auth_headers, customer):
    response = client.patch(
        "/api/users/me", json={"name": "  Ada Lovelace ", "phone": "555 0123"}, headers=auth_headers(customer)
    )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["name"], response.get_json()["phone"]) == ("Ada Lovelace", "555 0123")
    assert client.get("/api/auth/me", headers=auth_headers(customer)).get_json()["name"] == "Ada Lovelace"
    for escalation in ({"role": "admin"}, {"isActive": True}, {"email": "x@example.com"}, {"restaurantId": None}):
        response = client.patch("/api/users/me", json=escalation, headers=auth_headers(customer))
        assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR"), escalation
    assert client.get("/api/auth/me", headers=auth_headers(customer)).get_json()["role"] == "customer"
    assert client.patch("/api/users/me", json={"name": "Anon"}).status_code == 401
    unchanged = client.patch("/api/users/me", headers=auth_headers(customer))  # no body: nothing to change
    assert unchanged.status_code == 200 and unchanged.get_json()["name"] == "Ada Lovelace"


def test_changing_the_password_ends_every_other_session_but_this_one(client, customer):
    here = login(client, customer.email)
    elsewhere = login(client, customer.email)
    keep_setup()
    here_access = here.get_json()["accessToken"]
    here_refresh, elsewhere_refresh = refresh_cookie(here)["value"], refresh_cookie(elsewhere)["value"]
    elsewhere_access = elsewhere.get_json()["accessToken"]

    response = client.post(
        "/api/users/me/password",
        json={"currentPassword": FIXTURE_PASSWORD, "newPassword": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {here_access}"},
    )
    assert response.status_code == 204, response.get_json()

    # this session goes on: its access token works and its refresh token rotates
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {here_access}"}).status_code == 200
    mine = client.application.test_client()
    present_refresh_token(mine, here_refresh)
    assert mine.post("/api/auth/refresh").status_code == 200
    # the other one is over, both tokens
    theirs = client.application.test_client()
    present_refresh_token(theirs, elsewhere_refresh)
    response = theirs.post("/api/auth/refresh")
    assert (response.status_code, response.get_json()["code"]) == (401, "TOKEN_REVOKED")
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {elsewhere_access}"})
    assert response.status_code == 401
    # the old password is gone, the new one works
    assert login(client, customer.email).status_code == 401
    assert login(client, customer.email, NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(client, auth_headers, customer):
    headers = auth_headers(customer)
    response = client.post(
        "/api/users/me/password",
        json={"currentPassword": "not my password", "newPassword": NEW_PASSWORD},
        headers=headers,
    )
    assert (response.status_code, response.get_json()["code"]) == (403, "WRONG_PASSWORD")
    response = client.post(
        "/api/users/me/password", json={"currentPassword": FIXTURE_PASSWORD, "newPassword": "short"}, headers=headers
    )
    assert (response.status_code, response.get_json()["code"]) == (422, "WEAK_PASSWORD")
    response = client.post("/api/users/me/password", json={"newPassword": NEW_PASSWORD}, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (422, "VALIDATION_ERROR")
    assert login(client, customer.email).status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 200


def test_wrong_current_passwords_are_rate_limited_per_user(make_app, app, customer):
    from tests.conftest import bearer

    limited = make_app(ratelimit_enabled=True, ratelimit_login="2 per minute")
    client = limited.test_client()
    with limited.app_context():
        headers = bearer(customer)
    body = {"currentPassword": "not my password", "newPassword": NEW_PASSWORD}
    answers = [client.post("/api/users/me/password", json=body, headers=headers).status_code for _ in range(3)]
    assert answers == [403, 403, 429]
