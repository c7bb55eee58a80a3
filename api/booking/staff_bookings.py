"""Bookings staff enter for guests on the phone or at the door, and timed table blocks (seed 001).

Both take a table through the same locks (the service day, `allocation.lock_service_day`) and the
same exclusion constraint on `table_occupancies` as every guest booking.

- `create_staff_booking`: name and phone required, email optional (a guest without one is a
  customer row with a NULL email). Staff may choose the table, by id or number (409 TABLE_TAKEN
  when it is not free for the stay), or let best fit choose. A walk-in starts now and is seated at once
  (lifecycle SEAT). Source `staff`, audited with a `book` event. Staff decided: no primetime
  approval, no duplicate guard.
- `create_block`: a table out of service for `[start, end)` with a reason. It is refused with
  409 BOOKINGS_AFFECTED (the list in `details.bookings`) when bookings or holds already claim
  the table then, 409 TABLE_BLOCKED over another block. A block longer than a day is stored as
  one claim per day (a claim is at most a day long, `ck_table_occupancies_at_most_a_day`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from api import metrics
from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.booking import allocation, approvals, lifecycle, reservations, service, slots
from api.booking.models import (
    MAX_CLAIM,
    Customer,
    Hold,
    Reservation,
    ReservationSource,
    TableBlock,
    TableOccupancy,
)
from api.booking.notifications import RESERVATION_CONFIRMED
from api.db import atomic
from api.errors import Conflict, ErrorCode, NotFound, Unprocessable
from api.extensions import db
from api.outbox import service as outbox_service
from api.restaurants import service as restaurants_service
from api.restaurants.models import DiningTable, Restaurant

# The longest block: a table out for longer is better deactivated (PATCH the table's isActive).
MAX_BLOCK = timedelta(days=31)


@dataclass(frozen=True)
class StaffBooking:
    """What staff enter. `time` is an instant or the restaurant's wall clock; ignored for a walk-in."""

    name: str
    phone: str
    party_size: int
    time: datetime | None = None
    email: str | None = None
    table_id: uuid.UUID | None = None
    table_number: int | None = None
    walk_in: bool = False
    special_requests: str = ""


# --- staff-entered bookings ---------------------------------------------------------------------


def create_staff_booking(
    *, actor: User, restaurant_id: uuid.UUID | str, booking: StaffBooking, now: datetime
) -> service.ReservationDetails:
    """Book a phone or walk-in guest at the actor's restaurant; a walk-in is seated at once.

    :raise 403 FORBIDDEN: not staff of this restaurant. :raise 404 RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND:
    :raise 409 TABLE_TAKEN: the chosen table is not free for the stay. :raise 409 FULLY_BOOKED, RACE_LOST:
    :raise 422 BAD_TIME (no time, past, closed), BAD_GUESTS (more than the chosen table seats), BAD_EMAIL:
    :raise 503 LOCK_TIMEOUT:
    """
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    email = service.normalise_email(booking.email) if booking.email else None
    name, phone = booking.name.strip(), booking.phone.strip()
    if booking.walk_in:
        slot = slots.slot_at(now.replace(microsecond=0), slots.zone_of(restaurant))
    elif booking.time is None:
        raise Unprocessable(
            ErrorCode.BAD_TIME, "Give the booking's time (or walkIn: true).", details={"fields": {"time": ["Missing."]}}
        )
    else:
        slot = service.slot_for(restaurant, booking.time)
        slots.check_bookable(restaurant, slot, now=now)
    stay = allocation.Stay.for_party(restaurant, slot, booking.party_size)
    staff = lifecycle.Actor.of(actor)
    with atomic():
        allocation.lock_service_day(restaurant, slot.service_date)
        allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
        table = _chosen_or_best_table(restaurant, booking, stay, now)
        reservation = reservations.insert_reservation(
            restaurant=restaurant,
            table=table,
            stay=stay,
            service_date=slot.service_date,
            party_size=booking.party_size,
            source=ReservationSource.STAFF,
            customer_id=_guest(email=email, name=name, phone=phone),
            special_requests=booking.special_requests,
        )
        approvals.record_booking(reservation, actor=staff, now=now)
        if booking.walk_in:
            lifecycle.apply(reservation, lifecycle.Action.SEAT, actor=staff, now=now, reason="walk-in")
        elif email:
            outbox_service.enqueue(RESERVATION_CONFIRMED, reservation_id=reservation.id)
        reservation_id = reservation.id
    metrics.BOOKINGS_CREATED.labels(source=ReservationSource.STAFF).inc()
    return service.get_reservation(reservation_id=reservation_id, actor=actor)


def _chosen_or_best_table(
    restaurant: Restaurant, booking: StaffBooking, stay: allocation.Stay, now: datetime
) -> DiningTable:
    if booking.table_id is None and booking.table_number is None:
        table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=booking.party_size, now=now)
        if table is None:
            raise Conflict(
                ErrorCode.FULLY_BOOKED,
                f"No table is free for {booking.party_size} at this time.",
                details={"slot": stay.starts_at.isoformat(), "guests": booking.party_size},
            )
        return table
    table = _table_of(restaurant, booking.table_id, number=booking.table_number)
    if not table.is_active:
        raise NotFound(ErrorCode.TABLE_NOT_FOUND, "This table is not in service.", details={"number": table.number})
    if booking.party_size > table.max_seats:
        raise Unprocessable(
            ErrorCode.BAD_GUESTS,
            f"Table {table.number} seats at most {table.max_seats}.",
            details={"maxSeats": table.max_seats, "guests": booking.party_size},
        )
    if _claims_on(table.id, stay.starts_at, stay.ends_at, now):
        raise Conflict(
            ErrorCode.TABLE_TAKEN,
            f"Table {table.number} is not free for this stay.",
            details={"tableNumber": table.number, "startsAt": stay.starts_at.isoformat()},
        )
    return table  # the exclusion constraint still decides (RACE_LOST) if anything slipped past the lock


def _guest(*, email: str | None, name: str, phone: str) -> uuid.UUID:
    """The guest's customer row: upserted by email when there is one, else a new row without email."""
    if email is None:
        customer = Customer(email=None, name=name, phone=phone)
        db.session.add(customer)
        db.session.flush()
        return customer.id
    return db.session.execute(
        pg_insert(Customer)
        .values(id=uuid.uuid4(), email=email, name=name, phone=phone)
        .on_conflict_do_update(index_elements=[Customer.email], set_={"name": name, "phone": phone})
        .returning(Customer.id)
    ).scalar_one()


# --- table blocks -------------------------------------------------------------------------------


def list_blocks(
    *, actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str, now: datetime
) -> list[TableBlock]:
    """The table's blocks that have not ended yet, soonest first. :raise 403/404:"""
    table = _managed_table(actor, restaurant_id, table_id)
    return list(
        db.session.scalars(
            select(TableBlock)
            .where(TableBlock.table_id == table.id, TableBlock.ends_at > now)
            .order_by(TableBlock.starts_at, TableBlock.id)
        )
    )


def create_block(
    *,
    actor: User,
    restaurant_id: uuid.UUID | str,
    table_id: uuid.UUID | str,
    start: datetime,
    end: datetime,
    reason: str,
    now: datetime,
) -> TableBlock:
    """Take the table out of service for `[start, end)` (instants, or the restaurant's wall clock).

    Every service day a booking overlapping the block could belong to is locked (sorted), so a
    booking in flight has committed before the check; the exclusion constraint is the backstop.

    :raise 403 FORBIDDEN: :raise 404 RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND:
    :raise 409 BOOKINGS_AFFECTED: bookings or holds claim the table then (details.bookings lists them).
    :raise 409 TABLE_BLOCKED: another block overlaps. :raise 409 RACE_LOST:
    :raise 422 BAD_TIME: end not after start, already over, longer than 31 days, or a skipped wall time.
    """
    table = _managed_table(actor, restaurant_id, table_id)
    restaurant = table.restaurant
    tz = slots.zone_of(restaurant)
    starts_at, ends_at = _instant(start, tz), _instant(end, tz)
    if ends_at <= starts_at or ends_at <= now or ends_at - starts_at > MAX_BLOCK:
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "A block ends after it starts, has not ended yet, and lasts at most 31 days.",
            details={"start": starts_at.isoformat(), "end": ends_at.isoformat()},
        )
    with atomic():
        first = (starts_at - MAX_CLAIM).astimezone(tz).date()
        last = ends_at.astimezone(tz).date()
        for day in _days(first, last):
            allocation.lock_service_day(restaurant, day)
        allocation.purge_expired_holds(restaurant_id=restaurant.id, now=now)
        _refuse_overlaps(table, starts_at, ends_at, now)
        block = TableBlock(
            id=uuid.uuid4(),
            restaurant_id=restaurant.id,
            table_id=table.id,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=actor.id,
        )
        db.session.add(block)
        db.session.flush()
        piece_start = starts_at
        while piece_start < ends_at:
            piece_end = min(ends_at, piece_start + MAX_CLAIM)
            allocation.insert_claims(
                restaurant_id=restaurant.id,
                table=table,
                stay=allocation.Stay(piece_start, piece_end),
                block_id=block.id,
            )
            piece_start = piece_end
    return block


def delete_block(
    *, actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str, block_id: uuid.UUID | str
) -> None:
    """Lift a block: its claims go with it and the table is bookable again at once.

    :raise 403 FORBIDDEN: :raise 404 RESTAURANT_NOT_FOUND, TABLE_NOT_FOUND, BLOCK_NOT_FOUND:
    """
    parsed = restaurants_service.parse_id(block_id)
    with atomic():
        table = _managed_table(actor, restaurant_id, table_id)
        deleted = 0
        if parsed is not None:
            deleted = (
                db.session.execute(
                    delete(TableBlock).where(TableBlock.id == parsed, TableBlock.table_id == table.id)
                ).rowcount
                or 0
            )
        if not deleted:
            raise NotFound(ErrorCode.BLOCK_NOT_FOUND, "This table has no block with this id.")


def _refuse_overlaps(table: DiningTable, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    claims = _claims_on(table.id, starts_at, ends_at, now)
    reservation_ids = [c.reservation_id for c in claims if c.reservation_id is not None]
    hold_ids = [c.hold_id for c in claims if c.hold_id is not None]
    if reservation_ids or hold_ids:
        affected: list[dict[str, Any]] = [
            _describe(r)
            for r in db.session.scalars(
                select(Reservation).where(Reservation.id.in_(reservation_ids)).order_by(Reservation.starts_at)
            )
        ]
        affected += [
            {
                "id": str(h.id),
                "confirmationCode": None,
                "startsAt": h.starts_at.isoformat(),
                "date": h.service_date.isoformat(),
                "partySize": h.party_size,
                "status": "held",
            }
            for h in db.session.scalars(select(Hold).where(Hold.id.in_(hold_ids)).order_by(Hold.starts_at))
        ]
        raise Conflict(
            ErrorCode.BOOKINGS_AFFECTED,
            f"{len(affected)} booking(s) hold table {table.number} then; move or cancel them first.",
            details={"bookings": affected},
        )
    blocks = sorted({str(c.block_id) for c in claims if c.block_id is not None})
    if blocks:
        raise Conflict(
            ErrorCode.TABLE_BLOCKED,
            f"Table {table.number} is already blocked during this time.",
            details={"blockIds": blocks},
        )


def _describe(reservation: Reservation) -> dict[str, Any]:
    """As BOOKINGS_AFFECTED lists bookings everywhere (api/booking/schedule_guard.py)."""
    return {
        "id": str(reservation.id),
        "confirmationCode": reservation.confirmation_code,
        "startsAt": reservation.starts_at.isoformat(),
        "date": reservation.service_date.isoformat(),
        "partySize": reservation.party_size,
        "status": reservation.status,
    }


# --- shared -------------------------------------------------------------------------------------


def _claims_on(table_id: uuid.UUID, starts_at: datetime, ends_at: datetime, now: datetime) -> list[TableOccupancy]:
    """Live claims on one table overlapping `[starts_at, ends_at)`."""
    return list(
        db.session.scalars(
            select(TableOccupancy).where(
                TableOccupancy.table_id == table_id,
                TableOccupancy.starts_at > starts_at - MAX_CLAIM,
                TableOccupancy.starts_at < ends_at,
                TableOccupancy.ends_at > starts_at,
                allocation.live_claim(now),
            )
        )
    )


def _managed_table(actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str) -> DiningTable:
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return _table_of(restaurant, table_id)


def _table_of(restaurant: Restaurant, table_id: uuid.UUID | str | None, *, number: int | None = None) -> DiningTable:
    """The restaurant's table by id, or by number. :raise 404 TABLE_NOT_FOUND:"""
    parsed = restaurants_service.parse_id(table_id) if table_id is not None else None
    table = None
    if parsed is not None or number is not None:
        by = DiningTable.id == parsed if parsed is not None else DiningTable.number == number
        table = db.session.scalar(select(DiningTable).where(by, DiningTable.restaurant_id == restaurant.id))
    if table is None:
        raise NotFound(ErrorCode.TABLE_NOT_FOUND, "This restaurant has no table with this id.")
    return table


def _instant(value: datetime, tz: Any) -> datetime:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    instant = slots.local_instant(value.date(), value.time(), tz)
    if instant is None:
        raise Unprocessable(
            ErrorCode.BAD_TIME,
            "This local time does not exist on that day (the clocks skip it).",
            details={"time": value.isoformat()},
        )
    return instant


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
