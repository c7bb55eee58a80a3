"""The authorisation helper's rules, one by one (the route-by-route matrix is tests/test_authz_matrix.py)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from api.accounts.authz import can_see, ensure_acting_for, owned_or_404, restaurant_scope
from api.accounts.models import Role
from api.errors import AppError, ErrorCode


@pytest.fixture
def people():
    restaurant_id = uuid.uuid4()

    def person(role: Role, restaurant: uuid.UUID | None = None) -> SimpleNamespace:
        return SimpleNamespace(id=uuid.uuid4(), role=role, restaurant_id=restaurant)

    return SimpleNamespace(
        restaurant_id=restaurant_id,
        customer=person(Role.CUSTOMER),
        other=person(Role.CUSTOMER),
        staff=person(Role.STAFF, restaurant_id),
        other_staff=person(Role.STAFF, uuid.uuid4()),
        admin=person(Role.ADMIN),
    )


def test_owner_staff_of_the_restaurant_and_admins_see_a_resource(people):
    booking = SimpleNamespace(user_id=people.customer.id, restaurant_id=people.restaurant_id)
    for actor in (people.customer, people.staff, people.admin):
        assert owned_or_404(booking, actor, code=ErrorCode.RESERVATION_NOT_FOUND) is booking
    for actor in (people.other, people.other_staff):
        assert not can_see(actor, owner_id=booking.user_id, restaurant_id=booking.restaurant_id)
        with pytest.raises(AppError) as excinfo:
            owned_or_404(booking, actor, code=ErrorCode.RESERVATION_NOT_FOUND)
        assert (excinfo.value.status, excinfo.value.code) == (404, ErrorCode.RESERVATION_NOT_FOUND)


def test_missing_resource_is_the_same_404(people):
    with pytest.raises(AppError) as excinfo:
        owned_or_404(None, people.admin, code=ErrorCode.HOLD_NOT_FOUND)
    assert (excinfo.value.status, excinfo.value.code) == (404, ErrorCode.HOLD_NOT_FOUND)


def test_user_id_must_be_the_callers_unless_staff(people):
    assert ensure_acting_for(None, people.customer) == people.customer.id
    assert ensure_acting_for(str(people.customer.id), people.customer) == people.customer.id
    for wrong in (str(people.other.id), "not-a-uuid"):
        with pytest.raises(AppError) as excinfo:
            ensure_acting_for(wrong, people.customer)
        assert (excinfo.value.status, excinfo.value.code) == (403, ErrorCode.USER_MISMATCH)
    assert ensure_acting_for(people.customer.id, people.staff) == people.customer.id
    assert ensure_acting_for(people.customer.id, people.admin) == people.customer.id


def test_restaurant_scope_of_listings(people):
    assert restaurant_scope(people.admin) is None
    assert restaurant_scope(people.staff) == people.restaurant_id
    for actor in (people.customer, SimpleNamespace(id=uuid.uuid4(), role=Role.STAFF, restaurant_id=None)):
        with pytest.raises(AppError) as excinfo:
            restaurant_scope(actor)
        assert (excinfo.value.status, excinfo.value.code) == (403, ErrorCode.FORBIDDEN)
