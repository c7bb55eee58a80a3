"""Emails about reservations, written by the outbox worker (never inside a request).

Message kinds:
- `reservation.confirmed` {reservation_id}: confirmation to the guest, notice to the restaurant.
- `reservation.event` {reservation_id, event_id}: queued by `lifecycle.record` with every audit
  row; `_EVENT_EMAILS` says which events email whom (a cancellation: the guest, with any refund).

Each handler renders its emails and queues one `email.send` message per email in one transaction
(api/mail.py), so each email is sent, and retried, on its own: SMTP failing between the guest's
email and the restaurant's never sends the guest's twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from api.accounts.models import User
from api.booking import lifecycle
from api.booking.models import Customer, Reservation, ReservationEvent
from api.db import atomic
from api.extensions import db
from api.mail import enqueue_email
from api.outbox import service as outbox_service

RESERVATION_CONFIRMED = "reservation.confirmed"


def _guest(reservation: Reservation) -> tuple[str, str]:
    """(email, name) of whoever booked: the account's, else the website customer's."""
    if reservation.user_id is not None:
        user = db.session.get(User, reservation.user_id)
        if user is not None:
            return user.email, user.name
    customer = db.session.get(Customer, reservation.customer_id) if reservation.customer_id else None
    return (customer.email, customer.name) if customer else ("", "")


def _context(reservation: Reservation) -> dict[str, Any]:
    restaurant = reservation.restaurant
    local = reservation.starts_at.astimezone(ZoneInfo(restaurant.timezone))
    email, name = _guest(reservation)
    return {
        "reservation": reservation,
        "restaurant": restaurant,
        "guest_name": name or "guest",
        "guest_email": email,
        "local_date": local.strftime("%A %d %B %Y"),
        "local_time": local.strftime("%H:%M"),
        "deposit": f"{reservation.deposit_cents / 100:.2f}",
        "refund": f"{reservation.refund_cents / 100:.2f}",
    }


def _send(template: str, *, to: str, subject: str, context: dict[str, Any], key: str) -> None:
    if not to:
        return
    enqueue_email(
        to=to,
        subject=subject,
        text=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        message_key=key,
    )


def send_confirmation(payload: dict[str, Any]) -> None:
    with atomic():
        reservation = db.session.get(Reservation, uuid.UUID(payload["reservation_id"]))
        if reservation is not None:
            _queue_confirmation(reservation)


def _queue_confirmation(reservation: Reservation) -> None:
    context = _context(reservation)
    name = reservation.restaurant.name
    _send(
        "reservation_confirmed",
        to=context["guest_email"],
        context=context,
        subject=f"Reservation confirmed - {name} ({reservation.confirmation_code})",
        key=f"confirmed:{reservation.id}",
    )
    admin = current_app.config["SETTINGS"].admin_notify_email or reservation.restaurant.email
    _send(
        "new_reservation_admin",
        to=admin,
        context=context,
        subject=f"New reservation {reservation.confirmation_code}: {reservation.party_size} at {context['local_time']}",
        key=f"admin-new:{reservation.id}",
    )


def send_event_emails(payload: dict[str, Any]) -> None:
    with atomic():
        event = db.session.get(ReservationEvent, int(payload["event_id"]))
        queue = _EVENT_EMAILS.get(event.action) if event is not None else None
        if queue is not None:
            queue(event.reservation, event)


def _queue_cancellation(reservation: Reservation, event: ReservationEvent) -> None:
    context = _context(reservation)
    _send(
        "reservation_cancelled",
        to=context["guest_email"],
        context=context,
        subject=f"Reservation cancelled - {reservation.restaurant.name} ({reservation.confirmation_code})",
        key=f"cancelled:{reservation.id}",
    )


# Audit action -> what it emails. Actions not listed send nothing.
_EVENT_EMAILS: dict[str, Callable[[Reservation, ReservationEvent], None]] = {
    "cancel": _queue_cancellation,
}


def register() -> None:
    outbox_service.register_handler(RESERVATION_CONFIRMED, send_confirmation)
    outbox_service.register_handler(lifecycle.RESERVATION_EVENT, send_event_emails)
