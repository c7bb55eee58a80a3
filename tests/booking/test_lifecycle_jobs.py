"""The worker's lifecycle jobs with a frozen clock: completion, no-shows and reminders, each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.booking import lifecycle
from api.booking.models import Reservation, ReservationStatus
from api.extensions import db
from api.outbox.models import OutboxMessage
from tests.booking.helpers import build_restaurant
from tests.booking.test_lifecycle import claims_of, events_of, place

S = ReservationStatus
MIN = timedelta(minutes=1)
H = timedelta(hours=1)
# A frozen "now" a few days ahead, on the minute: bookings made today were made long before it.
FROZEN = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)


@pytest.fixture
def bistro(app):
    return build_restaurant(tables=[(4, 2)])


def status_of(reservation) -> str:
    db.session.expire_all()
    return db.session.get(Reservation, reservation.id).status


def reminders() -> list[str]:
    return [
        payload["reservation_id"]
        for payload in db.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == lifecycle.RESERVATION_REMINDER)
        )
    ]


def test_a_confirmed_party_not_seated_15_minutes_after_its_start_is_a_no_show(bistro):
    late = place(bistro, status=S.CONFIRMED, starts_at=FROZEN - 15 * MIN)
    seated = place(bistro, status=S.SEATED, starts_at=FROZEN - 30 * MIN)
    pending = place(bistro, status=S.PENDING, starts_at=FROZEN - 30 * MIN)

    assert lifecycle.mark_no_shows(FROZEN - MIN) == 0, "14 minutes late is not yet a no-show"
    assert lifecycle.mark_no_shows(FROZEN) == 1
    assert lifecycle.mark_no_shows(FROZEN + 5 * MIN) == 0, "marked once"

    assert (status_of(late), status_of(seated), status_of(pending)) == ("no_show", "seated", "pending")
    [event] = events_of(late.id)
    assert (event.action, event.actor_role, event.actor_id, event.at) == ("no_show", "system", None, FROZEN)
    assert claims_of(late.id) == [], "a no-show frees the table at once"


def test_seated_parties_are_completed_when_their_stay_ends(bistro):
    seated = place(bistro, status=S.SEATED, starts_at=FROZEN - 90 * MIN, minutes=90)
    staying = place(bistro, status=S.SEATED, starts_at=FROZEN - 60 * MIN, minutes=90)
    assert lifecycle.complete_finished_reservations(FROZEN - MIN) == 0
    assert lifecycle.complete_finished_reservations(FROZEN) == 1
    assert lifecycle.complete_finished_reservations(FROZEN) == 0
    assert (status_of(seated), status_of(staying)) == ("completed", "seated")
    [_, event] = events_of(seated.id)
    assert (event.action, event.actor_role, event.at) == ("complete", "system", FROZEN)


def test_reminders_are_queued_once_the_given_hours_before_the_start(bistro):
    due = place(bistro, status=S.CONFIRMED, starts_at=FROZEN + 24 * H)
    later = place(bistro, status=S.CONFIRMED, starts_at=FROZEN + 24 * H + MIN)
    pending = place(bistro, status=S.PENDING, starts_at=FROZEN + 2 * H)
    cancelled = place(bistro, status=S.CANCELLED, starts_at=FROZEN + 2 * H)
    started = place(bistro, status=S.CONFIRMED, starts_at=FROZEN - MIN)

    assert lifecycle.queue_reminders(FROZEN - MIN) == 0
    assert lifecycle.queue_reminders(FROZEN) == 1
    assert lifecycle.queue_reminders(FROZEN) == 0, "each reminder once"
    assert reminders() == [str(due.id)]
    db.session.expire_all()
    assert db.session.get(Reservation, due.id).reminder_sent_at == FROZEN
    assert lifecycle.queue_reminders(FROZEN + MIN) == 1
    assert sorted(reminders()) == sorted([str(due.id), str(later.id)])
    assert all(db.session.get(Reservation, r.id).reminder_sent_at is None for r in (pending, cancelled, started))


def test_a_booking_made_inside_the_reminder_window_gets_no_reminder(bistro):
    soon = place(bistro, status=S.CONFIRMED, starts_in=10 * H)  # booked now, 10 hours ahead
    assert lifecycle.queue_reminders(datetime.now(UTC)) == 0
    assert str(soon.id) not in reminders()


@pytest.mark.committing
def test_the_no_show_job_skips_a_party_being_seated_and_then_sees_it_seated(make_app, committing_database):
    from sqlalchemy import create_engine, text

    from api.accounts.models import Role, User

    live = make_app(database_url=committing_database)
    with live.app_context():
        restaurant = build_restaurant(tables=[(1, 2)])
        late = place(restaurant, status=S.CONFIRMED, starts_in=-20 * MIN)
        staff = User(email="floor@example.com", password_hash="x", role=Role.STAFF, restaurant_id=restaurant.id)
        db.session.add(staff)
        db.session.commit()
        other = create_engine(committing_database)
        try:
            with other.connect() as conn, conn.begin():
                # Staff are seating the party right now: the row is locked by their transaction.
                conn.execute(text("SELECT 1 FROM reservations WHERE id = :id FOR UPDATE"), {"id": late.id})
                assert lifecycle.mark_no_shows(datetime.now(UTC)) == 0, "skipped, not waited for"
        finally:
            other.dispose()
        lifecycle.seat_reservation(actor=staff, reservation_id=late.id, now=datetime.now(UTC))
        assert lifecycle.mark_no_shows(datetime.now(UTC)) == 0, "seated meanwhile: never a no-show"
        assert status_of(late) == "seated"
        assert [e.action for e in events_of(late.id)] == ["seat"]
        db.session.remove()
        db.engine.dispose()
