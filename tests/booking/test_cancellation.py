"""Tiered deposit refunds at their exact boundaries, with a controlled clock, in non-UTC zones.

The policy is the one frozen on the reservation (seed 000: 24 h -> 100 %, 4 h -> 50 %, else 0),
measured in real elapsed hours to the start instant, also across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.booking import cancellation, checkout, holds
from api.booking.models import Reservation
from api.errors import AppError, ErrorCode
from api.extensions import db
from api.restaurants.models import DEFAULT_REFUND_POLICY
from tests.booking.app_flow import app_restaurant, money_state

PARIS = ZoneInfo("Europe/Paris")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
H = timedelta(hours=1)
S = timedelta(seconds=1)


# --- the pure arithmetic ----------------------------------------------------------------------

STARTS = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("notice", "percent"),
    [
        (72 * H, 100),
        (24 * H + S, 100),
        (24 * H, 100),  # exactly 24 h still gets the full refund
        (24 * H - S, 50),
        (4 * H + S, 50),
        (4 * H, 50),
        (4 * H - S, 0),
        (S, 0),
        (timedelta(0), 0),
        (-H, 0),  # after the start
    ],
)
def test_refund_percent_at_the_boundaries(notice, percent):
    assert cancellation.refund_percent(DEFAULT_REFUND_POLICY, starts_at=STARTS, now=STARTS - notice) == percent


def test_refund_tiers_are_checked_from_the_longest_notice_whatever_their_order():
    policy = [{"minHoursBefore": 12, "percent": 25}, {"minHoursBefore": 48, "percent": 100}]
    assert cancellation.refund_percent(policy, starts_at=STARTS, now=STARTS - 48 * H) == 100
    assert cancellation.refund_percent(policy, starts_at=STARTS, now=STARTS - 47 * H) == 25
    assert cancellation.refund_percent([], starts_at=STARTS, now=STARTS - 100 * H) == 0


@pytest.mark.parametrize(
    ("deposit", "percent", "cents"), [(5000, 50, 2500), (3333, 50, 1666), (999, 33, 329), (5000, 0, 0)]
)
def test_refund_amounts_are_whole_cents_rounded_down(deposit, percent, cents):
    assert cancellation.refund_cents_for(deposit, percent) == cents


# --- through the service, in Paris and Los Angeles ---------------------------------------------


def book(restaurant, guest, day: date, wall: time, booked_at: datetime) -> Reservation:
    hold = holds.create_hold(
        actor=guest,
        user_id=None,
        restaurant_id=restaurant.id,
        service_date=day,
        wall_time=wall,
        party_size=2,
        now=booked_at,
    ).hold
    return checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=booked_at
    ).reservation


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(
    ("notice", "percent", "refund_cents"),
    [(24 * H, 100, 5000), (24 * H - S, 50, 2500), (4 * H, 50, 2500), (4 * H - S, 0, 0), (4 * H + S, 50, 2500)],
)
def test_cancelling_in_paris_refunds_by_the_tier_at_that_instant(customer, notice, percent, refund_cents):
    restaurant = app_restaurant(timezone="Europe/Paris")
    reservation = book(restaurant, customer, date(2026, 3, 11), time(19, 0), datetime(2026, 3, 2, 15, tzinfo=UTC))
    starts_at = reservation.starts_at
    assert starts_at == datetime(2026, 3, 11, 19, 0, tzinfo=PARIS)  # 18:00 UTC

    quote = cancellation.quote_refund(actor=customer, reservation_id=reservation.id, now=starts_at - notice)
    cancelled = cancellation.cancel_reservation(
        actor=customer, reservation_id=reservation.id, user_id=None, now=starts_at - notice
    )
    assert (quote.refund_percent, quote.refund_cents) == (percent, refund_cents)
    assert (cancelled.refund_percent, cancelled.refund_cents) == (percent, refund_cents)
    state = money_state(reservation.hold_id)
    assert state["refunded_cents"] == refund_cents and state["captured_cents"] == 5000
    assert state["reservation"].status == "cancelled" and state["reservation"].refund_cents == refund_cents


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(
    ("cancel_local", "percent"),
    [
        # Paris springs forward on 29 March 2026: 19:00 the day before is only 23 real hours ahead.
        (datetime(2026, 3, 28, 18, 0, tzinfo=PARIS), 100),  # 24 real hours before
        (datetime(2026, 3, 28, 18, 0, 1, tzinfo=PARIS), 50),
        (datetime(2026, 3, 28, 19, 0, tzinfo=PARIS), 50),  # "same time yesterday" on the wall clock
    ],
)
def test_the_24_hours_are_real_hours_across_the_spring_forward(customer, cancel_local, percent):
    restaurant = app_restaurant(timezone="Europe/Paris")
    reservation = book(restaurant, customer, date(2026, 3, 29), time(19, 0), datetime(2026, 3, 20, 12, tzinfo=UTC))
    assert reservation.starts_at == datetime(2026, 3, 29, 17, 0, tzinfo=UTC)  # 19:00 CEST
    cancelled = cancellation.cancel_reservation(
        actor=customer, reservation_id=reservation.id, user_id=None, now=cancel_local
    )
    assert cancelled.refund_percent == percent


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(
    ("cancel_local", "percent"),
    [
        # Los Angeles falls back on 1 November 2026: 19:00 the day before is 25 real hours ahead.
        (datetime(2026, 10, 31, 19, 0, tzinfo=LOS_ANGELES), 100),
        (datetime(2026, 10, 31, 20, 0, tzinfo=LOS_ANGELES), 100),  # exactly 24 real hours
        (datetime(2026, 10, 31, 20, 0, 1, tzinfo=LOS_ANGELES), 50),
    ],
)
def test_the_24_hours_are_real_hours_across_the_fall_back(customer, cancel_local, percent):
    restaurant = app_restaurant(timezone="America/Los_Angeles")
    reservation = book(restaurant, customer, date(2026, 11, 1), time(19, 0), datetime(2026, 10, 20, 12, tzinfo=UTC))
    assert reservation.starts_at == datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 19:00 PST
    cancelled = cancellation.cancel_reservation(
        actor=customer, reservation_id=reservation.id, user_id=None, now=cancel_local
    )
    assert cancelled.refund_percent == percent


@pytest.mark.usefixtures("app")
def test_the_policy_frozen_at_booking_applies_not_todays(customer, now):
    restaurant = app_restaurant(timezone="Europe/Paris")
    reservation = book(restaurant, customer, date(2026, 3, 11), time(19, 0), now)
    restaurant.refund_policy = [{"minHoursBefore": 1, "percent": 100}]  # the restaurant relaxes it later
    db.session.commit()
    cancelled = cancellation.cancel_reservation(
        actor=customer, reservation_id=reservation.id, user_id=None, now=reservation.starts_at - 2 * H
    )
    assert cancelled.refund_percent == 0


@pytest.mark.usefixtures("app")
def test_cancelling_twice_and_cancelling_a_finished_one(customer, now):
    reservation = book(app_restaurant(), customer, date(2026, 3, 11), time(19, 0), now)
    cancellation.cancel_reservation(actor=customer, reservation_id=reservation.id, user_id=None, now=now)
    with pytest.raises(AppError) as err:
        cancellation.cancel_reservation(actor=customer, reservation_id=reservation.id, user_id=None, now=now)
    assert (err.value.status, err.value.code) == (409, ErrorCode.ALREADY_CANCELLED)

    finished = book(app_restaurant(), customer, date(2026, 3, 12), time(19, 0), now)
    finished.status = "completed"
    db.session.commit()
    with pytest.raises(AppError) as err:
        cancellation.cancel_reservation(actor=customer, reservation_id=finished.id, user_id=None, now=now)
    assert (err.value.status, err.value.code) == (409, ErrorCode.INVALID_TRANSITION)
    assert cancellation.quote_refund(actor=customer, reservation_id=finished.id, now=now).cancellable is False


@pytest.mark.usefixtures("app")
def test_no_refund_leaves_the_deposit_captured(customer, now):
    reservation = book(app_restaurant(), customer, date(2026, 3, 11), time(19, 0), now)
    cancelled = cancellation.cancel_reservation(
        actor=customer, reservation_id=reservation.id, user_id=None, now=reservation.starts_at - H
    )
    assert (cancelled.refund_cents, cancelled.message) == (
        0,
        "Reservation cancelled. No refund available (less than 4 hours notice).",
    )
    state = money_state(reservation.hold_id)
    assert state["payments"] == ["captured"] and state["refunded_cents"] == 0
