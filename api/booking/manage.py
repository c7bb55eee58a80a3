"""Guest manage links: a guest without an account sees, changes or cancels their one booking.

Every guest email about a live booking carries `PUBLIC_BASE_URL/manage/<token>` (the website's
page, which calls `/api/manage/<token>`). The token is `secrets.token_urlsafe(32)`: 256 random bits,
so it cannot be guessed, and only its SHA-256 is stored (`manage_tokens`), so a copy of the
database opens no booking. Because only the hash is kept, a token is minted when its email is
rendered, in the outbox handler's transaction together with the `email.send` message; a handler
that runs again after a crash mints a new token only if it queues a new email
(`mail.email_queued`), and every token minted for a booking stays valid until its visit is over.

A token opens exactly the reservation it was minted for. It is:
- unknown (wrong, guessed, malformed): 404 `MANAGE_LINK_NOT_FOUND`, whatever booking exists;
- stale: 410 `MANAGE_LINK_EXPIRED` once the stay has ended, or the booking is cancelled,
  rejected, completed or a no-show (`details.status` says which).
Cancelling through the link is the guest's cancellation (refund by the frozen policy), audited
with the actor `link` (`lifecycle.MANAGE_LINK`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from api.booking import cancellation, changes, lifecycle
from api.booking.models import ACTIVE_STATUSES, OCCUPYING_STATUSES, ManageToken, Reservation
from api.db import atomic
from api.errors import ErrorCode, Gone, NotFound
from api.extensions import db

TOKEN_BYTES = 32
# Stale tokens are kept this long after the stay so their links say "expired" (410) rather than
# "no such link" (404); then `prune_stale_tokens` deletes them.
KEEP_STALE_TOKENS = timedelta(days=30)
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet; anything else is not ours.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class ManagedReservation:
    """What the guest's page shows: the booking in the restaurant's local time."""

    confirmation_code: str
    restaurant_id: uuid.UUID
    date: date
    time: time
    party_size: int
    status: str
    restaurant_name: str
    special_requests: str
    timezone: str
    deposit_cents: int
    cancellable: bool
    refund_cents_if_cancelled: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(*, reservation: Reservation, now: datetime) -> str:
    """A new secret for `reservation`'s manage link, added to the caller's transaction; only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(ManageToken(reservation_id=reservation.id, token_hash=hash_token(token), created_at=now))
    return token


def manage_url(*, base_url: str, token: str) -> str:
    """The website page a guest opens (`PUBLIC_BASE_URL/manage/<token>`)."""
    return f"{base_url.rstrip('/')}/manage/{token}"


def link_is_live(reservation: Reservation, *, now: datetime) -> bool:
    """A link works until the visit is over: the booking still holds its table and its stay has not ended."""
    return reservation.status in OCCUPYING_STATUSES and now < reservation.ends_at


def _reservation_for(token: str, *, now: datetime, for_update: bool) -> Reservation:
    """The one reservation `token` opens.

    :raise 404 MANAGE_LINK_NOT_FOUND: :raise 410 MANAGE_LINK_EXPIRED:
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        raise _not_found()
    query = (
        select(Reservation)
        .join(ManageToken, ManageToken.reservation_id == Reservation.id)
        .where(ManageToken.token_hash == hash_token(token))
        .options(joinedload(Reservation.restaurant))
    )
    if for_update:
        query = query.with_for_update(of=Reservation)
    reservation = db.session.scalars(query).one_or_none()
    if reservation is None:
        raise _not_found()
    if not link_is_live(reservation, now=now):
        raise Gone(
            ErrorCode.MANAGE_LINK_EXPIRED,
            "This link has expired: the booking is over or no longer active.",
            details={"status": reservation.status},
        )
    return reservation


def _not_found() -> NotFound:
    return NotFound(ErrorCode.MANAGE_LINK_NOT_FOUND, "This link does not open any booking.")


def _managed(reservation: Reservation, *, now: datetime) -> ManagedReservation:
    restaurant = reservation.restaurant
    local = reservation.starts_at.astimezone(ZoneInfo(restaurant.timezone))
    cancellable = reservation.status in ACTIVE_STATUSES
    percent = (
        cancellation.refund_percent(reservation.refund_policy or [], starts_at=reservation.starts_at, now=now)
        if cancellable
        else 0
    )
    return ManagedReservation(
        confirmation_code=reservation.confirmation_code,
        restaurant_id=restaurant.id,
        date=local.date(),
        time=local.time().replace(tzinfo=None),
        party_size=reservation.party_size,
        status=reservation.status,
        restaurant_name=restaurant.name,
        special_requests=reservation.special_requests,
        timezone=restaurant.timezone,
        deposit_cents=reservation.deposit_cents,
        cancellable=cancellable,
        refund_cents_if_cancelled=cancellation.refund_cents_for(reservation.deposit_cents, percent),
    )


def view_reservation(*, token: str, now: datetime) -> ManagedReservation:
    """The booking a manage link opens.

    :raise 404 MANAGE_LINK_NOT_FOUND: :raise 410 MANAGE_LINK_EXPIRED:
    """
    return _managed(_reservation_for(token, now=now, for_update=False), now=now)


def cancel_reservation(*, token: str, now: datetime) -> cancellation.Cancelled:
    """Cancel the booking a manage link opens, free its table at once and refund by its frozen policy.

    :raise 404 MANAGE_LINK_NOT_FOUND: :raise 410 MANAGE_LINK_EXPIRED:
    :raise 409 INVALID_TRANSITION: the party is already seated.
    """
    with atomic():
        reservation = _reservation_for(token, now=now, for_update=True)
        result = cancellation.cancel_locked(
            reservation, actor=lifecycle.MANAGE_LINK, now=now, reason="cancelled by the guest"
        )
    cancellation.settle_refund_after_cancel(reservation_id=result.reservation_id, now=now)
    return result


def change_reservation(*, token: str, requested: changes.ReservationChange, now: datetime) -> ManagedReservation:
    """Change the booking a manage link opens, by the same rules as a signed-in guest's change.

    :raise 404 MANAGE_LINK_NOT_FOUND: :raise 410 MANAGE_LINK_EXPIRED:
    :raise: everything `changes.change_reservation` raises (TOO_LATE_TO_CHANGE, FULLY_BOOKED, ...).
    """
    with atomic():
        reservation_id = _reservation_for(token, now=now, for_update=False).id

    def still_live(reservation: Reservation) -> None:
        # Re-checked on the locked row: a cancellation that committed meanwhile ends the link.
        if not link_is_live(reservation, now=now):
            raise Gone(ErrorCode.MANAGE_LINK_EXPIRED, "This link has expired.", details={"status": reservation.status})

    changes.change_reservation(
        reservation_id=reservation_id, actor=lifecycle.MANAGE_LINK, requested=requested, now=now, guard=still_live
    )
    return view_reservation(token=token, now=now)


def prune_stale_tokens(now: datetime) -> int:
    """Delete the tokens of stays that ended more than `KEEP_STALE_TOKENS` ago (the worker, hourly)."""
    with atomic():
        ended = select(Reservation.id).where(Reservation.ends_at < now - KEEP_STALE_TOKENS)
        result = db.session.execute(delete(ManageToken).where(ManageToken.reservation_id.in_(ended)))
    return result.rowcount
