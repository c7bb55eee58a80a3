"""Booking rules against real PostgreSQL: best fit, overlapping stays, FULLY_BOOKED, holds, validation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.accounts.models import Role
from api.booking import allocation, service
from api.booking.models import Customer, Hold, Reservation, TableOccupancy
from api.errors import AppError, ErrorCode
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.restaurants.models import DiningTable
from tests.booking.helpers import booking, build_restaurant, local, settle

pytestmark = pytest.mark.usefixtures("app")

# The `now` fixture is Monday 2 March 2026, 10:00 in New York.
WEDNESDAY = date(2026, 3, 11)


def book(restaurant, when, now, guests=2, **kwargs):
    return service.create_reservation(restaurant=restaurant, booking=booking(when, guests, **kwargs), now=now)


def seats_of(reservation: Reservation) -> int:
    return reservation.table.max_seats


def expect_error(code: ErrorCode, fn, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code
    return err.value


def test_a_party_of_two_gets_a_two_top_while_two_tops_remain(cafe, now):
    seated = [book(cafe, local(WEDNESDAY, 19), now, guests=2) for _ in range(10)]
    assert [seats_of(r) for r in seated] == [2] * 10
    assert len({r.table_id for r in seated}) == 10
    eleventh = book(cafe, local(WEDNESDAY, 19), now, guests=2)
    assert seats_of(eleventh) == 4  # no 2-top left: the next smallest table


def test_a_party_of_five_gets_a_six_top(cafe, now):
    assert seats_of(book(cafe, local(WEDNESDAY, 19), now, guests=5)) == 6


def test_a_party_of_eight_gets_an_eight_top_and_then_nothing_seats_it(cafe, now):
    assert [seats_of(book(cafe, local(WEDNESDAY, 20), now, guests=8)) for _ in range(2)] == [8, 8]
    expect_error(ErrorCode.FULLY_BOOKED, book, cafe, local(WEDNESDAY, 20), now, guests=8)


def test_overlapping_stays_never_share_a_table_and_a_later_one_may(now):
    bistro = build_restaurant(tables=[(1, 4)])
    first = book(bistro, local(WEDNESDAY, 19), now)  # 90 minutes: 19:00-20:30
    expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 19, 30), now)
    expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 18), now)  # 18:00-19:30 overlaps too
    later = book(bistro, local(WEDNESDAY, 20, 30), now)
    assert later.table_id == first.table_id


def test_with_two_tables_overlapping_bookings_take_different_tables(now):
    bistro = build_restaurant(tables=[(2, 4)])
    first = book(bistro, local(WEDNESDAY, 19), now)
    second = book(bistro, local(WEDNESDAY, 19, 30), now)
    assert first.table_id != second.table_id
    # The 20:30 booking goes next to the 19:00 one (least fragmenting), not on the table busy until 21:00.
    third = book(bistro, local(WEDNESDAY, 20, 30), now)
    assert third.table_id == first.table_id
    ranges = db.session.execute(
        select(Reservation.table_id, Reservation.starts_at, Reservation.ends_at).where(
            Reservation.restaurant_id == bistro.id
        )
    ).all()
    for a in ranges:
        for b in ranges:
            if a is not b and a.table_id == b.table_id:
                assert a.ends_at <= b.starts_at or b.ends_at <= a.starts_at


def test_longer_stays_for_bigger_parties_claim_their_table_longer(now):
    bistro = build_restaurant(
        tables=[(1, 8)], durations_by_party=[{"maxParty": 4, "minutes": 90}, {"maxParty": 12, "minutes": 120}]
    )
    big = book(bistro, local(WEDNESDAY, 19), now, guests=6)
    assert big.ends_at - big.starts_at == timedelta(minutes=120)
    claim = db.session.scalars(select(TableOccupancy).where(TableOccupancy.reservation_id == big.id)).one()
    assert (claim.starts_at, claim.ends_at) == (big.starts_at, big.ends_at)
    expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 20, 30), now)
    book(bistro, local(WEDNESDAY, 21), now)


def test_fully_booked_when_no_table_seats_the_party(now):
    bistro = build_restaurant(tables=[(3, 4)])
    err = expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 19), now, guests=6)
    assert err.status == 409


def test_booking_rounds_down_to_the_slot(cafe, now):
    reservation = book(cafe, local(WEDNESDAY, 19, 12), now)
    assert reservation.starts_at == local(WEDNESDAY, 19)
    assert reservation.service_date == WEDNESDAY


def make_hold(restaurant, user, table_id, starts_at, *, now, expires_in: timedelta) -> Hold:
    hold = Hold(
        id=uuid.uuid4(),
        restaurant_id=restaurant.id,
        table_id=table_id,
        user_id=user.id,
        party_size=2,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        service_date=WEDNESDAY,
        created_at=now - timedelta(minutes=20),
        expires_at=now + expires_in,
    )
    db.session.add(hold)
    db.session.flush()
    allocation.insert_claims(
        restaurant_id=restaurant.id,
        table=db.session.get(DiningTable, table_id),
        stay=allocation.Stay(hold.starts_at, hold.ends_at),
        hold_id=hold.id,
        expires_at=hold.expires_at,
    )
    settle()
    return hold


def test_an_expired_hold_does_not_count_and_is_purged(make_user, now):
    bistro = build_restaurant(tables=[(1, 4)])
    hold = make_hold(
        bistro,
        make_user(Role.CUSTOMER),
        bistro.tables[0].id,
        local(WEDNESDAY, 19),
        now=now,
        expires_in=-timedelta(minutes=1),
    )
    hold_id = hold.id
    reservation = book(bistro, local(WEDNESDAY, 19), now)
    assert reservation.table_id == bistro.tables[0].id
    assert db.session.scalar(select(func.count()).where(Hold.id == hold_id)) == 0
    assert db.session.scalar(select(func.count()).where(TableOccupancy.hold_id == hold_id)) == 0


def test_a_live_hold_counts(make_user, now):
    bistro = build_restaurant(tables=[(1, 4)])
    make_hold(
        bistro,
        make_user(Role.CUSTOMER),
        bistro.tables[0].id,
        local(WEDNESDAY, 19),
        now=now,
        expires_in=timedelta(minutes=5),
    )
    expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 19), now)
    availability = service.availability_at(restaurant=bistro, time=local(WEDNESDAY, 19), now=now)
    assert (availability.total_tables, availability.booked, availability.available) == (1, 1, 0)


def test_a_hold_stops_counting_the_moment_it_expires(make_user, now):
    bistro = build_restaurant(tables=[(1, 4)])
    make_hold(
        bistro,
        make_user(Role.CUSTOMER),
        bistro.tables[0].id,
        local(WEDNESDAY, 19),
        now=now,
        expires_in=timedelta(minutes=10),
    )
    later = now + timedelta(minutes=10)
    assert service.availability_at(restaurant=bistro, time=local(WEDNESDAY, 19), now=later).available == 1
    book(bistro, local(WEDNESDAY, 19), later)


@pytest.mark.parametrize(
    ("when", "why"),
    [
        (datetime(2026, 3, 1, 19), "past"),
        (datetime(2026, 3, 11, 12), "closed"),
        (datetime(2026, 3, 11, 23), "closing time itself"),
        (datetime(2027, 3, 11, 19), "beyond the horizon"),
        (datetime(2026, 3, 8, 2, 30), "skipped by DST"),
    ],
)
def test_bad_time(cafe, now, when, why):
    expect_error(ErrorCode.BAD_TIME, book, cafe, when, now)


def test_sunday_closes_earlier(cafe, now):
    sunday = date(2026, 3, 15)
    book(cafe, local(sunday, 20, 30), now)
    expect_error(ErrorCode.BAD_TIME, book, cafe, local(sunday, 21), now)


@pytest.mark.parametrize("guests", [0, -1, 13, 1000])
def test_bad_guests_outside_the_party_limits(cafe, now, guests):
    err = expect_error(ErrorCode.BAD_GUESTS, book, cafe, local(WEDNESDAY, 19), now, guests=guests)
    assert err.status == 422


@pytest.mark.parametrize("email", ["x", "", "a@", "@b.co", "a b@c.co"])
def test_bad_email(cafe, now, email):
    expect_error(ErrorCode.BAD_EMAIL, book, cafe, local(WEDNESDAY, 19), now, email=email)


def test_a_returning_guest_is_one_customer_with_fresh_details(cafe, now):
    first = book(cafe, local(WEDNESDAY, 19), now, email="Alex@Example.com", name="Alex")
    second = service.create_reservation(
        restaurant=cafe,
        booking=service.BookingRequest(
            time=local(WEDNESDAY, 20), guests=2, name="Alex Smith", email="alex@example.com", phone="555-0101"
        ),
        now=now,
    )
    assert first.customer_id == second.customer_id
    customer = db.session.get(Customer, first.customer_id)
    db.session.refresh(customer)
    assert (customer.email, customer.name, customer.phone) == ("alex@example.com", "Alex Smith", "555-0101")
    # A later booking without a phone keeps the phone we have.
    book(cafe, local(WEDNESDAY, 21), now, email="alex@example.com", name="Alex Smith")
    db.session.refresh(customer)
    assert customer.phone == "555-0101"


def test_a_reservation_enqueues_its_confirmation(cafe, now):
    reservation = book(cafe, local(WEDNESDAY, 19), now)
    kinds = db.session.execute(select(OutboxMessage.kind, OutboxMessage.payload)).all()
    assert ("reservation.confirmed", {"reservation_id": str(reservation.id)}) in [(k, p) for k, p in kinds]


def test_a_failed_booking_leaves_nothing_behind(now):
    bistro = build_restaurant(tables=[(1, 4)])
    book(bistro, local(WEDNESDAY, 19), now)
    before = db.session.scalar(select(func.count()).select_from(Customer))
    expect_error(ErrorCode.FULLY_BOOKED, book, bistro, local(WEDNESDAY, 19), now, email="new@example.com")
    assert db.session.scalar(select(func.count()).select_from(Customer)) == before


def test_availability_counts_tables_in_the_rounded_slot(cafe, now):
    book(cafe, local(WEDNESDAY, 18, 30), now)  # still seated at 19:00
    book(cafe, local(WEDNESDAY, 19), now, guests=5)
    book(cafe, local(WEDNESDAY, 20, 30), now)  # not yet
    result = service.availability_at(restaurant=cafe, time=local(WEDNESDAY, 19, 12), now=now)
    assert result.slot.starts_at == local(WEDNESDAY, 19)
    assert (result.total_tables, result.booked, result.available) == (30, 2, 28)


def test_availability_of_a_closed_time_is_bad_time(cafe, now):
    expect_error(ErrorCode.BAD_TIME, service.availability_at, restaurant=cafe, time=local(WEDNESDAY, 12), now=now)


def test_day_listing_orders_by_time_then_table_and_paginates(cafe, now):
    book(cafe, local(WEDNESDAY, 20), now, email="late@example.com")
    book(cafe, local(WEDNESDAY, 18), now, email="early@example.com")
    book(cafe, local(WEDNESDAY, 19), now, guests=5, email="middle@example.com")
    book(cafe, local(WEDNESDAY, 19), now, guests=2, email="middle-two@example.com")
    book(cafe, local(date(2026, 3, 12), 19), now, email="other-day@example.com")
    page = service.list_day_reservations(
        restaurant=cafe, service_date=WEDNESDAY, page=1, page_size=3, filters=service.DayListFilters()
    )
    assert [r.email for r in page.items] == ["early@example.com", "middle-two@example.com", "middle@example.com"]
    assert page.pagination == {"page": 1, "page_size": 3, "total": 4, "pages": 2, "next_page": 2, "prev_page": None}
    second = service.list_day_reservations(
        restaurant=cafe, service_date=WEDNESDAY, page=2, page_size=3, filters=service.DayListFilters()
    )
    assert [r.email for r in second.items] == ["late@example.com"]


def test_day_listing_filters(cafe, now):
    a = book(cafe, local(WEDNESDAY, 18), now, email="ana@example.com")
    b = book(cafe, local(WEDNESDAY, 19), now, email="bob@example.com")

    def listed(**filters):
        page = service.list_day_reservations(
            restaurant=cafe, service_date=WEDNESDAY, page=1, page_size=20, filters=service.DayListFilters(**filters)
        )
        return [r.id for r in page.items]

    assert listed(email="ANA@") == [a.id]
    assert listed(email="%") == []  # LIKE wildcards are literal
    assert a.table.number != b.table.number  # b starts while a is seated
    assert listed(table=b.table.number) == [b.id]
    assert listed(slot=local(WEDNESDAY, 19).time().replace(tzinfo=None)) == [b.id]
    assert listed(slot=local(WEDNESDAY, 19, 12)) == [b.id]
    assert listed(status="confirmed") == [a.id, b.id]
    assert listed(status="cancelled") == []


def test_get_reservation_is_for_staff_of_its_restaurant(cafe, now, make_user, admin):
    reservation = book(cafe, local(WEDNESDAY, 19), now, email="guest@example.com", name="Guest")
    staff = make_user(Role.STAFF, restaurant_id=cafe.id)
    details = service.get_reservation(reservation_id=reservation.id, actor=staff)
    assert (details.email, details.name, details.table_number) == (
        "guest@example.com",
        "Guest",
        reservation.table.number,
    )
    assert service.get_reservation(reservation_id=reservation.id, actor=admin).id == reservation.id
    elsewhere = make_user(Role.STAFF, restaurant_id=build_restaurant(tables=[(1, 2)]).id)
    expect_error(
        ErrorCode.RESERVATION_NOT_FOUND, service.get_reservation, reservation_id=reservation.id, actor=elsewhere
    )
    expect_error(ErrorCode.RESERVATION_NOT_FOUND, service.get_reservation, reservation_id=uuid.uuid4(), actor=admin)


def test_a_dated_exception_wins_over_the_weekly_hours(cafe, now):
    from datetime import time

    from api.restaurants.models import SpecialHours

    closed, short = WEDNESDAY, date(2026, 3, 12)
    db.session.add(SpecialHours(restaurant_id=cafe.id, service_date=closed, reason="private event"))
    db.session.add(SpecialHours(restaurant_id=cafe.id, service_date=short, opens_at=time(18), closes_at=time(20)))
    settle()
    expect_error(ErrorCode.BAD_TIME, book, cafe, local(closed, 19), now)
    expect_error(ErrorCode.BAD_TIME, book, cafe, local(short, 17, 30), now)
    expect_error(ErrorCode.BAD_TIME, book, cafe, local(short, 20), now)
    assert book(cafe, local(short, 19, 30), now).service_date == short
    assert book(cafe, local(date(2026, 3, 13), 17), now).service_date == date(2026, 3, 13)  # the week's hours


def test_a_restaurant_not_taking_reservations_refuses_every_time(now):
    bistro = build_restaurant(tables=[(2, 4)])
    bistro.accepts_reservations = False
    settle()
    expect_error(ErrorCode.BAD_TIME, book, bistro, local(WEDNESDAY, 19), now)
    expect_error(ErrorCode.BAD_TIME, service.availability_at, restaurant=bistro, time=local(WEDNESDAY, 19), now=now)
