"""Sending one email over SMTP (HTML with a plain-text alternative).

Only the outbox worker calls this: mail never goes out while a request's transaction is open.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from api.config import Settings


def send_email(*, settings: Settings, to: str, subject: str, text: str, html: str, message_key: str) -> None:
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
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_use_tls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
