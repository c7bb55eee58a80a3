"""Reservation emails go through the outbox to a real SMTP server, as HTML with a text part."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from api import mail
from api.booking import allocation, lifecycle, notifications, reservations
from api.booking.models import Customer, Reservation, ReservationSource
from api.booking.slots import slot_from_local, zone_of
from api.db import atomic
from api.extensions import db
from api.outbox import service, worker
from api.outbox.models import OutboxMessage
from api.restaurants.demo import ensure_cafe_fausse
from tests.support.smtp import smtp_server


@pytest.fixture
def mail_app(make_app, committing_database):
    with smtp_server() as (inbox, port):
        app = make_app(
            database_url=committing_database,
            smtp_host="127.0.0.1",
            smtp_port=port,
            admin_notify_email="host@cafefausse.example",
        )
        yield app, inbox
        with app.app_context():
            db.engine.dispose()


def book_and_enqueue(kind: str) -> str:
    with atomic():
        restaurant, _ = ensure_cafe_fausse()
        customer = Customer(email="ada@example.com", name="Ada", phone="")
        db.session.add(customer)
        db.session.flush()
        slot = slot_from_local(date(2026, 12, 4), time(19, 0), tz=zone_of(restaurant), slot_minutes=30)
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
        )
        service.enqueue(kind, reservation_id=reservation.id)
    return reservation.confirmation_code


def test_confirmation_reaches_guest_and_restaurant_once(mail_app):
    app, inbox = mail_app
    with app.app_context():
        code = book_and_enqueue(notifications.RESERVATION_CONFIRMED)
        assert worker.run_once() == 3  # the confirmation queues two emails, each then sent on its own
        assert worker.run_once() == 0

    [guest_mail] = inbox.to("ada@example.com")
    assert code in guest_mail["Subject"]
    assert guest_mail.is_multipart()
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in guest_mail.walk()
        if not part.is_multipart()
    }
    assert code in parts["text/plain"] and "19:00" in parts["text/plain"]
    assert "<strong>" in parts["text/html"]
    [host_mail] = inbox.to("host@cafefausse.example")
    assert "Ada" in host_mail.get_payload()[0].get_payload(decode=True).decode()


def test_an_email_that_fails_is_retried_alone_and_the_others_are_not_resent(mail_app):
    app, inbox = mail_app

    async def refuse_the_restaurant(server, session, envelope, address, rcpt_options):
        if address.startswith("host@"):
            return "451 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    inbox.handle_RCPT = refuse_the_restaurant
    with app.app_context():
        book_and_enqueue(notifications.RESERVATION_CONFIRMED)
        assert worker.run_once() == 3
        del inbox.handle_RCPT
        assert worker.run_once(now=datetime.now(UTC) + timedelta(minutes=1)) == 1, "only the failed email is due"

    assert len(inbox.to("ada@example.com")) == 1
    assert len(inbox.to("host@cafefausse.example")) == 1


def test_a_confirmation_handled_twice_still_queues_each_email_once(mail_app):
    # A worker that crashed after fanning out, before marking the confirmation done: its lease
    # expires and another worker runs the same handler again.
    app, inbox = mail_app
    with app.app_context():
        book_and_enqueue(notifications.RESERVATION_CONFIRMED)
        payload = db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.kind == "reservation.confirmed"))
        notifications.send_confirmation(payload)
        notifications.send_confirmation(payload)
        assert db.session.scalar(select(func.count()).where(OutboxMessage.kind == mail.EMAIL_SEND)) == 2
        worker.run_once()
    assert len(inbox.to("ada@example.com")) == 1
    assert len(inbox.to("host@cafefausse.example")) == 1


def test_cancellation_email(mail_app):
    app, inbox = mail_app
    with app.app_context():
        code = book_and_enqueue(notifications.RESERVATION_CONFIRMED)
        reservation = db.session.query(Reservation).one()
        with atomic():
            lifecycle.apply(reservation, lifecycle.Action.CANCEL, actor=lifecycle.SYSTEM, now=reservation.starts_at)
        worker.run_once()
    [mail] = [m for m in inbox.to("ada@example.com") if "cancelled" in m["Subject"].lower()]
    assert code in mail["Subject"]


def test_finished_seated_reservations_are_completed_by_the_periodic_job(mail_app):
    from api.booking.lifecycle import complete_finished_reservations
    from api.booking.models import ReservationStatus

    app, _ = mail_app
    with app.app_context():
        book_and_enqueue(notifications.RESERVATION_CONFIRMED)
        reservation = db.session.query(Reservation).one()
        with atomic():
            lifecycle.apply(reservation, lifecycle.Action.SEAT, actor=lifecycle.SYSTEM, now=reservation.starts_at)
        assert complete_finished_reservations(reservation.starts_at) == 0
        assert complete_finished_reservations(reservation.ends_at) == 1
        assert complete_finished_reservations(reservation.ends_at) == 0
        db.session.expire_all()
        assert db.session.get(Reservation, reservation.id).status == ReservationStatus.COMPLETED
