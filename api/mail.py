"""Email through the outbox: one `email.send` message per email, sent over SMTP by the worker.

Domains render their emails and `enqueue_email(...)` them; the worker's `deliver` handler sends
each one on its own lease, so a failure on one email (SMTP down) never resends another, and mail
never goes out while a request's transaction is open. An email may carry one calendar invitation
(`calendar`: the text of an `.ics`), attached as `text/calendar` with its METHOD.

`flask send-test-email ADDRESS` (api/cli.py) calls `send_email` directly to check the SMTP settings.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import exists, select

from api.config import Settings
from api.extensions import db
from api.outbox import service as outbox_service
from api.outbox.models import OutboxMessage

EMAIL_SEND = "email.send"
# Far below the outbox lease (api/outbox/worker.py), so a slow send never outlives its claim.
SMTP_TIMEOUT_SECONDS = 10
CALENDAR_FILENAME = "reservation.ics"

_METHOD = re.compile(r"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


def _dedupe_key(message_key: str) -> str:
    return f"email:{message_key}"


def enqueue_email(*, to: str, subject: str, text: str, html: str, message_key: str, calendar: str = "") -> None:
    """Queue one email in the caller's transaction; an email with the same key is queued only once."""
    outbox_service.enqueue_once(
        EMAIL_SEND,
        key=_dedupe_key(message_key),
        to=to,
        subject=subject,
        text=text,
        html=html,
        message_key=message_key,
        calendar=calendar,
    )


def email_queued(message_key: str) -> bool:
    """Whether an email with this key was ever queued (a handler running again renders nothing new)."""
    return bool(db.session.scalar(select(exists().where(OutboxMessage.dedupe_key == _dedupe_key(message_key)))))


def deliver(payload: dict[str, Any]) -> None:
    """The worker's handler for `email.send`: send the one email the message holds."""
    send_email(settings=current_app.config["SETTINGS"], **payload)


def register() -> None:
    outbox_service.register_handler(EMAIL_SEND, deliver)


def send_email(
    *, settings: Settings, to: str, subject: str, text: str, html: str, message_key: str, calendar: str = ""
) -> None:
    """Send one message; raises on any SMTP failure so the worker retries.

    `message_key` becomes part of the Message-ID, so a retry after an ambiguous failure
    can be recognised as the same message by the receiving side.
    """
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=message_key.replace(":", "."), domain="seatkeeper")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if calendar:
        method = _METHOD.search(calendar)
        message.add_attachment(
            calendar.encode(),
            maintype="text",
            subtype="calendar",
            filename=CALENDAR_FILENAME,
            params={"method": method.group(1)} if method else {},
        )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_use_tls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
