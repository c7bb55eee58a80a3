"""Payments: start, authorise, capture, void and refund payments keyed by ids the caller gives.

The payments domain knows nothing of bookings. The booking domain (deposit checkout, reconciler,
webhook effects) drives it through this interface, which is kept small and stable:

    start_payment(*, subject_id, amount_cents, currency, payment_method, now) -> Payment
    authorize_payment(*, payment_id, now) -> Payment
    capture_payment(*, payment_id, now) -> Payment
    void_payment(*, payment_id, now) -> Payment
    refund_payment(*, payment_id, amount_cents, reason_key, now) -> PaymentRefund
    sync_payment(*, payment_id, now) -> Payment
    get_payment(*, payment_id) -> Payment                   (404 PAYMENT_NOT_FOUND)
    find_live_payment(*, subject_id) -> Payment | None
    find_payment_by_gateway_id(*, gateway_payment_id) -> Payment | None
    list_unsettled_payments(*, updated_before, limit) -> list[Payment]
    reject_raw_card_data(obj) -> None                       (422 RAW_CARD_REJECTED)
    register_webhook_handler(event_type, handler) -> None
    handle_webhook(*, payload, signature_header, now) -> WebhookReceipt
    claim_webhook_event(*, gateway, event, now) -> WebhookClaim

Crash safety (DESIGN "Money", STYLE 5): every function that talks to the gateway does it in three
steps. (1) A short transaction reads or writes our row and commits; (2) the gateway is called
with NO transaction open; (3) another short transaction records the outcome, idempotently and
only forwards (pending → authorized → captured → partially_refunded → refunded; failed and
voided are final). Each function opens its own `atomic()`, so none may be called from inside the
caller's transaction (atomic() refuses to nest, which makes that mistake loud).

Idempotency keys are derived from our own ids, so a retry, a double-click or the reconciler sends
the same key and the gateway answers with the first outcome instead of moving money twice:

    authorize  deposit:{subject_id}:{attempt}      (Payment.idempotency_key)
    capture    capture:{payment_id}
    void       void:{payment_id}
    refund     refund:{payment_id}:{reason_key}    (PaymentRefund.idempotency_key)

Errors raised: 402 PAYMENT_DECLINED (details: declineCode, paymentId), 409 PAYMENT_IN_PROGRESS,
409 PAYMENT_STATE_CONFLICT, 409 IDEMPOTENCY_KEY_REUSED, 409 WEBHOOK_IN_PROGRESS, 404 PAYMENT_NOT_FOUND, 422
RAW_CARD_REJECTED, 422 VALIDATION_ERROR (payment method token), 503 PAYMENT_GATEWAY_ERROR (outcome
unknown or gateway down: retrying the same call is safe), 400 WEBHOOK_SIGNATURE_INVALID.
"""

from __future__ import annotations

import enum
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from api.db import atomic
from api.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    NotFound,
    PaymentRequired,
    ServiceUnavailable,
    Unprocessable,
)
from api.extensions import db
from api.payments.fake_gateway import test_token_for_last4
from api.payments.gateway import (
    GatewayEvent,
    GatewayRejected,
    GatewayResult,
    GatewayStatus,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentGateway,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    get_gateway,
)
from api.payments.models import (
    CAPTURED_STATUSES,
    LIVE_STATUSES,
    Payment,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
    WebhookEvent,
)

logger = logging.getLogger("api.payments")

KEY_PREFIX = "deposit"
_TOKEN = re.compile(r"^[A-Za-z0-9_]{3,255}$")
_CURRENCY = re.compile(r"^[a-z]{3}$")
_REASON_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")
_RETRY_AFTER = {"Retry-After": "2"}

# How far along each status is; the outcome of a gateway call only ever moves a payment forward.
_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.AUTHORIZED: 1,
    PaymentStatus.CAPTURED: 2,
    PaymentStatus.PARTIALLY_REFUNDED: 3,
    PaymentStatus.REFUNDED: 4,
}
_FINAL = (PaymentStatus.FAILED, PaymentStatus.VOIDED, PaymentStatus.REFUNDED)


# --- reading ----------------------------------------------------------------------------------


def get_payment(*, payment_id: uuid.UUID) -> Payment:
    """The payment with this id. Raises 404 PAYMENT_NOT_FOUND."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(ErrorCode.PAYMENT_NOT_FOUND, "No such payment.", details={"paymentId": str(payment_id)})
    return payment


def find_live_payment(*, subject_id: uuid.UUID) -> Payment | None:
    """The subject's payment that holds, took or gave back money (at most one exists), if any."""
    return db.session.scalars(
        select(Payment).where(Payment.subject_id == subject_id, Payment.status.in_(LIVE_STATUSES))
    ).first()


def find_payment_by_gateway_id(*, gateway_payment_id: str) -> Payment | None:
    """Our payment for a gateway payment id (a PaymentIntent id), if any."""
    return db.session.scalars(select(Payment).where(Payment.gateway_payment_id == gateway_payment_id)).first()


def list_unsettled_payments(*, updated_before: datetime, limit: int = 100) -> list[Payment]:
    """Payments still pending or authorized and untouched since `updated_before` (the reconciler's queue).

    For each, the caller decides: `capture_payment` if what was paid for exists, else `void_payment`.
    Choose `updated_before` well past a request's lifetime (and, with Stripe, past Search's lag of
    about a minute), so that a checkout still in flight is not mistaken for an abandoned one.
    """
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)))
            .where(Payment.updated_at < updated_before)
            .order_by(Payment.updated_at)
            .limit(limit)
        )
    )


# --- raw card data ----------------------------------------------------------------------------

# Keys that only a form collecting raw card data would send (compared lower-case, without - and _).
_CARD_KEYS = frozenset(
    {"number", "cardnumber", "pan", "cvc", "cvv", "cvv2", "cvc2", "csc", "securitycode", "cardcvc", "cardcvv"}
)
# 13 to 19 digits, optionally grouped by single spaces or dashes.
_PAN_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def looks_like_card_number(text: str) -> bool:
    """True when `text` holds 13 to 19 digits (spaced or dashed allowed) that pass the Luhn check."""
    for match in _PAN_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            return True
    return False


def reject_raw_card_data(obj: Any, *, path: str = "") -> None:
    """Refuse a request body that carries card data: only gateway tokens (pm_...) are accepted.

    Walks dicts and lists; a key such as number/cardNumber/cvc/cvv, or a string or integer that
    looks like a card number (13 to 19 digits, Luhn-valid), raises 422 RAW_CARD_REJECTED naming the
    field, never echoing the value. A last 4 ("4242") or a token ("pm_card_visa") is fine.
    """
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            field = f"{path}.{key}" if path else str(key)
            if re.sub(r"[-_\s]", "", str(key)).lower() in _CARD_KEYS:
                raise _raw_card_error(field)
            reject_raw_card_data(value, path=field)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            reject_raw_card_data(value, path=f"{path}[{index}]")
    elif isinstance(obj, bool) or (isinstance(obj, str) and _UUID.fullmatch(obj.strip())):
        return  # an id: its digit runs can pass the Luhn check, but no card number has this shape
    elif isinstance(obj, (str, int)) and looks_like_card_number(str(obj)):
        raise _raw_card_error(path or "body")


def _raw_card_error(field: str) -> Unprocessable:
    return Unprocessable(
        ErrorCode.RAW_CARD_REJECTED,
        "Card numbers and security codes are never accepted; send a payment token from the card form.",
        details={"field": field},
    )


# --- starting and authorising -----------------------------------------------------------------


def start_payment(
    *, subject_id: uuid.UUID, amount_cents: int, currency: str, payment_method: str, now: datetime
) -> Payment:
    """Commit a pending payment for `subject_id` (nothing is charged yet), or return the live one.

    A subject has at most one live payment (a partial unique index). If it exists with the same
    payment method, amount and currency, it is returned: a retry or a double-click drives the
    same payment, whatever its status. After a failed or voided attempt a new attempt starts with
    the next `attempt` number and so a new idempotency key `deposit:{subject_id}:{attempt}`.

    :raise 409 PAYMENT_IN_PROGRESS: the subject's live payment uses another method or amount.
    :raise 422 RAW_CARD_REJECTED / VALIDATION_ERROR: `payment_method` is not a token.
    """
    currency = currency.lower()
    if amount_cents < 1 or not _CURRENCY.match(currency):
        raise ValueError("start_payment needs a positive amount and an ISO 4217 currency")
    _check_token(payment_method)
    gateway_name = get_gateway().name
    # Two attempts at most lose a race (to a double-click, then to its failure); a third is a bug.
    for _ in range(3):
        with atomic():
            live = find_live_payment(subject_id=subject_id)
            if live is not None:
                if (live.payment_method, live.amount_cents, live.currency) == (payment_method, amount_cents, currency):
                    return live
                raise Conflict(
                    ErrorCode.PAYMENT_IN_PROGRESS,
                    "Another payment for this is already under way.",
                    details={"paymentId": str(live.id), "status": live.status},
                )
            last = db.session.scalar(select(func.max(Payment.attempt)).where(Payment.subject_id == subject_id))
            attempt = (last or 0) + 1
            payment_id = uuid.uuid4()
            # ON CONFLICT DO NOTHING: a concurrent twin that inserted first (same attempt, or
            # another live payment) makes this insert a no-op; the loop then reads the winner.
            inserted = db.session.scalar(
                insert(Payment)
                .values(
                    id=payment_id,
                    subject_id=subject_id,
                    attempt=attempt,
                    idempotency_key=f"{KEY_PREFIX}:{subject_id}:{attempt}",
                    amount_cents=amount_cents,
                    currency=currency,
                    status=PaymentStatus.PENDING,
                    gateway=gateway_name,
                    payment_method=payment_method,
                    refunded_cents=0,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
                .returning(Payment.id)
            )
            if inserted is not None:
                return db.session.get(Payment, inserted)
    raise Conflict(ErrorCode.PAYMENT_IN_PROGRESS, "Another payment for this is already under way.")


def authorize_payment(*, payment_id: uuid.UUID, now: datetime) -> Payment:
    """Hold the payment's amount on the card (the gateway is called outside any transaction).

    Returns the payment once it holds money: `authorized`, or further along if an earlier call
    got there (a retry is harmless). Sets brand and last 4 from the gateway.

    :raise 402 PAYMENT_DECLINED: the card was refused; the payment is `failed` (and a retry of
        this call answers the same). details: declineCode, paymentId.
    :raise 503 PAYMENT_GATEWAY_ERROR: the outcome is unknown; the payment stays `pending` and
        calling again is safe (same idempotency key).
    :raise 409 PAYMENT_STATE_CONFLICT: the payment was voided meanwhile.
    """
    gateway = get_gateway()
    with atomic():
        payment = get_payment(payment_id=payment_id)
        status = PaymentStatus(payment.status)
        failure_code = payment.failure_code
        request = {
            "amount_cents": payment.amount_cents,
            "currency": payment.currency,
            "payment_method": payment.payment_method,
            "idempotency_key": payment.idempotency_key,
            "metadata": {"payment_id": str(payment.id), "subject_id": str(payment.subject_id)},
        }
    if status == PaymentStatus.FAILED:
        raise _declined(payment_id, failure_code or "card_declined")
    if status == PaymentStatus.VOIDED:
        raise _state_conflict(payment_id, status, "This payment was voided; start a new one.")
    if status != PaymentStatus.PENDING:
        return get_payment(payment_id=payment_id)

    try:
        result = gateway.authorize(**request)
    except PaymentDeclined as declined:
        _record_failure(payment_id, declined.decline_code, declined.gateway_payment_id, now)
        raise _declined(payment_id, declined.decline_code) from declined
    except GatewayRejected as rejected:
        # Not the card: a configuration problem or a bug. Fail this attempt so a new one may start.
        _record_failure(payment_id, rejected.code, None, now)
        raise _gateway_error(rejected.code) from rejected
    except GatewayUnavailable as err:
        raise _gateway_error() from err

    if result.status == GatewayStatus.REQUIRES_ACTION:
        # We confirm server-side and cannot run 3-D Secure: for the guest it is a decline.
        _record_failure(payment_id, "authentication_required", result.gateway_payment_id, now)
        _release_quietly(gateway, result.gateway_payment_id, payment_id)
        raise _declined(payment_id, "authentication_required")
    payment, stray = _record_result(payment_id, result, now)
    if stray:
        _release_quietly(gateway, result.gateway_payment_id, payment_id)
    status = PaymentStatus(payment.status)
    if status == PaymentStatus.FAILED:
        raise _declined(payment_id, payment.failure_code or "card_declined")
    if status == PaymentStatus.PENDING:
        raise _gateway_error("processing")
    if status == PaymentStatus.VOIDED:
        raise _state_conflict(payment_id, status, "This payment was voided; start a new one.")
    return payment


# --- completing -------------------------------------------------------------------------------


def capture_payment(*, payment_id: uuid.UUID, now: datetime) -> Payment:
    """Take the authorized amount. Idempotent: an already captured (or refunded) payment is returned.

    :raise 409 PAYMENT_STATE_CONFLICT: the payment is not authorized (pending, failed, voided), or
        the gateway had already released the authorization (the payment becomes `voided`).
    :raise 503 PAYMENT_GATEWAY_ERROR: outcome unknown; the payment stays `authorized`, retry is safe.
    """
    gateway = get_gateway()
    with atomic():
        payment = get_payment(payment_id=payment_id)
        status = PaymentStatus(payment.status)
        gateway_payment_id = payment.gateway_payment_id
    if status in CAPTURED_STATUSES:
        return get_payment(payment_id=payment_id)
    if status != PaymentStatus.AUTHORIZED or gateway_payment_id is None:
        raise _state_conflict(payment_id, status, "Only an authorized payment can be captured.")
    try:
        result = gateway.capture(gateway_payment_id=gateway_payment_id, idempotency_key=f"capture:{payment_id}")
    except (GatewayUnavailable, GatewayRejected) as err:
        raise _gateway_error(getattr(err, "code", None)) from err
    payment, _ = _record_result(payment_id, result, now)
    if payment.status not in CAPTURED_STATUSES:
        raise _state_conflict(payment_id, PaymentStatus(payment.status), "The gateway did not capture this payment.")
    return payment


def void_payment(*, payment_id: uuid.UUID, now: datetime) -> Payment:
    """Release the payment without taking money. Idempotent: a voided or failed payment is returned.

    A `pending` payment (the authorisation's outcome is unknown, e.g. after a crash) is looked up
    at the gateway by its idempotency key, without creating anything: found and authorized, it is
    released; not found, the payment becomes `failed` ("abandoned"), and should the lost request
    still authorize later, recording it releases that authorization at once.

    :raise 409 PAYMENT_STATE_CONFLICT: the money was already taken (refund it instead).
    :raise 503 PAYMENT_GATEWAY_ERROR: outcome unknown; retry is safe.
    """
    gateway = get_gateway()
    with atomic():
        payment = get_payment(payment_id=payment_id)
        status = PaymentStatus(payment.status)
        gateway_payment_id = payment.gateway_payment_id
        idempotency_key = payment.idempotency_key
    if status in (PaymentStatus.VOIDED, PaymentStatus.FAILED):
        return get_payment(payment_id=payment_id)
    if status in CAPTURED_STATUSES:
        raise _state_conflict(payment_id, status, "This payment was captured; refund it instead.")
    try:
        if status == PaymentStatus.PENDING:
            found = gateway.find_by_idempotency_key(idempotency_key)
            if found is None:
                return _record_abandoned(payment_id, now)
            payment, _ = _record_result(payment_id, found, now)
            if PaymentStatus(payment.status) != PaymentStatus.AUTHORIZED:
                if payment.status in CAPTURED_STATUSES:
                    raise _state_conflict(payment_id, PaymentStatus(payment.status), "This payment was captured.")
                return payment
            gateway_payment_id = found.gateway_payment_id
        if gateway_payment_id is None:
            raise _state_conflict(payment_id, status, "The gateway never saw this payment.")
        result = gateway.void(gateway_payment_id=gateway_payment_id, idempotency_key=f"void:{payment_id}")
    except (GatewayUnavailable, GatewayRejected) as err:
        raise _gateway_error(getattr(err, "code", None)) from err
    payment, _ = _record_result(payment_id, result, now)
    if payment.status in CAPTURED_STATUSES:
        raise _state_conflict(
            payment_id, PaymentStatus(payment.status), "This payment was captured; refund it instead."
        )
    return payment


def refund_payment(*, payment_id: uuid.UUID, amount_cents: int, reason_key: str, now: datetime) -> PaymentRefund:
    """Give back `amount_cents` of a captured payment, once per `reason_key`.

    `reason_key` names why (e.g. f"cancel:{reservation_id}"); asking again with the same reason
    returns the first refund instead of refunding twice, and finishes it if a crash interrupted it
    (its idempotency key is `refund:{payment_id}:{reason_key}`). Pending refunds count against
    what is left, so concurrent refunds can never give back more than was taken.

    :raise 409 PAYMENT_STATE_CONFLICT: not captured, or more than what is left to refund, or the
        gateway refused. details: refundableCents.
    :raise 409 IDEMPOTENCY_KEY_REUSED: this reason was already used with another amount.
    :raise 503 PAYMENT_GATEWAY_ERROR: outcome unknown; the refund stays pending, retry is safe.
    """
    if amount_cents < 1 or not _REASON_KEY.match(reason_key):
        raise ValueError("refund_payment needs a positive amount and a reason_key of [A-Za-z0-9_.:-]")
    gateway = get_gateway()
    idempotency_key = f"refund:{payment_id}:{reason_key}"
    with atomic():
        payment = _lock_payment(payment_id)
        refund = db.session.scalars(
            select(PaymentRefund).where(PaymentRefund.payment_id == payment_id, PaymentRefund.reason_key == reason_key)
        ).first()
        if refund is not None:
            if refund.amount_cents != amount_cents:
                raise Conflict(
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "This refund reason was already used with another amount.",
                    details={"refundId": str(refund.id), "amountCents": refund.amount_cents},
                )
            if refund.status == RefundStatus.SUCCEEDED:
                return refund
            if refund.status == RefundStatus.FAILED:
                raise _state_conflict(payment_id, PaymentStatus(payment.status), "This refund was refused.")
        else:
            refundable = _refundable_cents(payment)
            if amount_cents > refundable:
                raise Conflict(
                    ErrorCode.PAYMENT_STATE_CONFLICT,
                    "This payment cannot be refunded by that much.",
                    details={"paymentId": str(payment_id), "status": payment.status, "refundableCents": refundable},
                )
            refund = PaymentRefund(
                payment_id=payment_id,
                reason_key=reason_key,
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
                status=RefundStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
            db.session.add(refund)
            db.session.flush()
        refund_id = refund.id
        gateway_payment_id = payment.gateway_payment_id
    if gateway_payment_id is None:  # captured payments always have one; this would be a bug
        raise _state_conflict(payment_id, None, "The gateway never saw this payment.")
    try:
        result = gateway.refund(
            gateway_payment_id=gateway_payment_id, amount_cents=amount_cents, idempotency_key=idempotency_key
        )
    except GatewayUnavailable as err:
        raise _gateway_error() from err
    except GatewayRejected as rejected:
        with atomic():
            refund = _lock_refund(refund_id)
            if refund.status == RefundStatus.PENDING:
                refund.status = RefundStatus.FAILED
                refund.failure_code = rejected.code[:60]
                refund.updated_at = now
        raise _state_conflict(payment_id, None, "The gateway refused this refund.") from rejected
    with atomic():
        payment = _lock_payment(payment_id)
        refund = _lock_refund(refund_id)
        if refund.status == RefundStatus.PENDING:
            refund.status = RefundStatus.FAILED if result.status == "failed" else RefundStatus.SUCCEEDED
            refund.gateway_refund_id = result.gateway_refund_id
            refund.updated_at = now
            db.session.flush()
            _settle_refunded_cents(payment, now)
    return refund


def sync_payment(*, payment_id: uuid.UUID, now: datetime) -> Payment:
    """Ask the gateway where the payment stands and record it (moves forward only; never charges).

    For the reconciler and the webhook. A payment we consider failed or voided that the gateway
    shows authorized (a late answer to a lost request) is released at the gateway.

    :raise 503 PAYMENT_GATEWAY_ERROR: the gateway did not answer.
    """
    gateway = get_gateway()
    with atomic():
        payment = get_payment(payment_id=payment_id)
        gateway_payment_id = payment.gateway_payment_id
        idempotency_key = payment.idempotency_key
    try:
        if gateway_payment_id is None:
            result = gateway.find_by_idempotency_key(idempotency_key)
        else:
            result = gateway.retrieve(gateway_payment_id)
    except (GatewayUnavailable, GatewayRejected) as err:
        raise _gateway_error(getattr(err, "code", None)) from err
    if result is None:
        return get_payment(payment_id=payment_id)
    payment, stray = _record_result(payment_id, result, now)
    if stray:
        _release_quietly(gateway, result.gateway_payment_id, payment_id)
    return payment


# --- recording outcomes (one short transaction each) ------------------------------------------


def _lock_payment(payment_id: uuid.UUID) -> Payment:
    payment = db.session.scalars(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if payment is None:
        raise NotFound(ErrorCode.PAYMENT_NOT_FOUND, "No such payment.", details={"paymentId": str(payment_id)})
    return payment


def _lock_refund(refund_id: uuid.UUID) -> PaymentRefund:
    return db.session.scalars(
        select(PaymentRefund)
        .where(PaymentRefund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _record_result(payment_id: uuid.UUID, result: GatewayResult, now: datetime) -> tuple[Payment, bool]:
    """Apply what the gateway says, forwards only. Returns (payment, stray) where `stray` means the
    gateway holds an authorization for a payment we already gave up: the caller must release it."""
    with atomic():
        payment = _lock_payment(payment_id)
        stray = payment.status in (PaymentStatus.FAILED, PaymentStatus.VOIDED) and (
            result.status == GatewayStatus.AUTHORIZED
        )
        _apply_result(payment, result, now)
    return payment, stray


def _apply_result(payment: Payment, result: GatewayResult, now: datetime) -> None:
    current = PaymentStatus(payment.status)
    if current in (PaymentStatus.FAILED, PaymentStatus.VOIDED):
        return
    if payment.gateway_payment_id is None:
        payment.gateway_payment_id = result.gateway_payment_id
    if result.card_brand and payment.card_brand is None:
        payment.card_brand = result.card_brand[:30]
    if result.card_last4 and payment.card_last4 is None:
        payment.card_last4 = result.card_last4
    target: PaymentStatus | None = None
    if result.status == GatewayStatus.AUTHORIZED:
        target = PaymentStatus.AUTHORIZED
    elif result.status == GatewayStatus.CAPTURED:
        target = PaymentStatus.CAPTURED
    elif result.status == GatewayStatus.CANCELED and current in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
        target = PaymentStatus.VOIDED
    elif result.status in (GatewayStatus.FAILED, GatewayStatus.REQUIRES_ACTION) and current == PaymentStatus.PENDING:
        target = PaymentStatus.FAILED
        payment.failure_code = (result.failure_code or "card_declined")[:60]
    if target is not None and (target not in _RANK or _RANK[target] > _RANK.get(current, -1)):
        payment.status = target
        if target == PaymentStatus.AUTHORIZED:
            payment.authorized_at = now
        elif target == PaymentStatus.CAPTURED:
            payment.authorized_at = payment.authorized_at or now
            payment.captured_at = now
    if payment.status in CAPTURED_STATUSES:
        # Refunds made elsewhere (the dashboard) show up in the gateway's total.
        payment.refunded_cents = min(payment.amount_cents, max(payment.refunded_cents, result.amount_refunded_cents))
        _set_refund_status(payment)
    payment.updated_at = now


def _settle_refunded_cents(payment: Payment, now: datetime) -> None:
    succeeded = db.session.scalar(
        select(func.coalesce(func.sum(PaymentRefund.amount_cents), 0)).where(
            PaymentRefund.payment_id == payment.id, PaymentRefund.status == RefundStatus.SUCCEEDED
        )
    )
    # max(): the webhook's sync may already have counted this refund through the gateway's total.
    payment.refunded_cents = min(payment.amount_cents, max(payment.refunded_cents, int(succeeded)))
    _set_refund_status(payment)
    payment.updated_at = now


def _set_refund_status(payment: Payment) -> None:
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = PaymentStatus.REFUNDED
    elif payment.refunded_cents > 0:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED


def _refundable_cents(payment: Payment) -> int:
    if payment.status not in CAPTURED_STATUSES:
        return 0
    reserved = db.session.scalar(
        select(func.coalesce(func.sum(PaymentRefund.amount_cents), 0)).where(
            PaymentRefund.payment_id == payment.id, PaymentRefund.status == RefundStatus.PENDING
        )
    )
    return payment.amount_cents - payment.refunded_cents - int(reserved)


def _record_failure(payment_id: uuid.UUID, code: str, gateway_payment_id: str | None, now: datetime) -> None:
    with atomic():
        payment = _lock_payment(payment_id)
        if payment.status != PaymentStatus.PENDING:
            return
        payment.status = PaymentStatus.FAILED
        payment.failure_code = code[:60]
        if gateway_payment_id and payment.gateway_payment_id is None:
            payment.gateway_payment_id = gateway_payment_id
        payment.updated_at = now


def _record_abandoned(payment_id: uuid.UUID, now: datetime) -> Payment:
    _record_failure(payment_id, "abandoned", None, now)
    return get_payment(payment_id=payment_id)


def _release_quietly(gateway: PaymentGateway, gateway_payment_id: str, payment_id: uuid.UUID) -> None:
    """Release an authorization we will not use; the reconciler's sync retries if this fails."""
    try:
        gateway.void(gateway_payment_id=gateway_payment_id, idempotency_key=f"void:{payment_id}")
    except (GatewayUnavailable, GatewayRejected):
        logger.warning("could not release a stray authorization", extra={"payment_id": str(payment_id)})


def token_for_card(*, last4: str | None) -> str:
    """A payment token for a card described only by its last 4 digits (the app frontend's checkout).

    With the local fake gateway the last 4 pick one of Stripe's test cards (4242 pays, 0002 is
    declined: 402 PAYMENT_DECLINED); a real gateway needs a token from its card form.
    :raise 422 PAYMENT_TOKEN_REQUIRED: the gateway is Stripe, or no last 4 were sent.
    """
    if get_gateway().name != "fake" or not last4:
        raise Unprocessable(
            ErrorCode.PAYMENT_TOKEN_REQUIRED,
            "Send paymentMethod.token: a Stripe PaymentMethod id (pm_...) made by Stripe.js or the mobile SDK "
            "from the card form. Card details alone cannot be charged.",
            details={"field": "paymentMethod.token", "gateway": get_gateway().name},
        )
    return test_token_for_last4(last4)


def _check_token(payment_method: str) -> None:
    if _TOKEN.match(payment_method or ""):
        return
    if looks_like_card_number(payment_method or ""):
        raise _raw_card_error("paymentMethod")
    raise Unprocessable(
        ErrorCode.VALIDATION_ERROR,
        "The payment method must be a token from the card form (like pm_...).",
        details={"fields": {"paymentMethod": ["Not a payment method token."]}},
    )


def _declined(payment_id: uuid.UUID, decline_code: str) -> PaymentRequired:
    return PaymentRequired(
        ErrorCode.PAYMENT_DECLINED,
        "The card was declined; try another card.",
        details={"declineCode": decline_code, "paymentId": str(payment_id)},
    )


def _state_conflict(payment_id: uuid.UUID, status: PaymentStatus | None, message: str) -> Conflict:
    details: dict[str, Any] = {"paymentId": str(payment_id)}
    if status is not None:
        details["status"] = str(status)
    return Conflict(ErrorCode.PAYMENT_STATE_CONFLICT, message, details=details)


def _gateway_error(gateway_code: str | None = None) -> ServiceUnavailable:
    details = {"gatewayCode": gateway_code} if gateway_code else {}
    return ServiceUnavailable(
        ErrorCode.PAYMENT_GATEWAY_ERROR,
        "The payment service did not complete the request; retrying is safe.",
        details=details,
        headers=_RETRY_AFTER,
    )


# --- webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookNotice:
    """What a registered webhook handler receives: the event, and our payment if we know it."""

    event: GatewayEvent
    payment_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    # The payment's status after syncing it with the gateway.
    payment_status: PaymentStatus | None


WebhookHandler = Callable[[WebhookNotice, datetime], None]


@dataclass(frozen=True)
class WebhookReceipt:
    received: bool
    duplicate: bool


_handlers: dict[str, list[WebhookHandler]] = {}


def register_webhook_handler(event_type: str, handler: WebhookHandler) -> None:
    """Call `handler(notice, now)` for every new event of `event_type` (e.g. "charge.refunded").

    Domains register at start-up, so payments never imports them. A handler runs after the
    payment was synced with the gateway and outside any transaction (it opens its own). It must
    be idempotent: Stripe may deliver an event twice at once, and an event whose handler raised
    is processed again on redelivery. Registering the same handler twice is a no-op.
    """
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


class WebhookClaim(enum.StrEnum):
    """What a delivery of an event may do: process it, or not (done before, or being done now)."""

    OURS = "ours"
    DONE = "done"
    BUSY = "busy"


# How long a delivery holds an event: past any request's lifetime, so only a crashed delivery's lapses.
WEBHOOK_CLAIM = timedelta(minutes=5)


def claim_webhook_event(*, gateway: str, event: GatewayEvent, now: datetime) -> WebhookClaim:
    """Take the event for this delivery, exclusively.

    OURS when the event is new (the `INSERT … ON CONFLICT DO NOTHING` on its id inserted the row:
    a parallel twin's insert waits for ours and inserts nothing), or when an earlier delivery
    failed or crashed (its claim was released or lapsed). DONE when it was processed before; BUSY
    while another delivery holds it.
    """
    claimed_until = now + WEBHOOK_CLAIM
    with atomic():
        inserted = db.session.scalar(
            insert(WebhookEvent)
            .values(
                gateway=gateway,
                event_id=event.id,
                type=event.type[:100],
                gateway_payment_id=event.gateway_payment_id,
                received_at=now,
                claimed_until=claimed_until,
            )
            .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
            .returning(WebhookEvent.id)
        )
        if inserted is not None:
            return WebhookClaim.OURS
        # Concurrent takers queue on the row lock and re-check the WHERE: one of them gets it.
        taken = db.session.scalar(
            update(WebhookEvent)
            .where(WebhookEvent.gateway == gateway, WebhookEvent.event_id == event.id)
            .where(WebhookEvent.processed_at.is_(None))
            .where(or_(WebhookEvent.claimed_until.is_(None), WebhookEvent.claimed_until <= now))
            .values(claimed_until=claimed_until)
            .returning(WebhookEvent.id)
        )
        if taken is not None:
            return WebhookClaim.OURS
        processed_at = db.session.scalar(
            select(WebhookEvent.processed_at).where(WebhookEvent.gateway == gateway, WebhookEvent.event_id == event.id)
        )
    return WebhookClaim.DONE if processed_at is not None else WebhookClaim.BUSY


def handle_webhook(*, payload: bytes, signature_header: str, now: datetime) -> WebhookReceipt:
    """Verify, claim exclusively and dispatch a gateway webhook.

    :raise 400 WEBHOOK_SIGNATURE_INVALID: not signed with our webhook secret (or stale).
    :raise 400 BAD_REQUEST: signed, but not an event.
    :raise 409 WEBHOOK_IN_PROGRESS: another delivery of the event is being processed; the gateway
        retries, and the retry is answered as a duplicate once that delivery finished.
    :raise 503 PAYMENT_GATEWAY_ERROR: the payment could not be synced; the gateway will retry.
    """
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(payload, signature_header)
    except WebhookSignatureInvalid as err:
        raise BadRequest(ErrorCode.WEBHOOK_SIGNATURE_INVALID, "The webhook signature does not verify.") from err
    except WebhookPayloadInvalid as err:
        raise BadRequest(ErrorCode.BAD_REQUEST, "The webhook body is not an event.") from err
    if not event.id or not event.type:
        raise BadRequest(ErrorCode.BAD_REQUEST, "The webhook body is not an event.")
    claim = claim_webhook_event(gateway=gateway.name, event=event, now=now)
    if claim is WebhookClaim.DONE:
        return WebhookReceipt(received=True, duplicate=True)
    if claim is WebhookClaim.BUSY:
        raise Conflict(
            ErrorCode.WEBHOOK_IN_PROGRESS,
            "Another delivery of this event is being processed.",
            details={"eventId": event.id},
            headers=_RETRY_AFTER,
        )
    try:
        _dispatch(event, now)
    except BaseException:
        _set_webhook_outcome(gateway.name, event.id, processed_at=None)  # a redelivery may take it over
        raise
    _set_webhook_outcome(gateway.name, event.id, processed_at=now)
    return WebhookReceipt(received=True, duplicate=False)


def _dispatch(event: GatewayEvent, now: datetime) -> None:
    """Sync the event's payment with the gateway, then run the registered handlers."""
    with atomic():
        payment = _payment_for_event(event)
        payment_id = payment.id if payment else None
        subject_id = payment.subject_id if payment else None
    status: PaymentStatus | None = None
    if payment_id is not None:
        status = PaymentStatus(sync_payment(payment_id=payment_id, now=now).status)
    notice = WebhookNotice(event=event, payment_id=payment_id, subject_id=subject_id, payment_status=status)
    for handler in _handlers_for(event.type):
        handler(notice, now)


def _set_webhook_outcome(gateway: str, event_id: str, *, processed_at: datetime | None) -> None:
    """Release our claim, marking the event processed (or, after a failure, leaving it to a redelivery)."""
    with atomic():
        db.session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.gateway == gateway, WebhookEvent.event_id == event_id)
            .where(WebhookEvent.processed_at.is_(None))
            .values(processed_at=processed_at, claimed_until=None)
        )


def _handlers_for(event_type: str) -> Iterable[WebhookHandler]:
    return tuple(_handlers.get(event_type, ()))


def _payment_for_event(event: GatewayEvent) -> Payment | None:
    raw_id = event.metadata.get("payment_id")
    if raw_id:
        try:
            payment = db.session.get(Payment, uuid.UUID(raw_id))
        except ValueError:
            payment = None
        if payment is not None:
            return payment
    if event.gateway_payment_id:
        return find_payment_by_gateway_id(gateway_payment_id=event.gateway_payment_id)
    return None
