"""The deposit checkout against real PostgreSQL and the fake gateway, with a controlled clock."""

from __future__ import annotations

import dataclasses
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from api import faults
from api.booking import cancellation, checkout, holds
from api.booking.models import Hold, Reservation
from api.errors import AppError, ErrorCode, ServiceUnavailable
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.payments import service as payments_service
from api.payments.gateway import get_gateway
from tests.booking.app_flow import app_restaurant, money_state

pytestmark = pytest.mark.usefixtures("app")

WEDNESDAY = date(2026, 3, 11)  # the `now` fixture is Monday 2 March 2026, 15:00 UTC


def hold_for(restaurant, user, now, wall=time(19, 0)):
    return holds.create_hold(
        actor=user,
        user_id=None,
        restaurant_id=restaurant.id,
        service_date=WEDNESDAY,
        wall_time=wall,
        party_size=2,
        now=now,
    ).hold


def confirm(hold_id, user, now, token="pm_card_visa"):
    return checkout.confirm_reservation(
        actor=user, hold_id=hold_id, user_id=None, payment_method=token, special_requests="", now=now
    ).reservation


def expect(code: ErrorCode, fn, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code
    return err.value


def gateway_down(**_kwargs):
    raise ServiceUnavailable(ErrorCode.PAYMENT_GATEWAY_ERROR, "The gateway is unreachable.")


def backdate(hold_id, now):
    """The hold expired one second before `now` (its row and claims still there)."""
    hold = db.session.get(Hold, hold_id)
    hold.created_at = now - timedelta(minutes=11)
    hold.expires_at = now - timedelta(seconds=1)
    db.session.commit()


@pytest.fixture
def restaurant():
    return app_restaurant(tables=[(1, 2)])


@pytest.fixture
def during_authorize(monkeypatch):
    """Run something while the gateway is authorising (no transaction open), then authorise."""

    def install(action):
        real = payments_service.authorize_payment

        def authorize(**kwargs):
            action()
            return real(**kwargs)

        monkeypatch.setattr(payments_service, "authorize_payment", authorize)

    return install


def test_confirm_pays_captures_and_marks_paid(restaurant, customer, now):
    hold_id = hold_for(restaurant, customer, now).id
    reservation = confirm(hold_id, customer, now)
    state = money_state(hold_id)
    assert state["payments"] == ["captured"] and state["intents"] == ["succeeded"] and state["charges"] == 1
    assert state["reservation"].id == reservation.id
    assert (reservation.deposit_paid, reservation.payment_brand, reservation.payment_last4) == (True, "Visa", "4242")
    assert reservation.source == "app" and reservation.refund_policy == restaurant.refund_policy
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "reservation.confirmed" in kinds


def test_a_hold_that_expires_while_paying_is_still_honoured_when_its_table_is_free(
    restaurant, customer, now, during_authorize
):
    hold_id = hold_for(restaurant, customer, now).id
    during_authorize(lambda: backdate(hold_id, now))
    reservation = confirm(hold_id, customer, now)
    state = money_state(hold_id)
    assert state["reservation"].id == reservation.id
    assert state["payments"] == ["captured"] and state["charges"] == 1


def test_a_hold_lost_while_paying_is_voided_not_refunded_and_answers_410(
    restaurant, customer, other_customer, now, during_authorize
):
    hold_id = hold_for(restaurant, customer, now).id
    later = now + timedelta(minutes=11)

    def someone_takes_the_table():
        # The other guest's allocation purges the expired hold and takes its (only) table.
        hold_for(restaurant, other_customer, later)

    during_authorize(someone_takes_the_table)
    expect(ErrorCode.HOLD_EXPIRED, confirm, hold_id, customer, now)
    state = money_state(hold_id)
    assert state["reservation"] is None
    assert state["payments"] == ["voided"] and state["intents"] == ["canceled"]
    assert state["captured_cents"] == 0
    assert db.session.scalar(select(Hold).where(Hold.user_id == other_customer.id)) is not None


def test_a_declined_card_leaves_the_hold_for_another_try(restaurant, customer, now):
    hold_id = hold_for(restaurant, customer, now).id
    err = expect(ErrorCode.PAYMENT_DECLINED, confirm, hold_id, customer, now, token="pm_card_chargeDeclined")
    assert err.status == 402
    assert db.session.get(Hold, hold_id) is not None
    confirm(hold_id, customer, now + timedelta(minutes=1), token="pm_card_amex")
    state = money_state(hold_id)
    assert state["payments"] == ["failed", "captured"] and state["charges"] == 1
    assert (state["reservation"].payment_brand, state["reservation"].payment_last4) == ("American Express", "8431")


def test_a_restaurant_without_deposit_confirms_without_paying(customer, now):
    restaurant = app_restaurant(deposit_per_person_cents=0)
    hold_id = hold_for(restaurant, customer, now).id
    reservation = confirm(hold_id, customer, now)
    assert reservation.deposit_cents == 0 and reservation.deposit_paid is False
    assert money_state(hold_id)["payments"] == []


def test_a_failed_capture_leaves_a_reservation_the_reconciler_captures(restaurant, customer, now, monkeypatch):
    hold_id = hold_for(restaurant, customer, now).id

    real_capture = payments_service.capture_payment
    monkeypatch.setattr(payments_service, "capture_payment", gateway_down)
    reservation = confirm(hold_id, customer, now)
    assert reservation.deposit_paid is False  # never marked paid without a capture
    assert money_state(hold_id)["payments"] == ["authorized"]

    monkeypatch.setattr(payments_service, "capture_payment", real_capture)
    report = checkout.reconcile_payments(now + timedelta(minutes=5))
    assert report.captured == 1
    state = money_state(hold_id)
    assert state["payments"] == ["captured"] and state["reservation"].deposit_paid is True


def test_the_reconciler_waits_while_the_guest_can_still_finish(restaurant, customer, now, app, monkeypatch):
    hold_id = hold_for(restaurant, customer, now).id
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(settings, fault_injection_point="after_authorize"))
    with pytest.raises(faults.InjectedFault):
        confirm(hold_id, customer, now)
    monkeypatch.setitem(app.config, "SETTINGS", settings)

    report = checkout.reconcile_payments(now + timedelta(minutes=5))  # past the grace, but the hold lives
    assert (report.waiting, report.voided) == (1, 0)
    # The guest retries: the same payment is driven with the same key, so still one charge.
    confirm(hold_id, customer, now + timedelta(minutes=6))
    state = money_state(hold_id)
    assert state["payments"] == ["captured"] and state["charges"] == 1 and state["reservation"] is not None


def test_captured_money_without_a_reservation_is_refunded(customer, now):
    hold_id = hold_for(app_restaurant(), customer, now).id
    payment = payments_service.start_payment(
        subject_id=hold_id, amount_cents=5000, currency="usd", payment_method="pm_card_visa", now=now
    )
    payments_service.authorize_payment(payment_id=payment.id, now=now)
    payments_service.capture_payment(payment_id=payment.id, now=now)
    holds.purge_expired_holds_everywhere(now + timedelta(hours=1))
    report = checkout.reconcile_payments(now + timedelta(hours=1))
    assert report.refunded == 1
    state = money_state(hold_id)
    assert state["reservation"] is None and state["payments"] == ["refunded"] and state["refunded_cents"] == 5000


def test_a_refund_the_gateway_missed_is_finished_by_the_reconciler(customer, now, monkeypatch):
    restaurant = app_restaurant()
    hold_id = hold_for(restaurant, customer, now).id
    reservation_id = confirm(hold_id, customer, now).id

    real_refund = payments_service.refund_payment
    monkeypatch.setattr(payments_service, "refund_payment", gateway_down)
    cancelled = cancellation.cancel_reservation(actor=customer, reservation_id=reservation_id, user_id=None, now=now)
    assert (cancelled.refund_percent, cancelled.refund_cents) == (100, 5000)
    assert money_state(hold_id)["refunded_cents"] == 0

    monkeypatch.setattr(payments_service, "refund_payment", real_refund)
    checkout.reconcile_payments(now + timedelta(minutes=5))
    state = money_state(hold_id)
    assert state["payments"] == ["refunded"] and state["refunded_cents"] == 5000
    assert checkout.reconcile_payments(now + timedelta(minutes=10)).total() == 0  # settled: nothing left


def test_cancelling_before_the_capture_voids_a_full_refund(restaurant, customer, now, monkeypatch):
    hold_id = hold_for(restaurant, customer, now).id
    real_capture = payments_service.capture_payment
    monkeypatch.setattr(payments_service, "capture_payment", gateway_down)
    reservation_id = confirm(hold_id, customer, now).id
    monkeypatch.setattr(payments_service, "capture_payment", real_capture)
    cancellation.cancel_reservation(actor=customer, reservation_id=reservation_id, user_id=None, now=now)
    state = money_state(hold_id)
    assert state["payments"] == ["voided"] and state["captured_cents"] == 0


def test_the_webhook_feeds_the_reconciler(restaurant, customer, now, client, monkeypatch):
    hold_id = hold_for(restaurant, customer, now).id
    real_capture = payments_service.capture_payment
    monkeypatch.setattr(payments_service, "capture_payment", gateway_down)
    reservation_id = confirm(hold_id, customer, now).id
    monkeypatch.setattr(payments_service, "capture_payment", real_capture)
    payment = payments_service.find_live_payment(subject_id=hold_id)
    body, signature = get_gateway().make_event("payment_intent.amount_capturable_updated", payment.gateway_payment_id)
    response = client.post(
        "/api/payments/webhook", data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    state = money_state(hold_id)
    assert state["payments"] == ["captured"]
    assert db.session.get(Reservation, reservation_id).deposit_paid is True


def test_reconcile_payments_command(app):
    result = app.test_cli_runner().invoke(args=["reconcile-payments"])
    assert result.exit_code == 0 and "captured" in result.output
