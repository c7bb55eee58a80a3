"""Booking rules both client contracts share, one place each.

- **One booking per guest at a time** (OpenTable's rule): one guest, known by email (the
  website's form) or by account (the app, whose accounts have an email), may not hold two live
  bookings, at any restaurant, whose starts are less than `DUPLICATE_GUARD_MINUTES` apart; a
  live hold counts as a booking. Decided under the guest's transaction lock (`LockSpace.GUEST`,
  taken before any service-day lock), so two parallel requests of one guest queue and the
  second sees the first.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, bindparam, text
from sqlalchemy.dialects.postgresql import UUID

from api.db import LockSpace, advisory_xact_lock, get_settings, lock_key
from api.errors import Conflict, ErrorCode
from api.extensions import db

# The guest's live bookings and holds starting within the guard of :starts_at (any restaurant).
# :guard_minutes = 0 finds nothing. Shared by the website's one-round-trip booking
# (reservations.book_best_table) and `check_no_duplicate`.
DUPLICATE_SQL = """
    SELECT r.confirmation_code AS code FROM reservations AS r
    WHERE r.status IN ('pending', 'confirmed')
      AND r.starts_at > :starts_at - make_interval(mins => :guard_minutes)
      AND r.starts_at < :starts_at + make_interval(mins => :guard_minutes)
      AND (r.customer_id = (SELECT id FROM customers WHERE email = :guest_email)
           OR r.user_id = (SELECT id FROM users WHERE email = :guest_email))
    UNION ALL
    SELECT NULL FROM holds AS h
    WHERE h.user_id = (SELECT id FROM users WHERE email = :guest_email)
      AND h.expires_at > :now
      AND h.starts_at > :starts_at - make_interval(mins => :guard_minutes)
      AND h.starts_at < :starts_at + make_interval(mins => :guard_minutes)
    LIMIT 1
"""

DUPLICATE_BINDS = (
    bindparam("starts_at", type_=DateTime(timezone=True)),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("guard_minutes", type_=Integer),
    bindparam("guest_email", type_=String),
)

_FIND_DUPLICATE = text(DUPLICATE_SQL).bindparams(*DUPLICATE_BINDS)
# The same, for a booking that moves: it is not its own duplicate (api.booking.changes).
_FIND_OTHER_DUPLICATE = text(
    DUPLICATE_SQL.replace(
        "WHERE r.status IN ('pending', 'confirmed')",
        "WHERE r.status IN ('pending', 'confirmed') AND r.id <> :exclude_id",
        1,
    )
).bindparams(*DUPLICATE_BINDS, bindparam("exclude_id", type_=UUID(as_uuid=True)))


def guard_minutes() -> int:
    return max(0, int(get_settings().duplicate_guard_minutes))


def guest_lock_key(email: str) -> int:
    return lock_key(LockSpace.GUEST, email.strip().lower())


def duplicate_booking(code: str | None) -> Conflict:
    """409 DUPLICATE_BOOKING, naming the booking the guest already has (None: a hold)."""
    return Conflict(
        ErrorCode.DUPLICATE_BOOKING,
        "You already have a booking around this time"
        + (f" ({code}); change or cancel it instead." if code else " (a table on hold)."),
        details={"confirmationCode": code, "guardMinutes": guard_minutes()},
    )


def lock_guest(email: str) -> None:
    """Take the guest's lock (first in the transaction: lock order is guest, then service day)."""
    if guard_minutes() > 0:
        advisory_xact_lock(LockSpace.GUEST, email.strip().lower())


def check_no_duplicate(
    *, email: str, starts_at: datetime, now: datetime, exclude_reservation_id: uuid.UUID | None = None
) -> None:
    """Refuse a second live booking of the guest near this start. Call with `lock_guest` held.

    `exclude_reservation_id`: the booking being moved, which is not its own duplicate.
    :raise 409 DUPLICATE_BOOKING:
    """
    minutes = guard_minutes()
    if minutes == 0:
        return
    params = {"starts_at": starts_at, "now": now, "guard_minutes": minutes, "guest_email": email.strip().lower()}
    if exclude_reservation_id is None:
        row = db.session.execute(_FIND_DUPLICATE, params).first()
    else:
        row = db.session.execute(_FIND_OTHER_DUPLICATE, {**params, "exclude_id": exclude_reservation_id}).first()
    if row is not None:
        raise duplicate_booking(row.code)
