"""Account rules against real PostgreSQL, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.accounts import service
from api.accounts.models import RefreshToken, Role
from api.errors import AppError
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.accounts.conftest import FIXTURE_PASSWORD, keep_setup

BROWSER = "192.0.2.1 Mozilla/5.0"
THIEF = "198.51.100.9 curl/8.0"


def error_code(excinfo: pytest.ExceptionInfo[AppError]) -> tuple[int, str]:
    return excinfo.value.status, str(excinfo.value.code)


def test_second_registration_of_an_email_hits_the_unique_constraint(app, now):
    service.register_user(email="dup@example.com", password="long enough pass", now=now)
    with pytest.raises(AppError) as excinfo:
        service.register_user(email=" DUP@example.com ", password="another long pass", now=now)
    assert error_code(excinfo) == (409, "EMAIL_TAKEN")
    assert db.session.scalar(select(func.count()).where(service.User.email == "dup@example.com")) == 1


def test_refresh_rotates_within_the_family(customer, now):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    later = now + timedelta(minutes=20)
    rotated = service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=later)
    assert rotated.refresh_token != signed_in.refresh_token
    assert rotated.refresh_expires_at == later + timedelta(days=14)
    tokens = db.session.scalars(select(RefreshToken).order_by(RefreshToken.issued_at)).all()
    assert len({token.family_id for token in tokens}) == 1
    assert tokens[0].consumed_at == later and tokens[1].consumed_at is None


def test_expired_refresh_token_is_refused(customer, now):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(
            refresh_token=signed_in.refresh_token, client=BROWSER, now=now + timedelta(days=14, seconds=1)
        )
    assert error_code(excinfo) == (401, "TOKEN_EXPIRED")


def test_reuse_revokes_the_family_but_not_other_sessions(customer, now):
    laptop = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    phone = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    rotated = service.refresh_session(refresh_token=laptop.refresh_token, client=BROWSER, now=now)
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(refresh_token=laptop.refresh_token, client=THIEF, now=now)
    assert error_code(excinfo) == (401, "TOKEN_REUSED")
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(refresh_token=rotated.refresh_token, client=BROWSER, now=now)
    assert error_code(excinfo) == (401, "TOKEN_REVOKED")
    # the other device's family is untouched
    assert service.refresh_session(refresh_token=phone.refresh_token, client=BROWSER, now=now).user.id == customer.id


def test_same_client_replaying_within_the_grace_window_gets_the_same_pair(customer, now):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    first = service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=now)
    within = now + timedelta(seconds=service.REFRESH_GRACE_SECONDS - 1)
    again = service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=within)
    assert (again.access_token, again.refresh_token) == (first.access_token, first.refresh_token)
    assert (
        db.session.scalar(select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_not(None)))
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 2


@pytest.mark.parametrize(
    "client, seconds_later",
    [(BROWSER, service.REFRESH_GRACE_SECONDS + 1), (THIEF, 1)],
    ids=["too late", "another client"],
)
def test_replay_after_the_grace_window_or_by_another_client_is_reuse(customer, now, client, seconds_later):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=now)
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(
            refresh_token=signed_in.refresh_token, client=client, now=now + timedelta(seconds=seconds_later)
        )
    assert error_code(excinfo) == (401, "TOKEN_REUSED")
    assert (
        db.session.scalar(select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))) == 0
    )


def test_replay_within_the_grace_window_after_the_new_pair_was_used_is_reuse(customer, now):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    first = service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=now)
    service.refresh_session(refresh_token=first.refresh_token, client=BROWSER, now=now)
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=now + timedelta(seconds=1))
    assert error_code(excinfo) == (401, "TOKEN_REUSED")


def test_refresh_of_a_deactivated_user_is_refused(customer, now):
    signed_in = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    customer.is_active = False
    db.session.flush()
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(refresh_token=signed_in.refresh_token, client=BROWSER, now=now)
    assert error_code(excinfo) == (401, "TOKEN_REVOKED")


def test_prune_deletes_only_expired_tokens(customer, now):
    old = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now - timedelta(days=15))
    service.refresh_session(refresh_token=old.refresh_token, client=BROWSER, now=now - timedelta(days=15))
    service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 3
    assert service.prune_refresh_tokens(now=now) == 2
    assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 1


def test_deactivation_revokes_every_refresh_token(admin, customer, now):
    first = service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    service.sign_in(email=customer.email, password=FIXTURE_PASSWORD, now=now)
    service.update_user(user_id=customer.id, actor=admin, now=now, is_active=False)
    revoked = db.session.scalars(select(RefreshToken.revoked_at).where(RefreshToken.user_id == customer.id)).all()
    assert revoked == [now, now]
    with pytest.raises(AppError) as excinfo:
        service.refresh_session(refresh_token=first.refresh_token, client=BROWSER, now=now)
    assert error_code(excinfo)[0] == 401


def test_staff_need_a_restaurant_and_others_have_none(admin, customer, now):
    restaurant, _ = ensure_cafe_fausse()
    keep_setup()
    with pytest.raises(AppError) as excinfo:
        service.update_user(user_id=customer.id, actor=admin, now=now, role=Role.STAFF)
    assert error_code(excinfo) == (422, "VALIDATION_ERROR")
    with pytest.raises(AppError) as excinfo:
        service.update_user(user_id=customer.id, actor=admin, now=now, restaurant_id=restaurant.id)
    assert error_code(excinfo) == (422, "VALIDATION_ERROR")

    staff = service.update_user(user_id=customer.id, actor=admin, now=now, role=Role.STAFF, restaurant_id=restaurant.id)
    assert (staff.role, staff.restaurant_id) == (Role.STAFF, restaurant.id)
    back = service.update_user(user_id=customer.id, actor=admin, now=now, role=Role.CUSTOMER)
    assert (back.role, back.restaurant_id) == (Role.CUSTOMER, None)


def test_unknown_restaurant_is_a_field_error(admin, customer, now):
    import uuid

    with pytest.raises(AppError) as excinfo:
        service.update_user(user_id=customer.id, actor=admin, now=now, role=Role.STAFF, restaurant_id=uuid.uuid4())
    assert error_code(excinfo) == (422, "VALIDATION_ERROR")
    assert "restaurantId" in excinfo.value.details["fields"]


def test_admins_cannot_demote_or_deactivate_themselves(admin, now):
    keep_setup()
    for changes in ({"role": Role.CUSTOMER}, {"is_active": False}):
        with pytest.raises(AppError) as excinfo:
            service.update_user(user_id=admin.id, actor=admin, now=now, **changes)
        assert error_code(excinfo) == (403, "FORBIDDEN")


def test_list_users_filters_by_role_and_email_substring(admin, customer, other_customer, make_user):
    make_user(email="under_score@example.com")
    make_user(email="underXscore@example.com")
    page = service.list_users(page=1, page_size=10, role=Role.CUSTOMER)
    assert {user.email for user in page.items} >= {customer.email, other_customer.email}
    assert admin.email not in {user.email for user in page.items}
    # LIKE wildcards in the filter are literal characters
    page = service.list_users(page=1, page_size=10, email="UNDER_SCORE")
    assert [user.email for user in page.items] == ["under_score@example.com"]
    page = service.list_users(page=2, page_size=1, email="guest@")
    assert page.total == 2 and len(page.items) == 1
