"""Every email about a booking, through the outbox and a real SMTP server (aiosmtpd).

The guest hears of every change (requested, confirmed, approved, rejected, changed, cancelled,
no-show, reminder), with an `.ics` for confirmed bookings and a working manage link; the restaurant
hears of new, changed and cancelled bookings. Events other engineers' routes produce are made here
directly with `lifecycle.apply` / `lifecycle.record`, as those routes do.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from api.accounts.models import Role
from api.booking import allocation, lifecycle, notifications, reservations
from api.booking.models import Customer, ManageToken, Reservation, ReservationSource, ReservationStatus
from api.booking.slots import slot_from_local, zone_of
from api.db import atomic
from api.extensions import db
from api.outbox import service, worker
from api.outbox.models import OutboxMessage
from api.restaurants.demo import ensure_cafe_fausse
from tests.booking.helpers import upcoming_service_day
from tests.support.smtp import smtp_server

GUEST = "ada@example.com"
HOST = "host@cafefausse.example"
BASE = "https://book.example"
NEW_YORK = ZoneInfo("America/New_York")
STAFF = lifecycle.Actor("staff", None)
GUEST_ACTOR = lifecycle.Actor("guest", None)


@pytest.fixture
def mail_app(make_app, committing_database):
    with smtp_server() as (inbox, port):
        app = make_app(
            database_url=committing_database,
            smtp_host="127.0.0.1",
            smtp_port=port,
            admin_notify_email=HOST,
            public_base_url=BASE,
        )
        with app.app_context():
            yield app, inbox
            db.session.remove()
            db.engine.dispose()


# --- helpers ------------------------------------------------------------------------------------


def book(*, status: ReservationStatus = ReservationStatus.CONFIRMED, confirmations: bool = True) -> Reservation:
    """A website booking at Café Fausse at 19:00 two weeks ahead, its confirmation queued."""
    with atomic():
        restaurant, _ = ensure_cafe_fausse()
        restaurant.send_confirmation_emails = confirmations
        customer = db.session.scalar(select(Customer).where(Customer.email == GUEST))
        if customer is None:
            customer = Customer(email=GUEST, name="Ada", phone="")
            db.session.add(customer)
            db.session.flush()
        slot = slot_from_local(upcoming_service_day(), time(19, 0), tz=zone_of(restaurant), slot_minutes=30)
        stay = allocation.Stay.for_party(restaurant, slot, 2)
        table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=2, now=datetime.now(UTC))
        reservation = reservations.insert_reservation(
            restaurant=restaurant,
            table=table,
            stay=stay,
            service_date=slot.service_date,
            party_size=2,
            source=ReservationSource.WEB,
            customer_id=customer.id,
            status=status,
        )
        service.enqueue(notifications.RESERVATION_CONFIRMED, reservation_id=reservation.id)
    return snapshot(reservation.id)


def snapshot(reservation_id: uuid.UUID) -> Reservation:
    """The reservation's columns as they are now, detached (the worker closes the session between messages)."""
    reservation = db.session.get(Reservation, reservation_id, populate_existing=True)
    db.session.expunge(reservation)
    return reservation


def drain() -> int:
    handled = 0
    while count := worker.run_once():
        handled += count
    return handled


def move(
    reservation: Reservation, action: lifecycle.Action, *, actor: lifecycle.Actor = lifecycle.SYSTEM, reason: str = ""
) -> None:
    with atomic():
        row = db.session.get(Reservation, reservation.id, with_for_update=True, populate_existing=True)
        lifecycle.apply(row, action, actor=actor, now=datetime.now(UTC), reason=reason)


def change_party(reservation: Reservation, *, to: int, actor: lifecycle.Actor) -> None:
    """A change as engineer C's `change_reservation` records it: the row changed, then one `change` audit row."""
    with atomic():
        row = db.session.get(Reservation, reservation.id, with_for_update=True, populate_existing=True)
        before = row.party_size
        row.party_size = to
        lifecycle.record(
            row, action="change", actor=actor, now=datetime.now(UTC), from_status=row.status,
            details={"party_size": [before, to]},
        )  # fmt: skip


def only(messages: list[Message], subject_part: str) -> Message:
    [message] = [m for m in messages if subject_part.lower() in m["Subject"].lower()]
    return message


def text_of(message: Message, subtype: str = "plain") -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.get_filename():
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no text/{subtype} part")


def calendar_of(message: Message) -> Calendar | None:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    [part] = parts
    assert part.get_filename() == "reservation.ics"
    calendar = Calendar.from_ical(part.get_payload(decode=True).decode())
    assert part.get_param("method") == str(calendar["METHOD"])
    return calendar


def manage_token(message: Message) -> str | None:
    found = re.search(rf"{re.escape(BASE)}/manage/([A-Za-z0-9_-]+)", text_of(message))
    if found:
        assert f"{BASE}/manage/{found.group(1)}" in text_of(message, "html")
    return found.group(1) if found else None


def assert_event_matches(calendar: Calendar, reservation: Reservation, *, sequence: int, method: str) -> None:
    """The right start, end, time zone, summary and identity, parsed back by `icalendar`."""
    assert str(calendar["METHOD"]) == method
    [event] = calendar.walk("VEVENT")
    local_start = datetime.combine(reservation.service_date, time(19, 0), tzinfo=NEW_YORK)
    assert event.start == local_start and event.start.utcoffset() == local_start.utcoffset()
    assert event.end == reservation.ends_at
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTEND"].params["TZID"] == "America/New_York"
    assert event.start.tzinfo.key == "America/New_York"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(event["SUMMARY"]) == f"Table for {reservation.party_size} at Café Fausse"
    assert "Café Fausse" in str(event["LOCATION"])
    assert str(event["UID"]) == f"{reservation.id}@seatkeeper"
    assert int(event["SEQUENCE"]) == sequence


# --- the guest -----------------------------------------------------------------------------------


def test_confirmation_carries_the_ics_and_a_manage_link_that_opens_the_booking(mail_app):
    app, inbox = mail_app
    reservation = book()
    drain()

    mail = only(inbox.to(GUEST), "confirmed")
    assert reservation.confirmation_code in mail["Subject"]
    calendar = calendar_of(mail)
    assert calendar is not None
    assert_event_matches(calendar, reservation, sequence=0, method="PUBLISH")
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"
    token = manage_token(mail)
    assert token is not None
    opened = app.test_client().get(f"/api/manage/{token}")
    assert opened.status_code == 200
    assert opened.json["confirmationCode"] == reservation.confirmation_code
    assert str(calendar.walk("VEVENT")[0]["URL"]) == f"{BASE}/manage/{token}"


def test_a_pending_booking_is_told_it_is_requested_and_the_restaurant_that_it_awaits_approval(mail_app):
    app, inbox = mail_app
    reservation = book(status=ReservationStatus.PENDING)
    drain()

    [mail] = inbox.to(GUEST)
    assert "request received" in mail["Subject"].lower()
    assert calendar_of(mail) is None  # not in anyone's calendar until the restaurant confirms
    assert "approval" in text_of(mail)
    opened = app.test_client().get(f"/api/manage/{manage_token(mail)}")
    assert opened.json["status"] == "pending"
    [notice] = inbox.to(HOST)
    assert "awaiting approval" in notice["Subject"]
    assert reservation.confirmation_code in notice["Subject"]


def test_an_approved_request_is_confirmed_with_the_ics_one_sequence_up(mail_app):
    _, inbox = mail_app
    reservation = book(status=ReservationStatus.PENDING)
    drain()
    move(reservation, lifecycle.Action.APPROVE, actor=STAFF)
    drain()

    mail = only(inbox.to(GUEST), "confirmed")
    assert_event_matches(calendar_of(mail), reservation, sequence=1, method="PUBLISH")
    assert manage_token(mail) is not None
    assert "confirmed your reservation" in text_of(mail)


def test_a_rejected_request_says_why_and_carries_no_link(mail_app):
    app, inbox = mail_app
    reservation = book(status=ReservationStatus.PENDING)
    drain()
    link = manage_token(inbox.to(GUEST)[0])
    move(reservation, lifecycle.Action.REJECT, actor=STAFF, reason="A private party that evening")
    drain()

    mail = only(inbox.to(GUEST), "declined")
    assert "A private party that evening" in text_of(mail)
    assert "A private party that evening" in text_of(mail, "html")
    assert manage_token(mail) is None
    assert calendar_of(mail) is None
    assert app.test_client().get(f"/api/manage/{link}").status_code == 410  # the earlier link is spent


def test_a_change_tells_the_guest_with_an_updated_ics_and_the_restaurant(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    change_party(reservation, to=4, actor=GUEST_ACTOR)
    drain()

    mail = only(inbox.to(GUEST), "changed")
    changed = snapshot(reservation.id)
    assert_event_matches(calendar_of(mail), changed, sequence=1, method="PUBLISH")
    assert "party size" in text_of(mail) and "Guests: 4" in text_of(mail)
    assert manage_token(mail) is not None
    notice = only(inbox.to(HOST), "changed")
    assert reservation.confirmation_code in notice["Subject"]


def test_a_change_by_the_restaurant_emails_the_guest_only(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    change_party(reservation, to=3, actor=STAFF)
    drain()

    assert only(inbox.to(GUEST), "changed")
    assert [m["Subject"] for m in inbox.to(HOST) if "changed" in m["Subject"].lower()] == []


def test_a_trade_tells_the_restaurant_and_leaves_the_guest_to_the_trade_email(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    before = len(inbox.to(GUEST))
    with atomic():  # as api/trades records the swap of a booking's time and table
        row = db.session.get(Reservation, reservation.id, with_for_update=True)
        lifecycle.record(
            row, action="trade", actor=GUEST_ACTOR, now=datetime.now(UTC), from_status=row.status,
            details={"startsAt": ["a", "b"], "tableNumber": [1, 2], "tradeId": "t"},
        )  # fmt: skip
    drain()

    notice = only(inbox.to(HOST), "changed")
    assert "time, table" in text_of(notice)
    assert len(inbox.to(GUEST)) == before


def test_a_guest_cancellation_takes_the_booking_out_of_the_calendar_and_tells_the_restaurant(mail_app):
    app, inbox = mail_app
    reservation = book()
    drain()
    link = manage_token(only(inbox.to(GUEST), "confirmed"))

    cancelled = app.test_client().delete(f"/api/manage/{link}")
    assert cancelled.status_code == 200
    drain()

    mail = only(inbox.to(GUEST), "cancelled")
    calendar = calendar_of(mail)
    assert_event_matches(calendar, reservation, sequence=1, method="CANCEL")
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert manage_token(mail) is None
    notice = only(inbox.to(HOST), "cancelled")
    assert reservation.confirmation_code in notice["Subject"]


def test_a_cancellation_by_the_restaurant_gives_the_guest_its_reason_and_does_not_email_the_restaurant(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    move(reservation, lifecycle.Action.CANCEL, actor=STAFF, reason="The kitchen is closed for repairs")
    drain()

    mail = only(inbox.to(GUEST), "cancelled")
    assert "The kitchen is closed for repairs" in text_of(mail)
    assert [m for m in inbox.to(HOST) if "cancelled" in m["Subject"].lower()] == []


def test_a_cancelled_request_has_no_calendar_to_cancel(mail_app):
    _, inbox = mail_app
    reservation = book(status=ReservationStatus.PENDING)
    drain()
    move(reservation, lifecycle.Action.CANCEL, actor=GUEST_ACTOR)
    drain()

    assert calendar_of(only(inbox.to(GUEST), "cancelled")) is None


def test_a_no_show_is_told(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    move(reservation, lifecycle.Action.NO_SHOW)
    drain()

    mail = only(inbox.to(GUEST), "missed you")
    assert reservation.confirmation_code in mail["Subject"]
    assert manage_token(mail) is None


def test_seating_and_completing_email_nobody(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    before = len(inbox.messages)
    move(reservation, lifecycle.Action.SEAT)
    move(reservation, lifecycle.Action.COMPLETE)
    drain()

    assert len(inbox.messages) == before


def test_the_reminder_carries_the_ics_and_a_manage_link_and_is_sent_once(mail_app):
    app, inbox = mail_app
    reservation = book()
    drain()
    with atomic():  # as the reminder job would, twice (a retried job run)
        service.enqueue(notifications.RESERVATION_REMINDER, reservation_id=reservation.id)
        service.enqueue(notifications.RESERVATION_REMINDER, reservation_id=reservation.id)
    drain()

    [mail] = [m for m in inbox.to(GUEST) if m["Subject"].startswith("Reminder")]
    assert reservation.confirmation_code in mail["Subject"] and "19:00" in mail["Subject"]
    assert_event_matches(calendar_of(mail), reservation, sequence=0, method="PUBLISH")
    assert app.test_client().get(f"/api/manage/{manage_token(mail)}").status_code == 200


def test_the_reminder_job_and_the_worker_deliver_one_reminder(mail_app):
    _, inbox = mail_app
    reservation = book()
    drain()
    two_hours_before = reservation.starts_at - timedelta(hours=2)

    assert lifecycle.queue_reminders(two_hours_before) == 1
    assert lifecycle.queue_reminders(two_hours_before) == 0
    drain()

    [mail] = [m for m in inbox.to(GUEST) if m["Subject"].startswith("Reminder")]
    assert_event_matches(calendar_of(mail), reservation, sequence=0, method="PUBLISH")


def test_no_reminder_for_a_booking_cancelled_since(mail_app):
    _, inbox = mail_app
    reservation = book()
    move(reservation, lifecycle.Action.CANCEL, actor=GUEST_ACTOR)
    with atomic():
        service.enqueue(notifications.RESERVATION_REMINDER, reservation_id=reservation.id)
    drain()

    assert [m for m in inbox.to(GUEST) if m["Subject"].startswith("Reminder")] == []


# --- the setting, re-runs, the test command --------------------------------------------------------


def test_a_restaurant_can_turn_guest_confirmations_off(mail_app):
    _, inbox = mail_app
    book(confirmations=False)
    drain()

    assert inbox.to(GUEST) == []
    assert len(inbox.to(HOST)) == 1  # the restaurant still hears of the booking


def test_a_confirmation_handled_twice_mints_one_link_and_sends_one_email(mail_app):
    _, inbox = mail_app
    reservation = book()
    payload = db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.kind == "reservation.confirmed"))
    notifications.send_confirmation(payload)
    notifications.send_confirmation(payload)  # a worker that died after fanning out, retried
    drain()

    assert len(inbox.to(GUEST)) == 1
    tokens = select(func.count()).where(ManageToken.reservation_id == reservation.id)
    assert db.session.scalar(tokens) == 1


def test_send_test_email_reaches_the_smtp_server(mail_app):
    app, inbox = mail_app

    result = app.test_cli_runner().invoke(args=["send-test-email", "ops@example.com"])

    assert result.exit_code == 0, result.output
    [mail] = inbox.to("ops@example.com")
    assert mail["Subject"] == "Seatkeeper test email"


def test_send_test_email_reports_a_server_that_does_not_answer(make_app):
    from tests.support.live_server import free_port

    app = make_app(smtp_host="127.0.0.1", smtp_port=free_port())

    with app.app_context():  # as `flask --app wsgi send-test-email` runs it
        result = app.test_cli_runner().invoke(args=["send-test-email", "ops@example.com"])

    assert result.exit_code == 1
    assert "could not send through 127.0.0.1" in result.output


def test_staff_turn_guest_confirmations_off_through_the_restaurant_settings(client, make_user, auth_headers):
    restaurant, _ = ensure_cafe_fausse()
    staff = make_user(Role.STAFF, restaurant_id=restaurant.id)

    answer = client.patch(
        f"/api/restaurants/{restaurant.id}",
        json={"settings": {"sendConfirmationEmails": False}},
        headers=auth_headers(staff),
    )

    assert answer.status_code == 200, answer.json
    assert answer.json["settings"]["sendConfirmationEmails"] is False
    db.session.expire_all()
    assert db.session.get(type(restaurant), restaurant.id).send_confirmation_emails is False
    refused = client.patch(
        f"/api/restaurants/{restaurant.id}",
        json={"settings": {"sendConfirmationEmails": "sometimes"}},
        headers=auth_headers(staff),
    )
    assert refused.status_code == 422


def test_what_a_change_touched_is_named_in_words():
    from api.booking.models import ReservationEvent

    event = ReservationEvent(details={"partySize": [2, 4], "starts_at": ["a", "b"], "specialRequests": ["", "x"]})
    assert notifications._changed_words(event) == ["party size", "time", "special requests"]


def test_every_emailed_action_is_known():
    assert set(notifications._EVENT_EMAILS) == {"approve", "reject", "change", "trade", "cancel", "no_show"}
