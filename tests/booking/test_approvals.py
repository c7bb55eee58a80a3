"""Primetime approval (seed 002): windows, pending bookings from every client, decisions, expiry, refunds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from api.accounts.models import Role
from api.booking import approvals, checkout, holds
from api.booking.models import Reservation, ReservationEvent, TableOccupancy
from api.extensions import db
from api.outbox.models import OutboxMessage
from api.restaurants.models import PrimetimeWindow
from tests.booking.app_flow import app_restaurant, future_day, money_state
from tests.booking.helpers import local, settle, upcoming_service_day, utc_z
from tests.conftest import bearer

DAY = upcoming_service_day()  # a Wednesday (weekday 2)


def add_window(restaurant, weekday: int = 2, start=time(19), end=time(21), active: bool = True) -> PrimetimeWindow:
    window = PrimetimeWindow(
        restaurant_id=restaurant.id, weekday=weekday, start_time=start, end_time=end, is_active=active
    )
    db.session.add(window)
    settle()
    return window


def website_booking(client, wall_hour: int, minute: int = 0, email: str | None = None):
    return client.post(
        "/api/reservations",
        json={
            "time": utc_z(local(DAY, wall_hour, minute)),
            "guests": 2,
            "name": "Alex",
            "email": email or f"g-{uuid.uuid4().hex[:8]}@example.com",
        },
    )


def claims_of(reservation_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TableOccupancy)
        .where(TableOccupancy.reservation_id == uuid.UUID(str(reservation_id)))
    )


def events_of(reservation_id) -> list[tuple[str, str | None, str, str]]:
    rows = db.session.execute(
        select(
            ReservationEvent.action,
            ReservationEvent.from_status,
            ReservationEvent.to_status,
            ReservationEvent.actor_role,
        )
        .where(ReservationEvent.reservation_id == uuid.UUID(str(reservation_id)))
        .order_by(ReservationEvent.id)
    )
    return [tuple(row) for row in rows]


def confirmation_messages(reservation_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == "reservation.confirmed",
            OutboxMessage.payload["reservation_id"].astext == str(reservation_id),
        )
    )


@pytest.fixture
def staff(cafe, make_user):
    return make_user(Role.STAFF, restaurant_id=cafe.id)


# ---------------------------------------------------------------- the website's booking


def test_a_website_booking_inside_a_primetime_window_is_pending_and_holds_its_table(client, cafe):
    add_window(cafe)
    response = website_booking(client, 19, 30)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert claims_of(body["reservationId"]) == 1
    assert confirmation_messages(body["reservationId"]) == 0  # nothing confirmed yet
    assert events_of(body["reservationId"]) == [("book", None, "pending", "guest")]


@pytest.mark.parametrize(
    ("wall", "weekday", "active"),
    [
        ((21, 0), 2, True),  # the window's end is exclusive
        ((18, 30), 2, True),  # before it
        ((19, 30), 3, True),  # another weekday's window
        ((19, 30), 2, False),  # an inactive window
    ],
)
def test_a_website_booking_outside_an_active_window_is_confirmed_at_once(client, cafe, wall, weekday, active):
    add_window(cafe, weekday=weekday, active=active)
    body = website_booking(client, *wall).get_json()
    assert body["status"] == "confirmed"
    assert confirmation_messages(body["reservationId"]) == 1
    assert events_of(body["reservationId"]) == []


def test_the_windows_are_read_on_the_restaurants_wall_clock(client, cafe):
    # 19:30 in New York is 23:30 or 00:30 UTC (another weekday in UTC): the local Wednesday decides.
    add_window(cafe, weekday=2, start=time(19, 30), end=time(19, 31))
    assert website_booking(client, 19, 30).get_json()["status"] == "pending"


# ---------------------------------------------------------------- deciding


def test_staff_approve_a_pending_booking_and_it_keeps_its_table(client, cafe, staff):
    add_window(cafe)
    reservation_id = website_booking(client, 19).get_json()["reservationId"]
    response = client.post(
        f"/api/reservations/{reservation_id}/approve", json={"action": "approve"}, headers=bearer(staff)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    assert response.get_json()["reservationId"] == reservation_id
    assert claims_of(reservation_id) == 1
    assert events_of(reservation_id)[-1] == ("approve", "pending", "confirmed", "staff")


def test_staff_reject_with_a_reason_and_the_table_is_free_at_once(client, cafe, staff):
    add_window(cafe)
    reservation_id = website_booking(client, 19).get_json()["reservationId"]
    before = client.get("/api/reservations/availability", query_string={"time": utc_z(local(DAY, 19))}).get_json()
    response = client.post(
        f"/api/reservations/{reservation_id}/approve",
        json={"action": "reject", "rejectionReason": "Private party that evening"},
        headers=bearer(staff),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected"
    assert claims_of(reservation_id) == 0
    after = client.get("/api/reservations/availability", query_string={"time": utc_z(local(DAY, 19))}).get_json()
    assert after["booked"] == before["booked"] - 1
    reason = db.session.scalar(
        select(ReservationEvent.reason).where(
            ReservationEvent.reservation_id == uuid.UUID(reservation_id), ReservationEvent.action == "reject"
        )
    )
    assert reason == "Private party that evening"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "reject"},
        {"action": "reject", "rejectionReason": "   "},
        {"action": "maybe"},
        {},
        {"action": "approve", "extra": 1},
    ],
)
def test_a_bad_decision_is_422_and_changes_nothing(client, cafe, staff, body):
    add_window(cafe)
    reservation_id = website_booking(client, 19).get_json()["reservationId"]
    response = client.post(f"/api/reservations/{reservation_id}/approve", json=body, headers=bearer(staff))
    assert response.status_code == 422
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert db.session.get(Reservation, uuid.UUID(reservation_id), populate_existing=True).status == "pending"


def test_only_a_pending_booking_can_be_decided(client, cafe, staff):
    reservation_id = website_booking(client, 19).get_json()["reservationId"]  # no window: confirmed
    response = client.post(
        f"/api/reservations/{reservation_id}/approve", json={"action": "approve"}, headers=bearer(staff)
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "INVALID_TRANSITION"
    assert response.get_json()["details"]["status"] == "confirmed"


def test_staff_of_another_restaurant_cannot_see_the_booking(client, cafe, make_user):
    add_window(cafe)
    reservation_id = website_booking(client, 19).get_json()["reservationId"]
    other = app_restaurant()
    outsider = make_user(Role.STAFF, restaurant_id=other.id)
    response = client.post(
        f"/api/reservations/{reservation_id}/approve", json={"action": "approve"}, headers=bearer(outsider)
    )
    assert response.status_code == 404
    assert response.get_json()["code"] == "RESERVATION_NOT_FOUND"


def test_a_bulk_decision_answers_each_item_on_its_own(client, cafe, staff):
    add_window(cafe)
    first, second, third = (website_booking(client, 19).get_json()["reservationId"] for _ in range(3))
    confirmed = website_booking(client, 18).get_json()["reservationId"]
    unknown = str(uuid.uuid4())
    items = [
        {"reservationId": first, "action": "approve"},
        {"reservationId": second, "action": "reject", "rejectionReason": "Full house"},
        {"reservationId": confirmed, "action": "approve"},
        {"reservationId": unknown, "action": "approve"},
        {"reservationId": third, "action": "reject"},  # no reason: this item only
        {"reservationId": first, "action": "reject", "rejectionReason": "Changed our mind"},  # already decided
    ]
    response = client.post("/api/reservations/approvals", json={"items": items}, headers=bearer(staff))
    assert response.status_code == 200, response.get_json()
    answers = response.get_json()["items"]
    assert [(a["reservationId"], a["ok"], a.get("status"), (a.get("error") or {}).get("code")) for a in answers] == [
        (first, True, "confirmed", None),
        (second, True, "rejected", None),
        (confirmed, False, None, "INVALID_TRANSITION"),
        (unknown, False, None, "RESERVATION_NOT_FOUND"),
        (third, False, None, "VALIDATION_ERROR"),
        (first, False, None, "INVALID_TRANSITION"),
    ]
    statuses = dict(
        db.session.execute(
            select(Reservation.id, Reservation.status).where(
                Reservation.id.in_([uuid.UUID(first), uuid.UUID(second), uuid.UUID(third)])
            )
        ).all()
    )
    assert statuses == {uuid.UUID(first): "confirmed", uuid.UUID(second): "rejected", uuid.UUID(third): "pending"}


@pytest.mark.parametrize("body", [{"items": []}, {"items": [{"action": "approve"}]}, {}, {"items": "x"}])
def test_a_malformed_batch_is_422(client, cafe, staff, body):
    response = client.post("/api/reservations/approvals", json=body, headers=bearer(staff))
    assert response.status_code == 422
    assert response.get_json()["code"] == "VALIDATION_ERROR"


# ---------------------------------------------------------------- the app's hold and deposit


def test_an_app_booking_in_primetime_is_pending_and_a_rejection_refunds_the_whole_deposit(app, make_user):
    restaurant = app_restaurant(refund_policy=[])  # by policy no refund: a rejection still refunds it all
    day = future_day(restaurant)
    add_window(restaurant, weekday=day.weekday())
    guest = make_user()
    staff = make_user(Role.STAFF, restaurant_id=restaurant.id)
    now = datetime.now(UTC)
    hold = holds.create_hold(
        actor=guest, user_id=None, restaurant_id=restaurant.id, service_date=day, wall_time=time(19),
        party_size=2, now=now,
    ).hold  # fmt: skip
    confirmation = checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
    )
    reservation = confirmation.reservation
    assert reservation.status == "pending"
    assert "requested" in confirmation.message
    assert claims_of(reservation.id) == 1
    assert confirmation_messages(reservation.id) == 0
    assert money_state(hold.id)["captured_cents"] == 5000

    approvals.decide(
        actor=staff, reservation_id=reservation.id, action="reject", rejection_reason="Closed for a wedding", now=now
    )
    state = money_state(hold.id)
    assert state["reservation"].status == "rejected"
    assert state["reservation"].refund_cents == 5000
    assert state["refunded_cents"] == 5000
    assert claims_of(reservation.id) == 0
    # Settling again (the reconciler) refunds nothing more.
    checkout.reconcile_payments(now + timedelta(hours=1))
    assert money_state(hold.id)["refunded_cents"] == 5000


def test_an_approved_app_booking_keeps_its_deposit(app, make_user):
    restaurant = app_restaurant()
    day = future_day(restaurant)
    add_window(restaurant, weekday=day.weekday())
    guest, staff = make_user(), make_user(Role.STAFF, restaurant_id=restaurant.id)
    now = datetime.now(UTC)
    hold = holds.create_hold(
        actor=guest, user_id=None, restaurant_id=restaurant.id, service_date=day, wall_time=time(20),
        party_size=2, now=now,
    ).hold  # fmt: skip
    checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
    )
    reservation = approvals.decide(
        actor=staff, reservation_id=money_state(hold.id)["reservation"].id, action="approve", rejection_reason=None,
        now=now,
    )  # fmt: skip
    assert reservation.status == "confirmed"
    state = money_state(hold.id)
    assert (state["captured_cents"], state["refunded_cents"]) == (5000, 0)


# ---------------------------------------------------------------- expiry


def test_undecided_requests_expire_and_free_their_tables_once(client, app, cafe):
    add_window(cafe)
    stale = website_booking(client, 19).get_json()["reservationId"]
    fresh = website_booking(client, 19).get_json()["reservationId"]
    hours = app.config["SETTINGS"].approval_timeout_hours
    now = datetime.now(UTC)
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == uuid.UUID(stale))
        .values(created_at=now - timedelta(hours=hours, seconds=1))
    )
    settle()
    assert approvals.expire_pending_approvals(now) == 1
    assert approvals.expire_pending_approvals(now) == 0  # idempotent
    db.session.expire_all()
    assert db.session.get(Reservation, uuid.UUID(stale)).status == "rejected"
    assert db.session.get(Reservation, uuid.UUID(fresh)).status == "pending"
    assert claims_of(stale) == 0 and claims_of(fresh) == 1
    last = events_of(stale)[-1]
    assert last == ("reject", "pending", "rejected", "system")
    # A request whose time has come expires whatever its age.
    assert approvals.expire_pending_approvals(local(DAY, 19, 1)) == 1


def test_an_expired_app_request_gets_its_deposit_back(app, make_user):
    restaurant = app_restaurant()
    day = future_day(restaurant)
    add_window(restaurant, weekday=day.weekday())
    guest = make_user()
    now = datetime.now(UTC)
    hold = holds.create_hold(
        actor=guest, user_id=None, restaurant_id=restaurant.id, service_date=day, wall_time=time(19),
        party_size=2, now=now,
    ).hold  # fmt: skip
    checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
    )
    later = now + timedelta(hours=app.config["SETTINGS"].approval_timeout_hours, minutes=1)
    assert approvals.expire_pending_approvals(later) == 1
    state = money_state(hold.id)
    assert state["reservation"].status == "rejected"
    assert state["refunded_cents"] == state["captured_cents"] == 5000


def test_the_expiry_job_is_registered_with_the_worker(app):
    from api.outbox.service import periodic_jobs

    assert "expire-pending-approvals" in {job.name for job in periodic_jobs()}


def _statements_to_book(cafe, wall_hour: int) -> int:
    from sqlalchemy import event

    from api.booking import service
    from tests.booking.helpers import booking

    count = 0

    def counted(*args, **kwargs):
        nonlocal count
        count += 1

    engine = db.engine
    service.default_restaurant()  # cached per process: not part of a booking's cost
    event.listen(engine, "before_cursor_execute", counted)
    try:
        service.create_reservation(restaurant=cafe, booking=booking(local(DAY, wall_hour)), now=datetime.now(UTC))
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_the_primetime_decision_adds_no_round_trip_to_a_confirmed_website_booking(app, cafe):
    without_windows = _statements_to_book(cafe, 18)
    add_window(cafe)
    outside = _statements_to_book(cafe, 18)
    inside = _statements_to_book(cafe, 19)
    # One statement books (lock, purge, decision, guest, booking, claims, message); the test harness adds
    # its savepoint's two. Windows that do not apply cost nothing.
    assert outside == without_windows == 3
    assert inside == outside + 2  # only a pending booking writes its audit row (and the event's outbox message)


def test_a_refund_the_gateway_missed_on_rejection_is_finished_by_the_reconciler(app, make_user, now, monkeypatch):
    from api.payments import service as payments_service
    from tests.booking.test_checkout import WEDNESDAY, gateway_down

    restaurant = app_restaurant()
    add_window(restaurant, weekday=WEDNESDAY.weekday())
    guest, staff = make_user(), make_user(Role.STAFF, restaurant_id=restaurant.id)
    hold = holds.create_hold(
        actor=guest, user_id=None, restaurant_id=restaurant.id, service_date=WEDNESDAY, wall_time=time(19),
        party_size=2, now=now,
    ).hold  # fmt: skip
    reservation = checkout.confirm_reservation(
        actor=guest, hold_id=hold.id, user_id=None, payment_method="pm_card_visa", special_requests="", now=now
    ).reservation
    assert reservation.status == "pending"

    real_refund = payments_service.refund_payment
    monkeypatch.setattr(payments_service, "refund_payment", gateway_down)
    rejected = approvals.decide(
        actor=staff, reservation_id=reservation.id, action="reject", rejection_reason="Full", now=now
    )
    assert rejected.status == "rejected"  # the rejection stands; the refund is owed
    assert money_state(hold.id)["refunded_cents"] == 0

    monkeypatch.setattr(payments_service, "refund_payment", real_refund)
    assert checkout.reconcile_payments(now + timedelta(seconds=30)).total() == 0  # within the grace: wait
    checkout.reconcile_payments(now + timedelta(minutes=5))
    state = money_state(hold.id)
    assert state["payments"] == ["refunded"] and state["refunded_cents"] == 5000
    assert checkout.reconcile_payments(now + timedelta(minutes=10)).total() == 0  # settled: nothing left
