"""Newsletter subscriptions from the website.

A signup is one atomic upsert on the unique email: a repeat signup is not an error, never
makes a second row, refreshes the name/phone it was given and re-subscribes an address
that had unsubscribed. Unsubscribing needs the row's secret token (the link in the mails),
so nobody can unsubscribe someone else by knowing their address.

A new subscription (first signup, or a signup after unsubscribing) queues one welcome email
through the outbox in the signup's transaction; it carries the unsubscribe link
(`PUBLIC_BASE_URL/newsletter/unsubscribe?token=...`, the website's one-click page). A repeat
signup of a subscribed address keeps its `subscribed_at`, so its welcome key repeats and
nothing is queued again.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template
from marshmallow import ValidationError, validate
from sqlalchemy import case, func, literal_column, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from api.db import atomic
from api.errors import ErrorCode, NotFound, Unprocessable
from api.extensions import db
from api.mail import enqueue_email
from api.newsletter.models import Subscriber
from api.outbox import service as outbox_service

NEWSLETTER_WELCOME = "newsletter.welcome"
UNSUBSCRIBE_PATH = "/newsletter/unsubscribe"

_is_email = validate.Email()


@dataclass(frozen=True)
class Signup:
    subscriber_id: uuid.UUID
    created: bool


def normalise_email(email: str) -> str:
    """Lower-cased and stripped. :raise 422: BAD_EMAIL."""
    normalised = (email or "").strip().lower()
    try:
        if len(normalised) > 254:
            raise ValidationError("too long")
        _is_email(normalised)
    except ValidationError as err:
        raise Unprocessable(ErrorCode.BAD_EMAIL, "email must be a valid email address.") from err
    return normalised


def subscribe(*, email: str, name: str | None = None, phone: str | None = None, now: datetime) -> Signup:
    """Subscribe an address, or refresh and re-subscribe it. :raise 422: BAD_EMAIL."""
    address = normalise_email(email)
    stmt = pg_insert(Subscriber).values(
        id=uuid.uuid4(),
        email=address,
        name=(name or "").strip()[:200],
        phone=(phone or "").strip()[:40],
        unsubscribe_token=secrets.token_urlsafe(32),
        subscribed_at=now,
    )
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[Subscriber.email],
        set_={
            # A blank field on a repeat signup keeps what we have.
            "name": func.coalesce(func.nullif(excluded.name, ""), Subscriber.name),
            "phone": func.coalesce(func.nullif(excluded.phone, ""), Subscriber.phone),
            "subscribed_at": case(
                (Subscriber.unsubscribed_at.is_not(None), excluded.subscribed_at), else_=Subscriber.subscribed_at
            ),
            "unsubscribed_at": None,
        },
    ).returning(Subscriber.id, Subscriber.subscribed_at, literal_column("xmax = 0").label("created"))
    with atomic():
        row = db.session.execute(stmt).one()
        outbox_service.enqueue_once(
            NEWSLETTER_WELCOME, key=_welcome_key(row.id, row.subscribed_at), subscriber_id=row.id
        )
    return Signup(subscriber_id=row.id, created=bool(row.created))


def _welcome_key(subscriber_id: uuid.UUID, subscribed_at: datetime) -> str:
    """One welcome per subscription: the same subscriber and `subscribed_at` is the same subscription."""
    return f"newsletter-welcome:{subscriber_id}:{subscribed_at.isoformat()}"


def unsubscribe_url(token: str) -> str:
    """The one-click page the emails link to (the website's, under PUBLIC_BASE_URL)."""
    base = current_app.config["SETTINGS"].public_base_url.rstrip("/")
    return f"{base}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"


def send_welcome(payload: dict[str, Any]) -> None:
    """The worker's handler for `newsletter.welcome`: queue the email unless the address left meanwhile."""
    with atomic():
        subscriber = db.session.get(Subscriber, uuid.UUID(payload["subscriber_id"]))
        if subscriber is None or subscriber.unsubscribed_at is not None:
            return
        context = {"subscriber": subscriber, "unsubscribe_url": unsubscribe_url(subscriber.unsubscribe_token)}
        enqueue_email(
            to=subscriber.email,
            subject="Welcome to the Café Fausse newsletter",
            text=render_template("email/newsletter_welcome.txt", **context),
            html=render_template("email/newsletter_welcome.html", **context),
            message_key=_welcome_key(subscriber.id, subscriber.subscribed_at),
        )


def register() -> None:
    outbox_service.register_handler(NEWSLETTER_WELCOME, send_welcome)


def unsubscribe(*, token: str, now: datetime) -> None:
    """Unsubscribe the address this secret belongs to (idempotent). :raise 404: SUBSCRIPTION_NOT_FOUND."""
    with atomic():
        result = db.session.execute(
            update(Subscriber)
            .where(Subscriber.unsubscribe_token == token)
            .values(unsubscribed_at=func.coalesce(Subscriber.unsubscribed_at, now))
            .returning(Subscriber.id)
        )
        if result.first() is None:
            raise NotFound(ErrorCode.SUBSCRIPTION_NOT_FOUND, "This unsubscribe link is not valid.")
