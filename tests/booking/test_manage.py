"""Guest manage links: a token opens its one booking until the visit is over, and nothing else."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from api.booking import checkout, holds, lifecycle, manage, service
from api.booking.models import ManageToken, Reservation, ReservationEvent, ReservationStatus, TableOccupancy
from api.db import atomic
from api.errors import Gone
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.payments.models import PaymentRefund, RefundStatus
from tests.booking.helpers import booking, local, upcoming_service_day


def _now() -> datetime:
    return datetime.now(UTC)


def _mint(reservation: Reservation) -> str:
    with atomic():
        token = manage.mint_token(reservation=reservation, now=_now())
    return token


def _book(cafe, hour: int = 19, days_ahead: int = 14) -> tuple[Reservation, str]:
    when = local(upcoming_service_day(days_ahead), hour)
    reservation = service.create_reservation(restaurant=cafe, booking=booking(when), now=_now())
    return reservation, _mint(reservation)


def _reload(reservation: Reservation) -> Reservation:
    db.session.expire_all()
    return db.session.get(Reservation, reservation.id)


def _move(reservation: Reservation, *actions: lifecycle.Action, now: datetime | None = None) -> None:
    with atomic():
        row = db.session.get(Reservation, reservation.id, with_for_update=True)
        for action in actions:
            lifecycle.apply(row, action, actor=lifecycle.SYSTEM, now=now or row.starts_at)


def test_the_link_shows_its_booking_in_local_time(client, cafe):
    reservation, token = _book(cafe)

    answer = client.get(f"/api/manage/{token}")

    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["confirmationCode"] == reservation.confirmation_code
    assert body["date"] == upcoming_service_day(14).isoformat()
    assert body["time"] == "19:00"
    assert body["timezone"] == "America/New_York"
    assert body["restaurantName"] == cafe.name
    assert body["partySize"] == 2
    assert body["status"] == "confirmed"
    assert body["specialRequests"] == ""
    assert body["cancellable"] is True


def test_only_the_hash_of_a_token_is_stored(client, cafe):
    reservation, token = _book(cafe)

    [row] = db.session.scalars(select(ManageToken).where(ManageToken.reservation_id == reservation.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    # Whoever reads the database holds hashes, which open nothing.
    assert client.get(f"/api/manage/{row.token_hash}").status_code == 404


@pytest.mark.parametrize(
    "guess",
    [
        secrets.token_urlsafe(32),  # well formed, never minted
        "abc",
        "x" * 43 + ".",
        "../" + secrets.token_urlsafe(32),
    ],
)
def test_a_guessed_token_opens_nothing(client, cafe, guess):
    _book(cafe)  # a booking exists; a guess still must not reach it

    for method in ("get", "delete"):
        answer = getattr(client, method)(f"/api/manage/{guess}")
        assert answer.status_code == 404, answer.json
        assert answer.json["code"] in ("MANAGE_LINK_NOT_FOUND", "NOT_FOUND")
    assert db.session.scalar(select(func.count()).where(Reservation.status == ReservationStatus.CANCELLED)) == 0


def test_each_token_opens_its_own_booking_only(client, cafe):
    first, first_token = _book(cafe, hour=19)
    second, second_token = _book(cafe, hour=20)
    extra_token = _mint(first)  # a second email about the first booking: both links work

    tokens = (first_token, second_token, extra_token)
    codes = {t: client.get(f"/api/manage/{t}").json["confirmationCode"] for t in tokens}

    assert codes == {
        first_token: first.confirmation_code,
        second_token: second.confirmation_code,
        extra_token: first.confirmation_code,
    }


def test_cancel_through_the_link_frees_the_table_and_is_audited_as_the_link(client, cafe):
    reservation, token = _book(cafe)

    answer = client.delete(f"/api/manage/{token}")

    assert answer.status_code == 200, answer.json
    assert answer.json["success"] is True
    assert answer.json["refundAmount"] == 0
    cancelled = _reload(reservation)
    assert cancelled.status == ReservationStatus.CANCELLED
    claims = select(func.count()).where(TableOccupancy.reservation_id == reservation.id)
    assert db.session.scalar(claims) == 0
    [event] = db.session.scalars(
        select(ReservationEvent).where(
            ReservationEvent.reservation_id == reservation.id, ReservationEvent.action == "cancel"
        )
    )
    assert (event.actor_role, event.actor_id, event.from_status) == ("link", None, "confirmed")
    queued = db.session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "reservation.event")).all()
    assert {"reservation_id": str(reservation.id), "event_id": event.id} in queued

    # The link is spent: the booking shows as gone, and cancelling again changes nothing.
    again = client.get(f"/api/manage/{token}")
    assert again.status_code == 410
    assert again.json["code"] == "MANAGE_LINK_EXPIRED"
    assert again.json["details"]["status"] == "cancelled"
    assert client.delete(f"/api/manage/{token}").status_code == 410


def test_cancel_through_the_link_refunds_the_deposit_by_the_frozen_policy(client, cafe, customer):
    day = upcoming_service_day(14)
    hold = holds.create_hold(
        actor=customer,
        user_id=None,
        restaurant_id=cafe.id,
        service_date=day,
        wall_time=time(19, 0),
        party_size=2,
        now=_now(),
    ).hold
    reservation = checkout.confirm_reservation(
        actor=customer, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=_now()
    ).reservation
    token = _mint(reservation)
    assert client.get(f"/api/manage/{token}").json["refundIfCancelled"] == 50.0

    answer = client.delete(f"/api/manage/{token}")

    assert answer.status_code == 200, answer.json
    assert (answer.json["refundAmount"], answer.json["refundPercentage"]) == (50.0, 100)
    [refund] = db.session.scalars(
        select(PaymentRefund).where(PaymentRefund.reason_key == f"cancel:{reservation.id}")
    ).all()
    assert (refund.amount_cents, refund.status) == (5000, RefundStatus.SUCCEEDED)


def test_a_link_is_stale_once_the_stay_has_ended(client, cafe):
    reservation, token = _book(cafe)

    assert manage.view_reservation(token=token, now=reservation.ends_at - timedelta(seconds=1)).status == "confirmed"
    with pytest.raises(Gone) as stale:
        manage.view_reservation(token=token, now=reservation.ends_at)
    assert stale.value.code == "MANAGE_LINK_EXPIRED"
    with pytest.raises(Gone):
        manage.cancel_reservation(token=token, now=reservation.ends_at + timedelta(days=1))
    assert _reload(reservation).status == ReservationStatus.CONFIRMED


@pytest.mark.parametrize(
    ("actions", "status"),
    [
        ((lifecycle.Action.SEAT, lifecycle.Action.COMPLETE), "completed"),
        ((lifecycle.Action.NO_SHOW,), "no_show"),
    ],
)
def test_a_link_is_stale_once_the_visit_is_over(client, cafe, actions, status):
    reservation, token = _book(cafe)
    _move(reservation, *actions)

    answer = client.get(f"/api/manage/{token}")

    assert answer.status_code == 410
    assert answer.json["code"] == "MANAGE_LINK_EXPIRED"
    assert answer.json["details"]["status"] == status


def test_a_rejected_request_has_a_stale_link(client, cafe):
    reservation, token = _book(cafe)
    with atomic():
        row = db.session.get(Reservation, reservation.id, with_for_update=True)
        row.status = ReservationStatus.PENDING  # as a primetime booking starts (engineer B's path)
    _move(reservation, lifecycle.Action.REJECT, now=_now())

    assert client.get(f"/api/manage/{token}").status_code == 410


def test_a_seated_party_sees_its_booking_but_cannot_cancel_it(client, cafe):
    reservation, token = _book(cafe)
    _move(reservation, lifecycle.Action.SEAT, now=_now())

    view = client.get(f"/api/manage/{token}")
    assert view.status_code == 200
    assert (view.json["status"], view.json["cancellable"]) == ("seated", False)
    answer = client.delete(f"/api/manage/{token}")
    assert answer.status_code == 409
    assert answer.json["code"] == "INVALID_TRANSITION"
    assert _reload(reservation).status == ReservationStatus.SEATED


def test_manage_links_are_rate_limited_per_client(make_app):
    app = make_app(ratelimit_enabled=True, ratelimit_manage="2 per minute")
    client = app.test_client()
    guesses = [secrets.token_urlsafe(32) for _ in range(3)]

    answers = [client.get(f"/api/manage/{guesses[0]}"), client.delete(f"/api/manage/{guesses[1]}")]
    answers.append(client.get(f"/api/manage/{guesses[2]}"))

    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[2].json["code"] == "RATE_LIMITED"


def test_the_manage_page_is_served_for_any_token(client, cafe):
    _, token = _book(cafe)

    page = client.get(f"/manage/{token}")

    assert page.status_code == 200
    assert f'data-token="{token}"' in page.get_data(as_text=True)  # manage.js calls /api/manage/<token>
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token never leaves in a Referer
    assert page.headers["Cache-Control"] == "no-store"
    for answer in (client.get(f"/api/manage/{token}"), client.get(f"/api/manage/{secrets.token_urlsafe(32)}")):
        assert answer.headers["Cache-Control"] == "no-store"


def test_tokens_of_long_past_stays_are_pruned(client, cafe):
    first, first_token = _book(cafe, hour=19)
    later, later_token = _book(cafe, hour=21)
    minute = timedelta(minutes=1)

    assert manage.prune_stale_tokens(first.ends_at + manage.KEEP_STALE_TOKENS - minute) == 0
    assert manage.prune_stale_tokens(first.ends_at + manage.KEEP_STALE_TOKENS + minute) == 1
    assert client.get(f"/api/manage/{first_token}").status_code == 404
    assert client.get(f"/api/manage/{later_token}").status_code == 200
    assert manage.prune_stale_tokens(later.ends_at + manage.KEEP_STALE_TOKENS + minute) == 1
    assert db.session.scalar(select(func.count()).select_from(ManageToken)) == 0


def test_a_change_through_the_link_moves_the_booking_and_is_audited_as_the_link(client, cafe):
    reservation, token = _book(cafe)

    answer = client.patch(f"/api/manage/{token}", json={"time": "20:30", "specialRequests": "Window, please"})

    assert answer.status_code == 200, answer.json
    assert (answer.json["time"], answer.json["specialRequests"]) == ("20:30", "Window, please")
    moved = _reload(reservation)
    assert moved.starts_at == local(upcoming_service_day(14), 20, 30)
    claims = db.session.scalars(select(TableOccupancy).where(TableOccupancy.reservation_id == moved.id)).all()
    assert [(c.starts_at, c.ends_at) for c in claims] == [(moved.starts_at, moved.ends_at)]
    [event] = db.session.scalars(
        select(ReservationEvent).where(ReservationEvent.reservation_id == moved.id, ReservationEvent.action == "change")
    ).all()
    assert (event.actor_role, event.actor_id) == ("link", None)
    assert client.get(f"/api/manage/{token}").json["time"] == "20:30"  # the same link keeps working


def test_a_change_through_a_stale_or_guessed_link_changes_nothing(client, cafe):
    reservation, token = _book(cafe)
    starts_at = reservation.starts_at
    guessed = client.patch(f"/api/manage/{secrets.token_urlsafe(32)}", json={"time": "20:30"})
    assert (guessed.status_code, guessed.json["code"]) == (404, "MANAGE_LINK_NOT_FOUND")
    _move(reservation, lifecycle.Action.CANCEL, now=_now())
    stale = client.patch(f"/api/manage/{token}", json={"time": "20:30"})
    assert (stale.status_code, stale.json["code"]) == (410, "MANAGE_LINK_EXPIRED")
    assert _reload(reservation).starts_at == starts_at


def test_a_change_through_the_link_follows_the_guests_rules(client, cafe):
    _reservation, token = _book(cafe)
    empty = client.patch(f"/api/manage/{token}", json={})
    assert (empty.status_code, empty.json["code"]) == (422, "VALIDATION_ERROR")
    closed = client.patch(f"/api/manage/{token}", json={"time": "03:00"})
    assert closed.status_code == 422 and closed.json["code"] == "BAD_TIME"
