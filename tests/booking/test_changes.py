"""Changing a reservation (api/booking/changes.py): the rules, all-or-nothing moves, and the deposit difference.

Service-level with a frozen clock (`now` is Monday 2 March 2026, 15:00 UTC); bookings on
Wednesday 11 March in New York. Money is checked on both sides: our payment rows and the fake
gateway's own ledger (one charge per key, amounts captured and refunded).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from api import faults
from api.accounts.models import Role
from api.booking import cancellation, changes, checkout, holds, lifecycle
from api.booking.models import DepositAdjustment, Reservation, ReservationEvent, TableOccupancy
from api.errors import AppError, ErrorCode
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.payments.models import Payment
from tests.booking.app_flow import app_restaurant, gateway_intent

pytestmark = pytest.mark.usefixtures("app")

WEDNESDAY = date(2026, 3, 11)
THURSDAY = date(2026, 3, 12)
Change = changes.ReservationChange


def book(restaurant, guest, wall: time = time(19, 0), *, day: date = WEDNESDAY, party: int = 2, now) -> Reservation:
    hold = holds.create_hold(
        actor=guest,
        user_id=None,
        restaurant_id=restaurant.id,
        service_date=day,
        wall_time=wall,
        party_size=party,
        now=now,
    ).hold
    return checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
    ).reservation


def change(reservation: Reservation, user, now, **fields: Any) -> Reservation:
    return changes.change_for_user(
        reservation_id=reservation.id, user=user, user_id=None, requested=Change(**fields), now=now
    )


def refused(code: ErrorCode, fn, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code, (err.value.code, err.value.message)
    return err.value


def snapshot(reservation_id: uuid.UUID) -> dict[str, Any]:
    """Everything a change may touch: the row, its claims, its audit rows, its adjustments."""
    db.session.expire_all()
    row = db.session.get(Reservation, reservation_id)
    claims = db.session.execute(
        select(TableOccupancy.table_id, TableOccupancy.starts_at, TableOccupancy.ends_at).where(
            TableOccupancy.reservation_id == reservation_id
        )
    ).all()
    events = db.session.scalars(
        select(ReservationEvent.action).where(ReservationEvent.reservation_id == reservation_id)
    ).all()
    adjustments = db.session.scalars(
        select(DepositAdjustment.amount_cents).where(DepositAdjustment.reservation_id == reservation_id)
    ).all()
    return {
        "table": row.table_id,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "service_date": row.service_date,
        "party": row.party_size,
        "requests": row.special_requests,
        "deposit": row.deposit_cents,
        "claims": sorted(tuple(c) for c in claims),
        "events": list(events),
        "adjustments": list(adjustments),
    }


def ledger(reservation_id: uuid.UUID) -> dict[str, Any]:
    """The deposit's money as the gateway saw it: the checkout's payment and every change's."""
    db.session.expire_all()
    reservation = db.session.get(Reservation, reservation_id)
    increases = db.session.scalars(
        select(DepositAdjustment.id).where(DepositAdjustment.reservation_id == reservation_id)
    ).all()
    subjects = [reservation.hold_id, *increases]
    payments = db.session.scalars(select(Payment).where(Payment.subject_id.in_(subjects))).all()
    intents = [gateway_intent(p.idempotency_key) for p in payments]
    return {
        "charges": sum(1 for i in intents if i and i["authorized_at"] is not None),
        "captured": sum(i["amount_captured_cents"] for i in intents if i),
        "refunded": sum(i["amount_refunded_cents"] for i in intents if i),
        "held": sum(i["amount_cents"] for i in intents if i and i["status"] == "requires_capture"),
        "payments": sorted(p.status for p in payments),
        "deposit": reservation.deposit_cents,
    }


# --- time and table ---------------------------------------------------------------------------


def test_a_new_time_keeps_the_table_and_is_audited_once(customer, now):
    restaurant = app_restaurant()
    reservation = book(restaurant, customer, now=now)
    table = reservation.table_id

    changed = change(reservation, customer, now, wall_time=time(20, 30), special_requests="Window seat")

    after = snapshot(reservation.id)
    assert changed.table_id == table and after["table"] == table
    assert after["starts_at"] == datetime(2026, 3, 12, 0, 30, tzinfo=after["starts_at"].tzinfo)  # 20:30 EDT
    assert after["claims"] == [(table, after["starts_at"], after["ends_at"])]
    assert after["requests"] == "Window seat" and changed.modified_at == now
    [event] = db.session.scalars(
        select(ReservationEvent).where(
            ReservationEvent.reservation_id == reservation.id, ReservationEvent.action == "change"
        )
    ).all()
    assert event.details == {"time": ["19:00", "20:30"], "specialRequests": ["", "Window seat"]}
    assert (event.actor_role, event.actor_id, event.from_status, event.to_status) == (
        "guest",
        customer.id,
        "confirmed",
        "confirmed",
    )
    payloads = db.session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "reservation.event")).all()
    assert {"reservation_id": str(reservation.id), "event_id": event.id} in payloads


def test_a_new_date_moves_the_booking_to_that_day(customer, now):
    reservation = book(app_restaurant(), customer, now=now)
    starts_at = reservation.starts_at
    change(reservation, customer, now, service_date=THURSDAY)
    after = snapshot(reservation.id)
    assert after["service_date"] == THURSDAY and after["starts_at"] - starts_at == timedelta(days=1)
    assert len(after["claims"]) == 1 and after["claims"][0][1] == after["starts_at"]


def test_a_new_time_is_reminded_again_and_new_requests_alone_are_not(customer, now):
    reservation = book(app_restaurant(), customer, now=now)
    reservation.reminder_sent_at = now
    change(reservation, customer, now, special_requests="Quiet corner")
    assert db.session.get(Reservation, reservation.id).reminder_sent_at == now
    change(reservation, customer, now, wall_time=time(20, 0))
    assert db.session.get(Reservation, reservation.id).reminder_sent_at is None


def test_a_larger_party_moves_to_the_best_table_that_seats_it(customer, now):
    restaurant = app_restaurant(tables=[(1, 2), (1, 4), (1, 6)], deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    four = next(t for t in restaurant.tables if t.max_seats == 4)
    change(reservation, customer, now, party_size=3)
    after = snapshot(reservation.id)
    assert after["table"] == four.id and after["party"] == 3
    event = db.session.scalars(select(ReservationEvent).where(ReservationEvent.action == "change")).one()
    assert event.details["partySize"] == [2, 3] and event.details["table"] == [1, four.number]


def test_the_own_table_is_kept_when_a_free_one_would_also_do(customer, other_customer, now):
    # Its own claim does not count against it: moving 19:00 -> 19:30 overlaps itself only.
    restaurant = app_restaurant(tables=[(2, 2)], deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    table = reservation.table_id
    change(reservation, customer, now, wall_time=time(19, 30))
    assert snapshot(reservation.id)["table"] == table


def test_when_the_new_time_cannot_be_had_nothing_changes(customer, other_customer, make_user, now):
    restaurant = app_restaurant(tables=[(1, 2)], deposit_per_person_cents=0)
    mine = book(restaurant, customer, time(17, 0), now=now)
    book(restaurant, other_customer, time(20, 0), now=now)
    before = snapshot(mine.id)

    err = refused(ErrorCode.FULLY_BOOKED, change, mine, customer, now, wall_time=time(20, 0), party_size=1)
    assert err.status == 409
    assert snapshot(mine.id) == before  # same time, table, party, claim; no audit row


def test_a_larger_party_that_no_table_seats_changes_nothing(customer, now):
    restaurant = app_restaurant(tables=[(2, 2)], deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    before = snapshot(reservation.id)
    refused(ErrorCode.FULLY_BOOKED, change, reservation, customer, now, party_size=4)
    refused(ErrorCode.BAD_GUESTS, change, reservation, customer, now, party_size=40)
    assert snapshot(reservation.id) == before


def test_booking_rules_apply_to_the_new_time(customer, now):
    restaurant = app_restaurant(deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    refused(ErrorCode.BAD_TIME, change, reservation, customer, now, wall_time=time(19, 10))  # off the grid
    refused(ErrorCode.BAD_TIME, change, reservation, customer, now, wall_time=time(23, 30))  # closed
    refused(ErrorCode.BAD_TIME, change, reservation, customer, now, service_date=date(2026, 3, 1))  # past


def test_the_duplicate_guard_excludes_the_booking_itself(app, customer, now, monkeypatch):
    settings = dataclasses.replace(app.config["SETTINGS"], duplicate_guard_minutes=120)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    restaurant = app_restaurant(deposit_per_person_cents=0)
    early = book(restaurant, customer, time(17, 0), now=now)
    book(restaurant, customer, time(21, 0), now=now)  # 4 h later: outside the 120-minute guard
    change(early, customer, now, wall_time=time(17, 30))  # near itself only: fine
    err = refused(ErrorCode.DUPLICATE_BOOKING, change, early, customer, now, wall_time=time(20, 0))
    assert err.status == 409 and snapshot(early.id)["starts_at"].astimezone(restaurant_zone(restaurant)).hour == 17


def restaurant_zone(restaurant):
    from zoneinfo import ZoneInfo

    return ZoneInfo(restaurant.timezone)


# --- who, what status, and when ---------------------------------------------------------------


def test_only_pending_and_confirmed_bookings_change(customer, now):
    reservation = book(app_restaurant(deposit_per_person_cents=0), customer, now=now)
    cancellation.cancel_reservation(actor=customer, reservation_id=reservation.id, user_id=None, now=now)
    err = refused(ErrorCode.INVALID_TRANSITION, change, reservation, customer, now, party_size=3)
    assert err.details["status"] == "cancelled"


def test_the_guest_cutoff_and_the_start(customer, make_user, now):
    restaurant = app_restaurant(deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    staff = make_user(Role.STAFF, restaurant_id=restaurant.id)
    starts = reservation.starts_at
    change(reservation, customer, starts - timedelta(minutes=61), special_requests="a")
    err = refused(
        ErrorCode.TOO_LATE_TO_CHANGE,
        change,
        reservation,
        customer,
        starts - timedelta(minutes=60),
        special_requests="b",
    )
    assert err.details["cutoffMinutes"] == 60
    # Staff are exempt from the guest's cutoff, not from the start.
    change(reservation, staff, starts - timedelta(minutes=5), special_requests="staff")
    refused(ErrorCode.TOO_LATE_TO_CHANGE, change, reservation, staff, starts, special_requests="late")
    actors = db.session.scalars(
        select(ReservationEvent.actor_role).where(ReservationEvent.action == "change").order_by(ReservationEvent.id)
    ).all()
    assert actors == ["guest", "staff"]


def test_the_cutoff_is_a_setting(app, customer, now, monkeypatch):
    reservation = book(app_restaurant(deposit_per_person_cents=0), customer, now=now)
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(settings, modify_cutoff_minutes=24 * 60))
    refused(
        ErrorCode.TOO_LATE_TO_CHANGE,
        change,
        reservation,
        customer,
        reservation.starts_at - timedelta(hours=23),
        party_size=3,
    )


def test_someone_elses_booking_is_not_found(customer, other_customer, make_user, now):
    restaurant = app_restaurant(deposit_per_person_cents=0)
    reservation = book(restaurant, customer, now=now)
    elsewhere = make_user(Role.STAFF, restaurant_id=app_restaurant().id)
    refused(ErrorCode.RESERVATION_NOT_FOUND, change, reservation, other_customer, now, party_size=3)
    refused(ErrorCode.RESERVATION_NOT_FOUND, change, reservation, elsewhere, now, party_size=3)
    refused(ErrorCode.RESERVATION_NOT_FOUND, change, Reservation(id=uuid.uuid4()), customer, now, party_size=3)


def test_a_request_that_changes_nothing_writes_nothing(customer, now):
    reservation = book(app_restaurant(), customer, now=now)
    change(reservation, customer, now, wall_time=time(19, 0), party_size=2)
    assert snapshot(reservation.id)["events"].count("change") == 0


# --- the deposit difference -------------------------------------------------------------------


def test_a_larger_party_is_charged_the_difference_once_even_when_retried(customer, now):
    restaurant = app_restaurant(tables=[(2, 4)])  # 25.00 per person
    reservation = book(restaurant, customer, now=now)
    for _ in range(2):  # the retry finds the change made: no second charge, no second audit row
        changed = change(reservation, customer, now, party_size=4)
    assert changed.deposit_cents == 10000 and changed.deposit_paid
    money = ledger(reservation.id)
    assert (money["charges"], money["captured"], money["refunded"]) == (2, 10000, 0)
    assert money["payments"] == ["captured", "captured"]
    [adjustment] = db.session.scalars(select(DepositAdjustment)).all()
    assert (adjustment.amount_cents, adjustment.status) == (5000, "settled")
    assert gateway_intent(f"deposit:{adjustment.id}:1")["amount_captured_cents"] == 5000
    event = db.session.get(ReservationEvent, adjustment.event_id)
    assert event.details["depositAmountCents"] == [5000, 10000]


def test_a_smaller_party_is_refunded_the_difference_once(customer, now):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, party=4, now=now)
    for _ in range(2):
        change(reservation, customer, now, party_size=1)
    money = ledger(reservation.id)
    assert (money["charges"], money["captured"], money["refunded"], money["deposit"]) == (1, 10000, 7500, 2500)


def test_growing_then_shrinking_refunds_the_newest_money_first(customer, now):
    reservation = book(app_restaurant(tables=[(2, 6)]), customer, now=now)
    change(reservation, customer, now, party_size=6)  # +100.00 on a second payment
    change(reservation, customer, now, party_size=1)  # -125.00: all of the second, 25.00 of the first
    money = ledger(reservation.id)
    assert (money["captured"] - money["refunded"], money["deposit"]) == (2500, 2500)
    refunds = db.session.scalars(select(DepositAdjustment.refunds).where(DepositAdjustment.amount_cents < 0)).one()
    assert [cents for _, cents in refunds] == [10000, 2500]


def test_a_declined_difference_changes_nothing(customer, now):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, now=now)
    db.session.execute(update(Payment).values(payment_method="pm_card_chargeDeclined"))
    db.session.commit()
    before = snapshot(reservation.id)
    err = refused(ErrorCode.PAYMENT_DECLINED, change, reservation, customer, now, party_size=4)
    assert err.status == 402 and snapshot(reservation.id) == before


def test_a_larger_deposit_without_a_saved_card_changes_nothing(customer, now):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, now=now)
    db.session.execute(update(Reservation).values(hold_id=None))
    db.session.commit()
    before = snapshot(reservation.id)
    err = refused(ErrorCode.PAYMENT_METHOD_REQUIRED, change, reservation, customer, now, party_size=3)
    assert err.status == 402 and snapshot(reservation.id) == before
    change(reservation, customer, now, party_size=2, special_requests="same party")  # no money: fine


def test_cancelling_after_a_larger_party_refunds_by_the_frozen_policy(customer, now):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, now=now)
    change(reservation, customer, now, party_size=4)
    cancelled = cancellation.cancel_reservation(actor=customer, reservation_id=reservation.id, user_id=None, now=now)
    assert cancelled.refund_percent == 100 and cancelled.refund_cents == 10000
    money = ledger(reservation.id)
    assert (money["captured"], money["refunded"]) == (10000, 10000)


# --- the crash matrix for changes -------------------------------------------------------------

INCREASE_OUTCOME = {"charges": 2, "captured": 10000, "refunded": 0, "deposit": 10000}


@pytest.mark.parametrize("point", changes.FAULT_POINTS)
@pytest.mark.parametrize("recovery", ["retry", "reconciler"])
def test_a_party_change_dying_at_each_step_charges_exactly_once(point, recovery, app, customer, now, monkeypatch):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, now=now)
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(settings, fault_injection_point=point))
    with pytest.raises(faults.InjectedFault):
        change(reservation, customer, now, party_size=4)
    monkeypatch.setitem(app.config, "SETTINGS", settings)

    if recovery == "retry":
        change(reservation, customer, now, party_size=4)
    checkout.reconcile_payments(now + timedelta(hours=1))
    assert checkout.reconcile_payments(now + timedelta(hours=2)).total() == 0  # nothing left to do

    money = ledger(reservation.id)
    committed = point != "change_after_authorize" or recovery == "retry"
    if committed:
        assert {k: money[k] for k in INCREASE_OUTCOME} == INCREASE_OUTCOME
        assert db.session.scalars(select(DepositAdjustment.status)).all() == ["settled"]
    else:
        # The change never committed: the booking is as it was, the extra authorisation released.
        assert (money["deposit"], money["captured"], money["refunded"], money["held"]) == (5000, 5000, 0, 0)
        assert snapshot(reservation.id)["party"] == 2
        [extra] = db.session.scalars(select(Payment).where(Payment.subject_id != reservation.hold_id)).all()
        intent = gateway_intent(extra.idempotency_key)
        assert extra.status == "voided" and (intent["status"], intent["amount_captured_cents"]) == ("canceled", 0)


@pytest.mark.parametrize("point", ["change_after_commit", "change_after_settle"])
@pytest.mark.parametrize("recovery", ["retry", "reconciler"])
def test_a_smaller_party_dying_after_commit_refunds_exactly_once(point, recovery, app, customer, now, monkeypatch):
    reservation = book(app_restaurant(tables=[(2, 4)]), customer, party=4, now=now)
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(settings, fault_injection_point=point))
    with pytest.raises(faults.InjectedFault):
        change(reservation, customer, now, party_size=2)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    if recovery == "retry":
        change(reservation, customer, now, party_size=2)
    checkout.reconcile_payments(now + timedelta(hours=1))
    checkout.reconcile_payments(now + timedelta(hours=2))
    money = ledger(reservation.id)
    assert (money["charges"], money["captured"], money["refunded"], money["deposit"]) == (1, 10000, 5000, 5000)


def test_the_use_case_takes_any_actor_and_guard(customer, now):
    """The manage link (engineer D) calls the use case directly with its own actor and guard."""
    reservation = book(app_restaurant(deposit_per_person_cents=0), customer, now=now)

    def only_this_booking(found: Reservation) -> None:
        if found.id != reservation.id:
            raise AssertionError

    changes.change_reservation(
        reservation_id=reservation.id,
        actor=lifecycle.MANAGE_LINK,
        requested=Change(special_requests="via link"),
        now=now,
        guard=only_this_booking,
    )
    role = db.session.scalars(select(ReservationEvent.actor_role).where(ReservationEvent.action == "change")).one()
    assert role == "link"
