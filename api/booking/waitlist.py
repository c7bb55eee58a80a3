"""The waitlist: guests waiting for a table, and the timed offers that refill freed tables.

An entry asks for a party on a local date between two wall-clock times. Whenever a table may
have freed up at a restaurant on a day (a cancellation, rejection or no-show queues
`lifecycle.TABLE_FREED`; the worker's sweep catches changes and expired holds), `match_day` runs
under that day's allocation lock: the waiting entries are taken oldest first, and each one whose
party now fits a free table at a time in its window gets an **offer**, which is an ordinary
hold (`holds.place_hold`) on that table for `WAITLIST_OFFER_MINUTES`, plus an email. Claiming
the offer is confirming that hold (`POST /api/reservations/confirm`, with the deposit where the
restaurant takes one). An offer not claimed in time lapses and the table goes to the next entry.

One offer per freed table follows from the hold being a claim: once an offer holds the table,
the exclusion constraint and the lock keep every other offer (and booking) off it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import and_, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.booking import allocation, availability, holds, lifecycle
from api.booking.models import Hold, Reservation, WaitlistEntry, WaitlistStatus
from api.booking.slots import zone_of
from api.db import atomic
from api.errors import AppError, Conflict, ErrorCode, NotFound, Unprocessable
from api.extensions import db
from api.mail import enqueue_email
from api.outbox import service as outbox_service
from api.restaurants.models import Restaurant

# Outbox kind: {entry_id}, the offer's email to the guest.
WAITLIST_OFFERED = "waitlist.offered"
OPEN_ENTRY_CONSTRAINT = "uq_waitlist_entries_open"
_OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


@dataclass(frozen=True)
class EntryView:
    """An entry as its guest sees it: where it stands, and the offer if it has one."""

    entry: WaitlistEntry
    position: int | None  # among the day's waiting entries, 1 = next; None unless waiting
    status: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.entry, name)


def join(
    *,
    actor: User,
    restaurant_id: uuid.UUID | str,
    service_date: date,
    window_start: time,
    window_end: time,
    party_size: int,
    now: datetime,
) -> EntryView:
    """Wait for a table for the party on a local date between two times; an offer may follow at once.

    :raise 404 RESTAURANT_NOT_FOUND:
    :raise 409 WAITLIST_EXISTS: the guest already waits at this restaurant on this date.
    :raise 422 BAD_GUESTS, BAD_TIME: a party the restaurant does not seat; a window that is past,
        backwards or beyond the booking horizon.
    """
    with atomic():
        restaurant = holds.get_restaurant(restaurant_id)
        holds.check_accepts_reservations(restaurant)
        holds.check_party_size(restaurant, party_size)
        _check_window(restaurant, service_date, window_start, window_end, now=now)
        entry = WaitlistEntry(
            restaurant_id=restaurant.id,
            user_id=actor.id,
            service_date=service_date,
            window_start=window_start,
            window_end=window_end,
            party_size=party_size,
            created_at=now,
        )
        db.session.add(entry)
        try:
            db.session.flush()
        except IntegrityError as err:
            if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == OPEN_ENTRY_CONSTRAINT:
                raise Conflict(
                    ErrorCode.WAITLIST_EXISTS, "You are already on this restaurant's waitlist for that date."
                ) from err
            raise
        # A table may be free already (a cancellation nobody has taken yet): the worker offers it.
        outbox_service.enqueue(lifecycle.TABLE_FREED, restaurant_id=restaurant.id, service_date=service_date)
    return _views([entry], now=now)[0]


def my_entries(*, actor: User, now: datetime) -> list[EntryView]:
    """The caller's entries, newest first, each with its position while waiting."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.user_id == actor.id).order_by(WaitlistEntry.created_at.desc())
    ).all()
    return _views(list(entries), now=now)


def restaurant_entries(
    *, actor: User, restaurant_id: uuid.UUID | str, service_date: date, now: datetime
) -> list[EntryView]:
    """A day's waitlist at the restaurant, in order (staff of the restaurant and admins)."""
    restaurant = holds.get_restaurant(restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.restaurant_id == restaurant.id, WaitlistEntry.service_date == service_date)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    return _views(list(entries), now=now)


def leave(*, actor: User, entry_id: uuid.UUID, now: datetime) -> None:
    """Leave the waitlist; an open offer is given back at once (and goes to the next entry).

    :raise 404 WAITLIST_ENTRY_NOT_FOUND: none, or someone else's.
    """
    with atomic():
        entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.id == entry_id).with_for_update())
        if entry is None or entry.user_id != actor.id:
            raise NotFound(ErrorCode.WAITLIST_ENTRY_NOT_FOUND, "No such waitlist entry.")
        if entry.status not in _OPEN:
            return
        if entry.status == WaitlistStatus.OFFERED and not _claimed(entry):
            db.session.execute(delete(Hold).where(Hold.id == entry.offer_hold_id))
            outbox_service.enqueue(
                lifecycle.TABLE_FREED, restaurant_id=entry.restaurant_id, service_date=entry.service_date
            )
        entry.status = WaitlistStatus.LEFT


# --- offers -----------------------------------------------------------------------------------------


def match_day(*, restaurant_id: uuid.UUID, service_date: date, now: datetime) -> int:
    """Offer the day's free tables to its waiting entries, oldest first. Returns how many offers were made."""
    offer_minutes = current_app.config["SETTINGS"].waitlist_offer_minutes
    made = 0
    with atomic():
        restaurant = db.session.get(Restaurant, restaurant_id)
        if restaurant is None:
            return 0
        allocation.lock_service_day(restaurant, service_date)
        allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
        waiting = db.session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.restaurant_id == restaurant.id,
                WaitlistEntry.service_date == service_date,
                WaitlistEntry.status == WaitlistStatus.WAITING,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .with_for_update()
        ).all()
        for entry in waiting:
            hold = _offer(restaurant, entry, now=now, minutes=offer_minutes)
            if hold is None:
                continue
            entry.status = WaitlistStatus.OFFERED
            entry.offer_hold_id = hold.id
            entry.offer_expires_at = hold.expires_at
            outbox_service.enqueue(WAITLIST_OFFERED, entry_id=entry.id)
            made += 1
    return made


def _offer(restaurant: Restaurant, entry: WaitlistEntry, *, now: datetime, minutes: int) -> Hold | None:
    """A hold for the entry at the first time in its window with a table free, or None."""
    tz = zone_of(restaurant)
    for seating in availability.for_day(
        restaurant=restaurant, service_date=entry.service_date, party_size=entry.party_size, now=now
    ):
        local = seating.slot.starts_at.astimezone(tz).time()
        if not (entry.window_start <= local <= entry.window_end and seating.available):
            continue
        stay = allocation.Stay.for_party(restaurant, seating.slot, entry.party_size)
        table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=entry.party_size, now=now)
        if table is None:
            continue
        try:
            return holds.place_hold(
                restaurant=restaurant,
                table=table,
                user_id=entry.user_id,
                party_size=entry.party_size,
                stay=stay,
                service_date=entry.service_date,
                now=now,
                minutes=minutes,
            )
        except AppError as err:
            if err.code == ErrorCode.ACTIVE_HOLD_EXISTS:
                return None  # the guest is paying for another table right now: the next entry gets this one
            raise
    return None


def sweep(now: datetime) -> int:
    """Periodic job: settle claimed and lapsed offers, expire past entries, offer what is free. Returns offers made."""
    with atomic():
        offered = db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.status == WaitlistStatus.OFFERED)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = _claimed_holds([e.offer_hold_id for e in offered])
        for entry in offered:
            if entry.offer_hold_id in claimed:
                entry.status = WaitlistStatus.BOOKED
            elif entry.offer_expires_at <= now:
                entry.status = WaitlistStatus.LAPSED
        # A day behind UTC's date has passed in every time zone.
        db.session.execute(
            update(WaitlistEntry)
            .where(
                WaitlistEntry.status == WaitlistStatus.WAITING,
                WaitlistEntry.service_date < (now - timedelta(days=1)).date(),
            )
            .values(status=WaitlistStatus.EXPIRED)
        )
        days = db.session.execute(
            select(WaitlistEntry.restaurant_id, WaitlistEntry.service_date)
            .where(WaitlistEntry.status == WaitlistStatus.WAITING)
            .distinct()
        ).all()
    return sum(match_day(restaurant_id=rid, service_date=day, now=now) for rid, day in days)


def on_table_freed(payload: dict[str, Any]) -> None:
    """The worker's handler for `lifecycle.TABLE_FREED`."""
    match_day(
        restaurant_id=uuid.UUID(payload["restaurant_id"]),
        service_date=date.fromisoformat(payload["service_date"]),
        now=datetime.now(UTC),
    )


def send_offer_email(payload: dict[str, Any]) -> None:
    """The worker's handler for `WAITLIST_OFFERED`: tell the guest what is held and until when."""
    with atomic():
        entry = db.session.get(WaitlistEntry, uuid.UUID(payload["entry_id"]))
        hold = db.session.get(Hold, entry.offer_hold_id) if entry and entry.offer_hold_id else None
        if entry is None or hold is None:
            return
        user = db.session.get(User, entry.user_id)
        tz = zone_of(entry.restaurant)
        settings = current_app.config["SETTINGS"]
        context = {
            "guest_name": user.name or "guest",
            "restaurant": entry.restaurant,
            "party_size": entry.party_size,
            "local_date": hold.starts_at.astimezone(tz).strftime("%A %d %B %Y"),
            "local_time": hold.starts_at.astimezone(tz).strftime("%H:%M"),
            "until": hold.expires_at.astimezone(tz).strftime("%H:%M"),
            "deposit": f"{hold.deposit_cents / 100:.2f}" if hold.deposit_cents else "",
            "claim_url": settings.waitlist_claim_url.format(
                public_base_url=settings.public_base_url.rstrip("/"), hold_id=hold.id, entry_id=entry.id
            ),
        }
        enqueue_email(
            to=user.email,
            subject=f"A table for you at {entry.restaurant.name}: claim it by {context['until']}",
            text=render_template("email/waitlist_offer.txt", **context),
            html=render_template("email/waitlist_offer.html", **context),
            message_key=f"waitlist-offer:{hold.id}",
        )


# --- helpers ----------------------------------------------------------------------------------------


def _check_window(restaurant: Restaurant, service_date: date, start: time, end: time, *, now: datetime) -> None:
    local_now = now.astimezone(zone_of(restaurant))
    horizon = local_now.date() + timedelta(days=restaurant.booking_horizon_days)
    if end < start:
        raise Unprocessable(ErrorCode.BAD_TIME, "The window ends before it starts.")
    if service_date < local_now.date() or (service_date == local_now.date() and end <= local_now.time()):
        raise Unprocessable(ErrorCode.BAD_TIME, "That window has passed.")
    if service_date > horizon:
        raise Unprocessable(ErrorCode.BAD_TIME, f"The waitlist opens {restaurant.booking_horizon_days} days ahead.")


def _claimed(entry: WaitlistEntry) -> bool:
    return entry.offer_hold_id in _claimed_holds([entry.offer_hold_id])


def _claimed_holds(hold_ids: list[uuid.UUID | None]) -> set[uuid.UUID]:
    """Which offers' holds were confirmed into reservations (the reservation keeps the hold's id)."""
    ids = [i for i in hold_ids if i is not None]
    if not ids:
        return set()
    return set(db.session.scalars(select(Reservation.hold_id).where(Reservation.hold_id.in_(ids))))


def _views(entries: list[WaitlistEntry], *, now: datetime) -> list[EntryView]:
    claimed = _claimed_holds([e.offer_hold_id for e in entries if e.status == WaitlistStatus.OFFERED])
    waiting = [e for e in entries if e.status == WaitlistStatus.WAITING]
    positions = _positions(waiting)
    views = []
    for entry in entries:
        status = entry.status
        if status == WaitlistStatus.OFFERED:
            if entry.offer_hold_id in claimed:
                status = WaitlistStatus.BOOKED
            elif entry.offer_expires_at <= now:
                status = WaitlistStatus.LAPSED
        views.append(EntryView(entry=entry, position=positions.get(entry.id), status=status))
    return views


def _positions(waiting: list[WaitlistEntry]) -> dict[uuid.UUID, int]:
    """1 + how many of the same day's waiting entries came first, for each waiting entry (one query)."""
    if not waiting:
        return {}
    ahead = WaitlistEntry.__table__.alias("ahead")
    mine = WaitlistEntry.__table__.alias("mine")
    rows = db.session.execute(
        select(mine.c.id, func.count(ahead.c.id))
        .select_from(mine)
        .outerjoin(
            ahead,
            and_(
                ahead.c.restaurant_id == mine.c.restaurant_id,
                ahead.c.service_date == mine.c.service_date,
                ahead.c.status == WaitlistStatus.WAITING,
                tuple_(ahead.c.created_at, ahead.c.id) < tuple_(mine.c.created_at, mine.c.id),
            ),
        )
        .where(mine.c.id.in_([e.id for e in waiting]))
        .group_by(mine.c.id)
    ).all()
    return {entry_id: count + 1 for entry_id, count in rows}


def register() -> None:
    outbox_service.register_handler(lifecycle.TABLE_FREED, on_table_freed)
    outbox_service.register_handler(WAITLIST_OFFERED, send_offer_email)
    outbox_service.register_periodic("waitlist-sweep", 60, sweep)
