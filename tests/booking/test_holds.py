"""Holds (seed 000): a real table for 10 minutes, one per user, gone the moment it expires."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from api.accounts.models import Role
from api.booking import holds
from api.booking.models import Hold, TableOccupancy
from api.errors import AppError, ErrorCode
from api.extensions import db
from tests.booking.app_flow import app_restaurant

pytestmark = pytest.mark.usefixtures("app")

# The `now` fixture is Monday 2 March 2026, 15:00 UTC (10:00 in New York).
WEDNESDAY = date(2026, 3, 11)


def hold(restaurant, user, now, wall=time(19, 0), party=2, actor=None, day=WEDNESDAY):
    return holds.create_hold(
        actor=actor or user,
        user_id=str(user.id),
        restaurant_id=restaurant.id,
        service_date=day,
        wall_time=wall,
        party_size=party,
        now=now,
    ).hold


def expect(code: ErrorCode, fn, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code
    return err.value


def free_at(restaurant, now, wall="19:00", party=2, day=WEDNESDAY) -> int:
    grid = holds.day_availability(restaurant_id=restaurant.id, service_date=day, party_size=party, now=now)
    return next(s.available_tables for s in grid.slots if s.slot.local_time.strftime("%H:%M") == wall)


def test_a_hold_claims_the_smallest_table_for_its_stay_with_its_expiry(customer, now):
    restaurant = app_restaurant(tables=[(1, 4), (1, 2)])
    held = hold(restaurant, customer, now)
    assert held.table.max_seats == 2
    assert held.expires_at == now + timedelta(minutes=10)
    assert held.deposit_cents == 5000
    claim = db.session.scalars(select(TableOccupancy).where(TableOccupancy.hold_id == held.id)).one()
    assert claim.ends_at - claim.starts_at == timedelta(minutes=90)  # the stay, whatever the grid
    assert claim.expires_at == held.expires_at


def test_holds_count_in_availability_and_stop_counting_the_moment_they_expire(customer, now):
    restaurant = app_restaurant(tables=[(2, 2)])
    assert free_at(restaurant, now) == 2
    held = hold(restaurant, customer, now)
    assert free_at(restaurant, now) == 1
    assert free_at(restaurant, held.expires_at - timedelta(microseconds=1)) == 1
    assert free_at(restaurant, held.expires_at) == 2  # not purged yet, and already free


def test_an_expired_hold_frees_its_table_for_the_next_guest(customer, other_customer, now):
    restaurant = app_restaurant(tables=[(1, 2)])
    first = hold(restaurant, customer, now)
    first_id, first_table = first.id, first.table_id
    expect(ErrorCode.FULLY_BOOKED, hold, restaurant, other_customer, now + timedelta(minutes=9))
    second = hold(restaurant, other_customer, now + timedelta(minutes=10))
    assert second.table_id == first_table
    assert db.session.get(Hold, first_id) is None  # purged inside the allocation


def test_one_active_hold_per_user(customer, now):
    restaurant = app_restaurant()
    first = hold(restaurant, customer, now)
    err = expect(ErrorCode.ACTIVE_HOLD_EXISTS, hold, restaurant, customer, now, wall=time(20, 0))
    assert err.details == {"holdId": str(first.id)}
    other_restaurant = app_restaurant()
    expect(ErrorCode.ACTIVE_HOLD_EXISTS, hold, other_restaurant, customer, now)


def test_the_users_own_expired_hold_gives_way_to_a_new_one(customer, now):
    restaurant = app_restaurant()
    first = hold(restaurant, customer, now)
    first_id, first_start = first.id, first.starts_at
    second = hold(restaurant, customer, now + timedelta(minutes=11), wall=time(20, 0))
    assert db.session.get(Hold, first_id) is None
    assert db.session.scalar(select(func.count()).select_from(Hold).where(Hold.user_id == customer.id)) == 1
    assert second.starts_at != first_start


def test_get_active_hold(customer, now):
    restaurant = app_restaurant()
    expect(ErrorCode.NO_ACTIVE_HOLD, holds.get_active_hold, actor=customer, user_id=None, now=now)
    held = hold(restaurant, customer, now)
    assert holds.get_active_hold(actor=customer, user_id=str(customer.id), now=now).id == held.id
    expect(ErrorCode.NO_ACTIVE_HOLD, holds.get_active_hold, actor=customer, user_id=None, now=held.expires_at)


def test_staff_hold_for_a_guest_at_their_own_restaurant_only(customer, make_user, now):
    restaurant = app_restaurant()
    staff = make_user(Role.STAFF, "host@example.com", restaurant.id)
    held = hold(restaurant, customer, now, actor=staff)
    assert held.user_id == customer.id
    assert holds.get_active_hold(actor=staff, user_id=str(customer.id), now=now).id == held.id
    elsewhere = make_user(Role.STAFF, "host-2@example.com", app_restaurant().id)
    expect(ErrorCode.NO_ACTIVE_HOLD, holds.get_active_hold, actor=elsewhere, user_id=str(customer.id), now=now)
    other_guest = make_user(Role.CUSTOMER, "walk-in@example.com")
    expect(ErrorCode.FORBIDDEN, hold, restaurant, other_guest, now, actor=elsewhere)


def test_a_customer_cannot_hold_for_someone_else(customer, other_customer, now):
    expect(ErrorCode.USER_MISMATCH, hold, app_restaurant(), other_customer, now, actor=customer)


@pytest.mark.parametrize(
    ("wall", "day"),
    [
        (time(19, 10), WEDNESDAY),  # off the grid
        (time(23, 0), WEDNESDAY),  # closing time: no seating starts then
        (time(19, 0), date(2026, 3, 1)),  # yesterday
        (time(19, 0), date(2027, 6, 1)),  # beyond the horizon
    ],
)
def test_bad_times(customer, now, wall, day):
    expect(ErrorCode.BAD_TIME, hold, app_restaurant(), customer, now, wall=wall, day=day)


def test_a_local_time_the_clocks_skip_is_bad_time(customer, now):
    restaurant = app_restaurant(timezone="Europe/Paris", opens_at=time(0, 0), closes_at=time(23, 30))
    # 29 March 2026: Paris springs forward from 02:00 to 03:00.
    expect(ErrorCode.BAD_TIME, hold, restaurant, customer, now, wall=time(2, 30), day=date(2026, 3, 29))


def test_hold_times_are_read_in_the_restaurants_zone(customer, now):
    restaurant = app_restaurant(timezone="Europe/Paris")
    held = hold(restaurant, customer, now)
    assert held.starts_at.isoformat() == "2026-03-11T18:00:00+00:00"  # 19:00 CET


def test_bad_guests(customer, now):
    expect(ErrorCode.BAD_GUESTS, hold, app_restaurant(), customer, now, party=13)


def test_purge_expired_holds_everywhere_deletes_expired_holds_and_their_claims(customer, other_customer, now):
    restaurant = app_restaurant()
    stale_id = hold(restaurant, customer, now - timedelta(minutes=30)).id
    live_id = hold(app_restaurant(), other_customer, now).id  # elsewhere: no allocation purged the stale one
    assert holds.purge_expired_holds_everywhere(now) == 1
    assert db.session.get(Hold, stale_id) is None and db.session.get(Hold, live_id) is not None
    claims = select(func.count()).select_from(TableOccupancy).where(TableOccupancy.hold_id == stale_id)
    assert db.session.scalar(claims) == 0


def test_purge_holds_command(app, customer, now):
    restaurant = app_restaurant()
    stale_id = hold(restaurant, customer, now - timedelta(days=1)).id
    result = app.test_cli_runner().invoke(args=["purge-holds"])
    assert result.exit_code == 0 and "deleted 1 expired hold" in result.output
    assert db.session.get(Hold, stale_id) is None


def test_days_beyond_the_horizon_show_no_bookable_table(now):
    restaurant = app_restaurant(horizon_days=30)
    grid = holds.day_availability(restaurant_id=restaurant.id, service_date=date(2026, 5, 1), party_size=2, now=now)
    assert grid.slots and all(s.available_tables == 0 and not s.available for s in grid.slots)
    assert (grid.deposit_per_person_cents, grid.total_deposit_cents) == (2500, 5000)
