"""Newsletter subscriptions from the website.

A signup is one atomic upsert on the unique email: a repeat signup is not an error, never
makes a second row, refreshes the name/phone it was given and re-subscribes an address
that had unsubscribed. Unsubscribing needs the row's secret token (the link in the mails),
so nobody can unsubscribe someone else by knowing their address.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from marshmallow import ValidationError, validate
from sqlalchemy import case, func, literal_column, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from api.db import atomic
from api.errors import ErrorCode, NotFound, Unprocessable
from api.extensions import db
from api.newsletter.models import Subscriber

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
    ).returning(Subscriber.id, literal_column("xmax = 0").label("created"))
    with atomic():
        row = db.session.execute(stmt).one()
    return Signup(subscriber_id=row.id, created=bool(row.created))


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
