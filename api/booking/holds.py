"""The app frontend's availability grid and its 10-minute holds (seed 000).

A hold claims a real table, exactly as a reservation does (`table_occupancies` rows), but its
claims carry the hold's `expires_at`: every query compares that with the service's `now`, so
an expired hold frees its table at once, before any purge. Rules:

- one hold per user: `holds.user_id` is unique. A per-user advisory lock makes one user's
  concurrent requests queue; the user's own expired hold is deleted, so the second request sees
  the first hold and answers 409 ACTIVE_HOLD_EXISTS (the unique constraint is the backstop);
- the table is picked under the service-day lock, after the restaurant's expired holds are
  purged, like every other allocation (`api.booking.allocation`);
- expired holds are deleted by `purge_expired_holds_everywhere` (the `purge-holds` command and
  the worker); until then they simply do not count.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.accounts.authz import ensure_acting_for, ensure_can_manage_restaurant
from api.accounts.models import User
from api.booking import allocation, availability, rules
from api.booking.models import HOLD_USER_UNIQUE_CONSTRAINT, Hold
from api.booking.slots import check_bookable, slot_from_local, zone_of
from api.db import LockSpace, advisory_xact_lock, atomic
from api.errors import Conflict, ErrorCode, Forbidden, NotFound, Unprocessable
from api.extensions import db
from api.restaurants import service as restaurants_service
from api.restaurants.models import DiningTable, Restaurant


@dataclass(frozen=True)
class DayAvailability:
    restaurant: Restaurant
    service_date: date
    party_size: int
    slots: list[availability.SlotAvailability]

    @property
    def deposit_per_person_cents(self) -> int:
        return self.restaurant.deposit_per_person_cents

    @property
    def total_deposit_cents(self) -> int:
        return self.restaurant.deposit_per_person_cents * self.party_size


@dataclass(frozen=True)
class HoldCreated:
    hold: Hold
    expires_in: int

    @property
    def total_deposit_cents(self) -> int:
        return self.hold.deposit_cents


def get_restaurant(restaurant_id: uuid.UUID | str) -> Restaurant:
    """The restaurant by our id or a registered external id (a Yelp id), or 404 RESTAURANT_NOT_FOUND."""
    restaurant = restaurants_service.find_restaurant(restaurant_id=restaurant_id)
    if restaurant is None:
        raise NotFound(ErrorCode.RESTAURANT_NOT_FOUND, "No such restaurant.")
    return restaurant


def check_party_size(restaurant: Restaurant, party_size: int) -> None:
    """Refuse a party the restaurant does not seat (422 BAD_GUESTS)."""
    if not restaurant.min_party_size <= party_size <= restaurant.max_party_size:
        raise Unprocessable(
            ErrorCode.BAD_GUESTS,
            f"Parties of {restaurant.min_party_size} to {restaurant.max_party_size} can book online.",
            details={"min": restaurant.min_party_size, "max": restaurant.max_party_size},
        )


def check_accepts_reservations(restaurant: Restaurant) -> None:
    if not restaurant.accepts_reservations:
        raise Unprocessable(ErrorCode.BAD_TIME, "This restaurant does not take reservations online.")


def day_availability(
    *, restaurant_id: uuid.UUID | str, service_date: date, party_size: int, now: datetime
) -> DayAvailability:
    """Each seating of a local day with the tables free for the party's whole stay (holds count).

    :raise 404 RESTAURANT_NOT_FOUND, 422 BAD_GUESTS:
    """
    restaurant = get_restaurant(restaurant_id)
    check_party_size(restaurant, party_size)
    if not restaurant.accepts_reservations:
        return DayAvailability(restaurant=restaurant, service_date=service_date, party_size=party_size, slots=[])
    slots = availability.for_day(restaurant=restaurant, service_date=service_date, party_size=party_size, now=now)
    horizon = now.astimezone(zone_of(restaurant)).date() + timedelta(days=restaurant.booking_horizon_days)
    if service_date > horizon:
        # Shown, so the app can draw the evening, but not bookable yet (a hold would be BAD_TIME).
        slots = [dataclasses.replace(s, available_tables=0) for s in slots]
    return DayAvailability(restaurant=restaurant, service_date=service_date, party_size=party_size, slots=slots)


def create_hold(
    *,
    actor: User,
    user_id: uuid.UUID | str | None,
    restaurant_id: uuid.UUID | str,
    service_date: date,
    wall_time: time,
    party_size: int,
    now: datetime,
) -> HoldCreated:
    """Claim the best table for the party for `HOLD_MINUTES` while the guest pays the deposit.

    :raise 403 USER_MISMATCH: `userId` is not the caller (and the caller is not staff).
    :raise 404 RESTAURANT_NOT_FOUND, USER_NOT_FOUND:
    :raise 409 ACTIVE_HOLD_EXISTS: the user already holds a table.
    :raise 409 DUPLICATE_BOOKING: the user has a live booking starting near this time (`rules`).
    :raise 409 FULLY_BOOKED, RACE_LOST: no table is free for the party's stay.
    :raise 422 BAD_TIME, BAD_GUESTS:
    :raise 503 LOCK_TIMEOUT:
    """
    guest_id = ensure_acting_for(user_id, actor)
    hold_minutes = current_app.config["SETTINGS"].hold_minutes
    with atomic():
        restaurant = get_restaurant(restaurant_id)
        guest = actor
        if guest_id != actor.id:
            ensure_can_manage_restaurant(actor, restaurant.id)
            guest = db.session.get(User, guest_id)
            if guest is None:
                raise NotFound(ErrorCode.USER_NOT_FOUND, "No such user.")
        check_accepts_reservations(restaurant)
        check_party_size(restaurant, party_size)
        slot = slot_from_local(service_date, wall_time, tz=zone_of(restaurant), slot_minutes=restaurant.slot_minutes)
        check_bookable(restaurant, slot, now=now)
        stay = allocation.Stay.for_party(restaurant, slot, party_size)

        # Lock order: guest, user, service day, then hold rows (the checkout takes the last two in
        # the same order, so they never deadlock). The guest and user locks make one user's
        # parallel requests queue, so the checks below see the winner's hold or booking.
        if not current_app.config["SETTINGS"].disable_allocation_lock:  # test-only negative control
            rules.lock_guest(guest.email)
            advisory_xact_lock(LockSpace.USER, guest_id)
        allocation.lock_service_day(restaurant, slot.service_date)
        # The user's own expired hold would trip the unique user_id; it frees nothing else.
        db.session.execute(delete(Hold).where(Hold.user_id == guest_id, Hold.expires_at <= now))
        existing = find_active_hold(user_id=guest_id, now=now)
        if existing is not None:
            raise _active_hold_exists(existing.id)
        rules.check_no_duplicate(email=guest.email, starts_at=stay.starts_at, now=now)
        allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
        table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=party_size, now=now)
        if table is None:
            raise Conflict(
                ErrorCode.FULLY_BOOKED,
                f"No table for {party_size} is free at {wall_time.strftime('%H:%M')}.",
                details={"date": service_date.isoformat(), "time": wall_time.strftime("%H:%M")},
            )
        hold = place_hold(
            restaurant=restaurant,
            table=table,
            user_id=guest_id,
            party_size=party_size,
            stay=stay,
            service_date=slot.service_date,
            now=now,
            minutes=hold_minutes,
        )
    return HoldCreated(hold=hold, expires_in=hold_minutes * 60)


def place_hold(
    *,
    restaurant: Restaurant,
    table: DiningTable,
    user_id: uuid.UUID,
    party_size: int,
    stay: allocation.Stay,
    service_date: date,
    now: datetime,
    minutes: int,
) -> Hold:
    """Insert a hold and its claim on a table picked under the service-day lock.

    :raise 409 ACTIVE_HOLD_EXISTS: the user holds a table already (the unique `user_id`).
    :raise 409 RACE_LOST: the claim overlaps another (the exclusion constraint).
    """
    hold = Hold(
        id=uuid.uuid4(),
        restaurant_id=restaurant.id,
        table_id=table.id,
        user_id=user_id,
        party_size=party_size,
        starts_at=stay.starts_at,
        ends_at=stay.ends_at,
        service_date=service_date,
        deposit_cents=restaurant.deposit_per_person_cents * party_size,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    try:
        with db.session.begin_nested():
            db.session.add(hold)
            db.session.flush()
    except IntegrityError as err:
        # Backstop for a caller that bypassed the user lock: the constraint still says no.
        if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == HOLD_USER_UNIQUE_CONSTRAINT:
            raise _active_hold_exists(None) from err
        raise
    allocation.insert_claims(
        restaurant_id=restaurant.id, table=table, stay=stay, hold_id=hold.id, expires_at=hold.expires_at
    )
    return hold


def _active_hold_exists(hold_id: uuid.UUID | None) -> Conflict:
    return Conflict(
        ErrorCode.ACTIVE_HOLD_EXISTS,
        "You already hold a table; confirm or let it expire first.",
        details={"holdId": str(hold_id)} if hold_id else {},
    )


def find_active_hold(*, user_id: uuid.UUID, now: datetime) -> Hold | None:
    """The user's unexpired hold, if any."""
    return db.session.scalar(select(Hold).where(Hold.user_id == user_id, Hold.expires_at > now))


def get_active_hold(*, actor: User, user_id: uuid.UUID | str | None, now: datetime) -> Hold:
    """The user's unexpired hold.

    :raise 403 USER_MISMATCH:
    :raise 404 NO_ACTIVE_HOLD: none, or the caller is staff of another restaurant.
    """
    guest_id = ensure_acting_for(user_id, actor)
    hold = find_active_hold(user_id=guest_id, now=now)
    if hold is None or (guest_id != actor.id and not _manages(actor, hold.restaurant_id)):
        raise NotFound(ErrorCode.NO_ACTIVE_HOLD, "There is no active hold.")
    return hold


def _manages(actor: User, restaurant_id: uuid.UUID) -> bool:
    try:
        ensure_can_manage_restaurant(actor, restaurant_id)
    except Forbidden:
        return False
    return True


def purge_expired_holds_everywhere(now: datetime) -> int:
    """Delete every expired hold (their claims cascade). The worker and `purge-holds` run this.

    No advisory lock is needed: an expired hold's claims stopped counting when it expired. Rows
    locked by a confirmation that is turning an expired hold into a reservation are skipped
    (SKIP LOCKED), so the purge never waits and never deadlocks; the next run gets the rest.
    """
    with atomic():
        expired = select(Hold.id).where(Hold.expires_at <= now).with_for_update(skip_locked=True)
        result = db.session.execute(delete(Hold).where(Hold.id.in_(expired)))
    return result.rowcount or 0
