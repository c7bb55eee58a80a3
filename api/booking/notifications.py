"""Emails about reservations, written by the outbox worker (never inside a request).

Message kinds and what they email (docs/notifications.md has the table):
- `reservation.confirmed` {reservation_id}: queued when a booking is made. The guest gets
  "requested" (a pending primetime booking) or "confirmed" (with the `.ics`), unless the restaurant
  turned `send_confirmation_emails` off; the restaurant gets "new booking".
- `reservation.event` {reservation_id, event_id}: queued by `lifecycle.record` with every audit
  row; `_EVENT_EMAILS`, keyed by the audit action, says which events email whom (approve, reject,
  change, cancel, no_show; seat and complete email nobody).
- `reservation.reminder` {reservation_id}: queued by the reminder job; a confirmed booking's
  reminder with its `.ics`.

Guest emails about a live booking carry its manage link: a token minted here, in the same
transaction as the email (api/booking/manage.py says why). Each email has a stable key, so a
handler that runs again (a worker died after fanning out) queues and mints nothing new.

Each handler renders its emails and queues one `email.send` message per email in one transaction
(api/mail.py), so each email is sent, and retried, on its own: SMTP failing between the guest's
email and the restaurant's never sends the guest's twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from api.accounts.models import User
from api.booking import invites, lifecycle, manage
from api.booking.models import Customer, Reservation, ReservationEvent, ReservationStatus
from api.config import Settings
from api.db import atomic
from api.extensions import db
from api.mail import email_queued, enqueue_email
from api.outbox import service as outbox_service

RESERVATION_CONFIRMED = "reservation.confirmed"
RESERVATION_REMINDER = lifecycle.RESERVATION_REMINDER  # queued once per booking by lifecycle.queue_reminders

# Actors who are the restaurant itself: it is not told about what it did.
_RESTAURANT_ROLES = frozenset({"staff", "admin"})
# How the audit's `details` names what a change touched, in words for the guest (others: their own words).
_FIELD_WORDS = {
    "starts_at": "time",
    "startsAt": "time",
    "service_date": "date",
    "serviceDate": "date",
    "table_id": "table",
    "tableId": "table",
    "tableNumber": "table",
    "tradeId": "",
}

# Which calendar, if any, an email carries.
NO_CALENDAR, PUBLISH, CANCEL = "", "publish", "cancel"


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _guest(reservation: Reservation) -> tuple[str, str]:
    """(email, name) of whoever booked: the account's, else the website customer's."""
    if reservation.user_id is not None:
        user = db.session.get(User, reservation.user_id)
        if user is not None:
            return user.email, user.name
    customer = db.session.get(Customer, reservation.customer_id) if reservation.customer_id else None
    return (customer.email, customer.name) if customer else ("", "")


def _restaurant_address(reservation: Reservation) -> str:
    return _settings().admin_notify_email or reservation.restaurant.email


def _context(reservation: Reservation, event: ReservationEvent | None = None) -> dict[str, Any]:
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
        "event": event,
        "reason": event.reason if event is not None else "",
        "changed": _changed_words(event),
        "manage_url": "",
    }


def _changed_words(event: ReservationEvent | None) -> list[str]:
    """`{"partySize": [2, 4], "starts_at": [...]}` -> ["party size", "time"]."""
    if event is None or not event.details:
        return []
    words = [_FIELD_WORDS.get(field, _words(field)) for field in event.details]
    return [word for word in dict.fromkeys(words) if word]


def _words(field: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", field).replace("_", " ").lower()


def _queue(template: str, *, to: str, subject: str, context: dict[str, Any], key: str, calendar: str = "") -> None:
    enqueue_email(
        to=to,
        subject=subject,
        text=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        message_key=key,
        calendar=calendar,
    )


def _to_guest(
    template: str,
    reservation: Reservation,
    *,
    subject: str,
    key: str,
    now: datetime,
    event: ReservationEvent | None = None,
    link: bool = False,
    calendar: str = NO_CALENDAR,
) -> None:
    """Queue one email to the guest; with `link`, a fresh manage link (minted only if the email is new)."""
    context = _context(reservation, event)
    if not context["guest_email"] or email_queued(key):
        return
    if link and manage.link_is_live(reservation, now=now):
        token = manage.mint_token(reservation=reservation, now=now)
        context["manage_url"] = manage.manage_url(base_url=_settings().public_base_url, token=token)
    ics = ""
    if calendar:
        ics = invites.build(
            reservation,
            now=now,
            sequence=invites.sequence(reservation, up_to_event=event.id if event is not None else None),
            organizer_email=reservation.restaurant.email or parseaddr(_settings().mail_from)[1],
            manage_url=context["manage_url"],
            cancelled=calendar == CANCEL,
        )
    _queue(template, to=context["guest_email"], subject=subject, context=context, key=key, calendar=ics)


def _to_restaurant(
    template: str, reservation: Reservation, *, subject: str, key: str, event: ReservationEvent | None = None
) -> None:
    to = _restaurant_address(reservation)
    if to and not email_queued(key):
        _queue(template, to=to, subject=subject, context=_context(reservation, event), key=key)


def _subject(what: str, reservation: Reservation) -> str:
    return f"{what} - {reservation.restaurant.name} ({reservation.confirmation_code})"


# --- reservation.confirmed: a new booking ----------------------------------------------------------


def send_confirmation(payload: dict[str, Any]) -> None:
    with atomic():
        reservation = db.session.get(Reservation, uuid.UUID(payload["reservation_id"]))
        if reservation is not None:
            _queue_confirmation(reservation, now=datetime.now(UTC))


def _queue_confirmation(reservation: Reservation, *, now: datetime) -> None:
    if reservation.restaurant.send_confirmation_emails:
        if reservation.status == ReservationStatus.PENDING:
            _to_guest(
                "reservation_requested",
                reservation,
                subject=_subject("Reservation request received", reservation),
                key=f"requested:{reservation.id}",
                now=now,
                link=True,
            )
        elif reservation.status == ReservationStatus.CONFIRMED:
            _to_guest(
                "reservation_confirmed",
                reservation,
                subject=_subject("Reservation confirmed", reservation),
                key=f"confirmed:{reservation.id}",
                now=now,
                link=True,
                calendar=PUBLISH,
            )
    context = _context(reservation)
    _to_restaurant(
        "new_reservation_admin",
        reservation,
        subject=f"New reservation {reservation.confirmation_code}: {reservation.party_size} at {context['local_time']}"
        + (" (awaiting approval)" if reservation.status == ReservationStatus.PENDING else ""),
        key=f"admin-new:{reservation.id}",
    )


# --- reservation.event: one audit row --------------------------------------------------------------


def send_event_emails(payload: dict[str, Any]) -> None:
    with atomic():
        event = db.session.get(ReservationEvent, int(payload["event_id"]))
        queue = _EVENT_EMAILS.get(event.action) if event is not None else None
        if queue is not None:
            queue(event.reservation, event, datetime.now(UTC))


def _by_restaurant(event: ReservationEvent) -> bool:
    return event.actor_role in _RESTAURANT_ROLES


def _queue_approval(reservation: Reservation, event: ReservationEvent, now: datetime) -> None:
    if not manage.link_is_live(reservation, now=now):
        return  # cancelled (or over) since: that email has the last word
    _to_guest(
        "reservation_approved",
        reservation,
        subject=_subject("Reservation confirmed", reservation),
        key=f"approved:{event.id}",
        now=now,
        event=event,
        link=True,
        calendar=PUBLISH,
    )


def _queue_rejection(reservation: Reservation, event: ReservationEvent, now: datetime) -> None:
    _to_guest(
        "reservation_rejected",
        reservation,
        subject=_subject("Reservation request declined", reservation),
        key=f"rejected:{event.id}",
        now=now,
        event=event,
    )


def _queue_change(reservation: Reservation, event: ReservationEvent, now: datetime) -> None:
    if event.action == "change" and manage.link_is_live(reservation, now=now):
        _to_guest(
            "reservation_changed",
            reservation,
            subject=_subject("Reservation changed", reservation),
            key=f"changed:{event.id}",
            now=now,
            event=event,
            link=True,
            calendar=PUBLISH if reservation.status != ReservationStatus.PENDING else NO_CALENDAR,
        )
    if not _by_restaurant(event):
        _to_restaurant(
            "reservation_changed_admin",
            reservation,
            subject=f"Reservation changed {reservation.confirmation_code}: {reservation.party_size} guests",
            key=f"admin-changed:{event.id}",
            event=event,
        )


def _queue_cancellation(reservation: Reservation, event: ReservationEvent, now: datetime) -> None:
    _to_guest(
        "reservation_cancelled",
        reservation,
        subject=_subject("Reservation cancelled", reservation),
        key=f"cancelled:{reservation.id}",
        now=now,
        event=event,
        # A request never confirmed was never put in a calendar: nothing to take out.
        calendar=CANCEL if event.from_status != ReservationStatus.PENDING else NO_CALENDAR,
    )
    if not _by_restaurant(event):
        _to_restaurant(
            "reservation_cancelled_admin",
            reservation,
            subject=f"Reservation cancelled {reservation.confirmation_code}: {reservation.party_size} guests",
            key=f"admin-cancelled:{reservation.id}",
            event=event,
        )


def _queue_no_show(reservation: Reservation, event: ReservationEvent, now: datetime) -> None:
    _to_guest(
        "reservation_no_show",
        reservation,
        subject=_subject("We missed you", reservation),
        key=f"no-show:{reservation.id}",
        now=now,
        event=event,
    )


# Audit action -> what it emails. Actions not listed (seat, complete) send nothing.
_EVENT_EMAILS: dict[str, Callable[[Reservation, ReservationEvent, datetime], None]] = {
    lifecycle.Action.APPROVE.value: _queue_approval,
    lifecycle.Action.REJECT.value: _queue_rejection,
    lifecycle.Action.CANCEL.value: _queue_cancellation,
    lifecycle.Action.NO_SHOW.value: _queue_no_show,
    "change": _queue_change,
    # A swap of times/tables (api/trades): the trade's own emails tell both guests; the restaurant
    # hears of it here as of any other change.
    "trade": _queue_change,
}


# --- reservation.reminder --------------------------------------------------------------------------


def send_reminder(payload: dict[str, Any]) -> None:
    """Remind the guest of a confirmed booking (nothing for one cancelled or over since it was queued)."""
    now = datetime.now(UTC)
    with atomic():
        reservation = db.session.get(Reservation, uuid.UUID(payload["reservation_id"]))
        if reservation is None or reservation.status != ReservationStatus.CONFIRMED or now >= reservation.starts_at:
            return
        context = _context(reservation)
        _to_guest(
            "reservation_reminder",
            reservation,
            subject=f"Reminder: {reservation.restaurant.name} on {context['local_date']} at {context['local_time']}"
            f" ({reservation.confirmation_code})",
            # One reminder per booked time: a booking moved to another day may be reminded again.
            key=f"reminder:{reservation.id}:{reservation.starts_at.timestamp():.0f}",
            now=now,
            link=True,
            calendar=PUBLISH,
        )


def register() -> None:
    outbox_service.register_handler(RESERVATION_CONFIRMED, send_confirmation)
    outbox_service.register_handler(lifecycle.RESERVATION_EVENT, send_event_emails)
    outbox_service.register_handler(RESERVATION_REMINDER, send_reminder)
    # The links these emails carry: tokens of long-past stays are deleted.
    outbox_service.register_periodic("prune-manage-tokens", 3600, manage.prune_stale_tokens)
