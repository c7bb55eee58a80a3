"""The payments service on real PostgreSQL, with each gateway (the fake, and Stripe via the stand-in)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.errors import AppError, ErrorCode
from api.extensions import db
from api.payments import service
from api.payments.gateway import GatewayStatus, get_gateway
from api.payments.models import Payment, PaymentRefund, PaymentStatus


def start(now, *, subject_id=None, payment_method="pm_card_visa", amount_cents=5000) -> Payment:
    return service.start_payment(
        subject_id=subject_id or uuid.uuid4(),
        amount_cents=amount_cents,
        currency="USD",
        payment_method=payment_method,
        now=now,
    )


def authorized(now, **kwargs) -> Payment:
    payment = start(now, **kwargs)
    return service.authorize_payment(payment_id=payment.id, now=now)


def captured(now, **kwargs) -> Payment:
    payment = authorized(now, **kwargs)
    return service.capture_payment(payment_id=payment.id, now=now)


def error_of(call) -> AppError:
    with pytest.raises(AppError) as raised:
        call()
    return raised.value


def rows_for(subject_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Payment).where(Payment.subject_id == subject_id))


# --- start ------------------------------------------------------------------------------------


def test_start_payment_twice_drives_one_payment(payments_app, now):
    subject_id = uuid.uuid4()
    first = start(now, subject_id=subject_id)
    second = start(now, subject_id=subject_id)
    assert second.id == first.id
    assert rows_for(subject_id) == 1
    assert first.status == PaymentStatus.PENDING
    assert first.idempotency_key == f"deposit:{subject_id}:1"
    assert first.currency == "usd"
    assert first.gateway == get_gateway().name


def test_start_payment_with_another_card_while_one_is_live_is_payment_in_progress(payments_app, now):
    subject_id = uuid.uuid4()
    start(now, subject_id=subject_id)
    err = error_of(lambda: start(now, subject_id=subject_id, payment_method="pm_card_mastercard"))
    assert (err.status, err.code) == (409, ErrorCode.PAYMENT_IN_PROGRESS)


def test_start_payment_refuses_a_card_number_as_payment_method(payments_app, now):
    err = error_of(lambda: start(now, payment_method="4242 4242 4242 4242"))
    assert (err.status, err.code) == (422, ErrorCode.RAW_CARD_REJECTED)
    err = error_of(lambda: start(now, payment_method="not a token!"))
    assert (err.status, err.code) == (422, ErrorCode.VALIDATION_ERROR)


# --- authorize --------------------------------------------------------------------------------


def test_authorize_holds_the_deposit_with_brand_and_last4_from_the_gateway(payments_app, charges, now):
    payment = authorized(now, payment_method="pm_card_amex")
    assert payment.status == PaymentStatus.AUTHORIZED
    assert (payment.card_brand, payment.card_last4, payment.card_brand_label) == ("amex", "8431", "American Express")
    assert payment.gateway_payment_id
    assert payment.authorized_at == now
    assert charges.count(payment.idempotency_key) == 1


def test_authorize_again_and_a_double_click_charge_once(payments_app, charges, now):
    subject_id = uuid.uuid4()
    payment = authorized(now, subject_id=subject_id)
    # The double-click: the same start and authorize again.
    again = service.authorize_payment(payment_id=start(now, subject_id=subject_id).id, now=now)
    assert again.id == payment.id and again.status == PaymentStatus.AUTHORIZED
    assert charges.count(payment.idempotency_key) == 1


def test_declined_card_fails_the_payment_with_402_payment_declined(payments_app, charges, now):
    payment = start(now, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    err = error_of(lambda: service.authorize_payment(payment_id=payment.id, now=now))
    assert (err.status, err.code) == (402, ErrorCode.PAYMENT_DECLINED)
    assert err.details["declineCode"] == "insufficient_funds"
    payment = service.get_payment(payment_id=payment.id)
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == "insufficient_funds"
    assert charges.count(payment.idempotency_key) == 0
    # Asking again answers the same, without a new attempt at the gateway.
    err = error_of(lambda: service.authorize_payment(payment_id=payment.id, now=now))
    assert (err.status, err.code) == (402, ErrorCode.PAYMENT_DECLINED)


def test_after_a_decline_another_card_starts_a_new_attempt_with_a_new_key(payments_app, charges, now):
    subject_id = uuid.uuid4()
    declined = start(now, subject_id=subject_id, payment_method="pm_card_chargeDeclined")
    error_of(lambda: service.authorize_payment(payment_id=declined.id, now=now))
    retry = start(now, subject_id=subject_id, payment_method="pm_card_mastercard")
    assert retry.id != declined.id
    assert (retry.attempt, retry.idempotency_key) == (2, f"deposit:{subject_id}:2")
    retry = service.authorize_payment(payment_id=retry.id, now=now)
    assert (retry.status, retry.card_last4) == (PaymentStatus.AUTHORIZED, "4444")
    assert rows_for(subject_id) == 2


def test_a_paid_subject_cannot_start_a_second_payment(payments_app, now):
    subject_id = uuid.uuid4()
    captured(now, subject_id=subject_id)
    err = error_of(lambda: start(now, subject_id=subject_id, payment_method="pm_card_mastercard"))
    assert err.code == ErrorCode.PAYMENT_IN_PROGRESS


# --- capture / void ---------------------------------------------------------------------------


def test_capture_twice_captures_once_at_the_gateway(payments_app, charges, gateway_kind, now):
    payment = authorized(now)
    first = service.capture_payment(payment_id=payment.id, now=now)
    second = service.capture_payment(payment_id=payment.id, now=now + timedelta(seconds=5))
    assert first.status == second.status == PaymentStatus.CAPTURED
    assert second.captured_at == now
    assert get_gateway().retrieve(payment.gateway_payment_id).amount_captured_cents == 5000
    if gateway_kind == "stripe":
        assert charges.requests("/capture") == 1


def test_capture_of_a_payment_that_is_not_authorized_is_a_state_conflict(payments_app, now):
    payment = start(now)
    err = error_of(lambda: service.capture_payment(payment_id=payment.id, now=now))
    assert (err.status, err.code) == (409, ErrorCode.PAYMENT_STATE_CONFLICT)


def test_capture_after_the_gateway_released_the_authorization_voids_the_payment(payments_app, now):
    payment = authorized(now)
    get_gateway().void(gateway_payment_id=payment.gateway_payment_id, idempotency_key="expired-by-gateway")
    err = error_of(lambda: service.capture_payment(payment_id=payment.id, now=now))
    assert err.code == ErrorCode.PAYMENT_STATE_CONFLICT
    assert service.get_payment(payment_id=payment.id).status == PaymentStatus.VOIDED


def test_void_releases_an_authorization_and_is_idempotent(payments_app, now):
    payment = authorized(now)
    assert service.void_payment(payment_id=payment.id, now=now).status == PaymentStatus.VOIDED
    assert service.void_payment(payment_id=payment.id, now=now).status == PaymentStatus.VOIDED
    assert get_gateway().retrieve(payment.gateway_payment_id).status == GatewayStatus.CANCELED


def test_void_of_a_captured_payment_is_a_state_conflict(payments_app, now):
    payment = captured(now)
    err = error_of(lambda: service.void_payment(payment_id=payment.id, now=now))
    assert (err.status, err.code) == (409, ErrorCode.PAYMENT_STATE_CONFLICT)


def test_void_of_a_pending_payment_releases_an_authorization_whose_answer_was_lost(payments_app, charges, now):
    payment = start(now)
    # The crash: the gateway authorized, our row never heard of it.
    get_gateway().authorize(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        payment_method=payment.payment_method,
        idempotency_key=payment.idempotency_key,
        metadata={"payment_id": str(payment.id), "subject_id": str(payment.subject_id)},
    )
    voided = service.void_payment(payment_id=payment.id, now=now)
    assert voided.status == PaymentStatus.VOIDED
    assert voided.gateway_payment_id is not None
    assert get_gateway().retrieve(voided.gateway_payment_id).status == GatewayStatus.CANCELED
    assert charges.count(payment.idempotency_key) == 1


def test_void_of_a_pending_payment_the_gateway_never_saw_abandons_it_and_a_late_answer_is_released(payments_app, now):
    payment = start(now)
    abandoned = service.void_payment(payment_id=payment.id, now=now)
    assert (abandoned.status, abandoned.failure_code) == (PaymentStatus.FAILED, "abandoned")
    # The lost request arrives at the gateway after all; syncing releases the stray hold.
    late = get_gateway().authorize(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        payment_method=payment.payment_method,
        idempotency_key=payment.idempotency_key,
        metadata={"payment_id": str(payment.id), "subject_id": str(payment.subject_id)},
    )
    synced = service.sync_payment(payment_id=payment.id, now=now)
    assert synced.status == PaymentStatus.FAILED
    assert get_gateway().retrieve(late.gateway_payment_id).status == GatewayStatus.CANCELED


# --- refunds ----------------------------------------------------------------------------------


def test_refund_gives_back_part_once_per_reason(payments_app, gateway_kind, charges, now):
    payment = captured(now)
    first = service.refund_payment(payment_id=payment.id, amount_cents=2500, reason_key="cancel:r1", now=now)
    again = service.refund_payment(payment_id=payment.id, amount_cents=2500, reason_key="cancel:r1", now=now)
    assert again.id == first.id
    payment = service.get_payment(payment_id=payment.id)
    assert (payment.status, payment.refunded_cents) == (PaymentStatus.PARTIALLY_REFUNDED, 2500)
    assert get_gateway().retrieve(payment.gateway_payment_id).amount_refunded_cents == 2500
    if gateway_kind == "stripe":
        assert charges.requests("/v1/refunds") == 1


def test_refunds_up_to_the_amount_then_refunded(payments_app, now):
    payment = captured(now)
    service.refund_payment(payment_id=payment.id, amount_cents=1000, reason_key="goodwill", now=now)
    refund = service.refund_payment(payment_id=payment.id, amount_cents=4000, reason_key="cancel:r2", now=now)
    assert refund.status == "succeeded" and refund.gateway_refund_id
    payment = service.get_payment(payment_id=payment.id)
    assert (payment.status, payment.refunded_cents) == (PaymentStatus.REFUNDED, 5000)
    err = error_of(lambda: service.refund_payment(payment_id=payment.id, amount_cents=1, reason_key="more", now=now))
    assert (err.status, err.code) == (409, ErrorCode.PAYMENT_STATE_CONFLICT)
    assert err.details["refundableCents"] == 0


def test_same_refund_reason_with_another_amount_is_refused(payments_app, now):
    payment = captured(now)
    service.refund_payment(payment_id=payment.id, amount_cents=1000, reason_key="cancel:r3", now=now)
    err = error_of(
        lambda: service.refund_payment(payment_id=payment.id, amount_cents=2000, reason_key="cancel:r3", now=now)
    )
    assert (err.status, err.code) == (409, ErrorCode.IDEMPOTENCY_KEY_REUSED)


def test_refund_of_an_uncaptured_payment_is_a_state_conflict(payments_app, now):
    payment = authorized(now)
    err = error_of(lambda: service.refund_payment(payment_id=payment.id, amount_cents=100, reason_key="x", now=now))
    assert (err.status, err.code) == (409, ErrorCode.PAYMENT_STATE_CONFLICT)


def test_a_refund_interrupted_by_a_crash_is_finished_by_asking_again(payments_app, now):
    payment = captured(now)
    # The crash: our pending refund row was committed, the gateway refunded, we never recorded it.
    refund = PaymentRefund(
        payment_id=payment.id,
        reason_key="cancel:r4",
        idempotency_key=f"refund:{payment.id}:cancel:r4",
        amount_cents=3000,
        status="pending",
    )
    db.session.add(refund)
    db.session.commit()
    get_gateway().refund(
        gateway_payment_id=payment.gateway_payment_id, amount_cents=3000, idempotency_key=refund.idempotency_key
    )
    finished = service.refund_payment(payment_id=payment.id, amount_cents=3000, reason_key="cancel:r4", now=now)
    assert finished.id == refund.id and finished.status == "succeeded"
    assert get_gateway().retrieve(payment.gateway_payment_id).amount_refunded_cents == 3000
    assert service.get_payment(payment_id=payment.id).refunded_cents == 3000


def test_sync_picks_up_a_refund_made_at_the_gateway(payments_app, now):
    payment = captured(now)
    get_gateway().refund(gateway_payment_id=payment.gateway_payment_id, amount_cents=5000, idempotency_key="dashboard")
    synced = service.sync_payment(payment_id=payment.id, now=now)
    assert (synced.status, synced.refunded_cents) == (PaymentStatus.REFUNDED, 5000)
    # Our own record of a refund never double counts what the sync already saw.
    err = error_of(lambda: service.refund_payment(payment_id=payment.id, amount_cents=1, reason_key="x", now=now))
    assert err.code == ErrorCode.PAYMENT_STATE_CONFLICT


# --- reconciler support -------------------------------------------------------------------


def test_list_unsettled_payments_lists_pending_and_authorized_older_than_the_cutoff(payments_app, now):
    old_pending = start(now - timedelta(minutes=10))
    old_authorized = authorized(now - timedelta(minutes=10))
    settled = captured(now - timedelta(minutes=10))
    fresh = start(now)
    ids = {p.id for p in service.list_unsettled_payments(updated_before=now - timedelta(minutes=5), limit=1000)}
    assert {old_pending.id, old_authorized.id} <= ids
    assert settled.id not in ids and fresh.id not in ids


def test_get_payment_of_an_unknown_id_is_404(payments_app):
    err = error_of(lambda: service.get_payment(payment_id=uuid.uuid4()))
    assert (err.status, err.code) == (404, ErrorCode.PAYMENT_NOT_FOUND)


def test_the_database_refuses_a_second_live_payment_for_a_subject(payments_app, now):
    payment = start(now)
    twin = Payment(
        subject_id=payment.subject_id,
        attempt=2,
        idempotency_key=f"deposit:{payment.subject_id}:2",
        amount_cents=5000,
        currency="usd",
        status="pending",
        gateway="fake",
        payment_method="pm_card_visa",
        refunded_cents=0,
    )
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError) as raised, db.session.begin_nested():
        db.session.add(twin)
    assert raised.value.orig.diag.constraint_name == "uq_payments_subject_id_live"


# --- no transaction across a gateway call ---------------------------------------------------


class _TransactionSpy:
    """Wraps the app's gateway and notes, at every call, whether our session had a transaction open."""

    def __init__(self, inner):
        self._inner = inner
        self.name = inner.name
        self.calls: list[tuple[str, bool]] = []

    def __getattr__(self, attribute):
        target = getattr(self._inner, attribute)
        if not callable(target):
            return target

        def spied(*args, **kwargs):
            self.calls.append((attribute, db.session().in_transaction()))
            return target(*args, **kwargs)

        return spied


def test_no_transaction_is_open_while_the_gateway_is_called(payments_app, now):
    spy = _TransactionSpy(get_gateway())
    payments_app.extensions["payment_gateway"] = spy
    payment = captured(now)
    service.refund_payment(payment_id=payment.id, amount_cents=100, reason_key="spy", now=now)
    service.sync_payment(payment_id=payment.id, now=now)
    voided = authorized(now)
    service.void_payment(payment_id=voided.id, now=now)
    declined = start(now, payment_method="pm_card_chargeDeclined")
    error_of(lambda: service.authorize_payment(payment_id=declined.id, now=now))
    service.void_payment(payment_id=start(now).id, now=now)  # pending: looked up by key
    called = {name for name, _ in spy.calls}
    assert {"authorize", "capture", "refund", "retrieve", "void", "find_by_idempotency_key"} <= called
    assert [name for name, open_ in spy.calls if open_] == []
