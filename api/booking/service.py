"""The Café Fausse website's booking rules (seed 003) and the staff's view of a day.

- `create_reservation`: the time is read (an instant, or a wall time in the restaurant's
  zone), rounded *down* to its slot (19:12 -> 19:00), checked (open, not past, within the
  horizon), then one transaction, in one round trip (`reservations.book_best_table`), takes
  the service-day lock, purges expired holds, picks the best table *after* the lock, decides
  whether the booking waits for approval (primetime: `pending`), upserts the guest by email and
  claims the table. The unique constraint on `table_occupancies` is
  the backstop (RACE_LOST).
- `availability_at`: tables taken and free in the slot a time rounds to.
- `list_day_reservations` / `get_reservation`: what staff see.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from marshmallow import ValidationError, validate
from sqlalchemy import bindparam, func, select

from api import metrics
from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import Role, User
from api.booking import allocation, approvals, availability, cancellation, lifecycle, reservations, slots
from api.booking.models import Customer, Reservation, ReservationSource, ReservationStatus
from api.booking.notifications import RESERVATION_CONFIRMED
from api.db import atomic
from api.errors import Conflict, ErrorCode, NotFound, Unprocessable
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant
from api.schemas import pagination

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40

_is_email = validate.Email()


@dataclass(frozen=True)
class BookingRequest:
    """What the website's form sends. `time` is an aware instant, or a naive local wall time."""

    time: datetime
    guests: int
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class DayListFilters:
    """Optional narrowing of the day listing; `slot` is a local wall time or an instant."""

    email: str | None = None
    table: int | None = None
    slot: dt.time | datetime | None = None
    status: str | None = None


@dataclass(frozen=True)
class ReservationDetails:
    """One reservation as staff see it: the booking, its table and its guest."""

    id: uuid.UUID
    restaurant_id: uuid.UUID
    confirmation_code: str
    status: str
    source: str
    table_number: int
    party_size: int
    starts_at: datetime
    ends_at: datetime
    service_date: date
    name: str
    email: str
    phone: str
    special_requests: str
    created_at: datetime
    # Staff's view of the guest (tags, visits), filled by the guests domain's annotator (day listing).
    guest: dict[str, Any] | None = None


# Annotators a higher domain registers (guests: profile tags and visit counts on the day listing).
_day_list_annotators: list[Callable[[Restaurant, list[ReservationDetails]], list[ReservationDetails]]] = []


def register_day_list_annotator(
    annotator: Callable[[Restaurant, list[ReservationDetails]], list[ReservationDetails]],
) -> None:
    """Called once at start-up by a domain that adds to each item of the staff day listing."""
    if annotator not in _day_list_annotators:
        _day_list_annotators.append(annotator)


@dataclass(frozen=True)
class ReservationPage:
    items: list[ReservationDetails]
    pagination: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- restaurants


_RESTAURANT_BY_SLUG = select(Restaurant).where(Restaurant.slug == bindparam("slug"))


def default_restaurant() -> Restaurant:
    """The restaurant the website books at (`DEFAULT_RESTAURANT_SLUG`). :raise 404: RESTAURANT_NOT_FOUND.

    Read on every request (one indexed lookup): no process keeps a copy that a settings change
    made in another worker would leave stale.
    """
    slug = current_app.config["SETTINGS"].default_restaurant_slug
    restaurant = db.session.scalar(_RESTAURANT_BY_SLUG, {"slug": slug})
    if restaurant is None:
        raise NotFound(ErrorCode.RESTAURANT_NOT_FOUND, "The restaurant is not set up yet.", details={"slug": slug})
    return restaurant


def restaurant_for_staff(*, actor: User, restaurant_id: uuid.UUID | None) -> Restaurant:
    """The restaurant a staff listing is about (the default one unless named).

    :raise 403: FORBIDDEN when staff ask for another restaurant's day.
    :raise 404: RESTAURANT_NOT_FOUND.
    """
    if restaurant_id is None:
        restaurant = default_restaurant()
    else:
        restaurant = db.session.get(Restaurant, restaurant_id)
        if restaurant is None:
            raise NotFound(ErrorCode.RESTAURANT_NOT_FOUND, "No restaurant has this id.")
    ensure_can_manage_restaurant(actor, restaurant.id)
    return restaurant


# ---------------------------------------------------------------- time


def slot_for(restaurant: Restaurant, value: datetime) -> slots.Slot:
    """The slot a client's time means: instants as they are, naive times on the restaurant's wall clock,
    rounded down to the slot grid. :raise 422: BAD_TIME for a wall time the clocks skip (DST gap)."""
    tz = slots.zone_of(restaurant)
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            instant = slots.local_instant(value.date(), value.time(), tz)
            if instant is None:
                raise Unprocessable(
                    ErrorCode.BAD_TIME,
                    "This local time does not exist on that day (the clocks skip it).",
                    details={"time": value.isoformat(), "timeZone": restaurant.timezone},
                )
        else:
            instant = value
        return slots.round_to_slot(instant, tz=tz, slot_minutes=restaurant.slot_minutes)
    except OverflowError as err:  # year 1 or 9999 and an offset: not a time anyone can book
        raise Unprocessable(ErrorCode.BAD_TIME, "This time is out of range.") from err


def _bookable_slot(restaurant: Restaurant, value: datetime, now: datetime) -> slots.Slot:
    if not restaurant.accepts_reservations:
        # As the app flow answers (holds.check_accepts_reservations): no time is bookable.
        raise Unprocessable(ErrorCode.BAD_TIME, "This restaurant does not take reservations online.")
    slot = slot_for(restaurant, value)
    slots.check_bookable(restaurant, slot, now=now)
    return slot


# ---------------------------------------------------------------- guests


def _check_guests(restaurant: Restaurant, guests: int) -> None:
    if isinstance(guests, bool) or not isinstance(guests, int):
        raise Unprocessable(ErrorCode.BAD_GUESTS, "guests must be a whole number.")
    if not restaurant.min_party_size <= guests <= restaurant.max_party_size:
        raise Unprocessable(
            ErrorCode.BAD_GUESTS,
            f"We seat parties of {restaurant.min_party_size} to {restaurant.max_party_size} online.",
            details={"min": restaurant.min_party_size, "max": restaurant.max_party_size, "guests": guests},
        )


def normalise_email(email: str) -> str:
    """Lower-cased and stripped. :raise 422: BAD_EMAIL when it is not an address."""
    normalised = (email or "").strip().lower()
    try:
        if len(normalised) > MAX_EMAIL_LENGTH:
            raise ValidationError("too long")
        _is_email(normalised)
    except ValidationError as err:
        raise Unprocessable(ErrorCode.BAD_EMAIL, "This email address is not valid.") from err
    return normalised


def _guest_fields(booking: BookingRequest) -> tuple[str, str]:
    name = (booking.name or "").strip()
    phone = (booking.phone or "").strip()
    fields_in_error = {}
    if not name or len(name) > MAX_NAME_LENGTH:
        fields_in_error["name"] = [f"Give a name of 1 to {MAX_NAME_LENGTH} characters."]
    if len(phone) > MAX_PHONE_LENGTH:
        fields_in_error["phone"] = [f"At most {MAX_PHONE_LENGTH} characters."]
    if fields_in_error:
        raise Unprocessable(ErrorCode.VALIDATION_ERROR, "Some fields are invalid.", details={"fields": fields_in_error})
    return name, phone


# ---------------------------------------------------------------- use cases


def create_reservation(*, restaurant: Restaurant, booking: BookingRequest, now: datetime) -> Reservation:
    """Seat the party at the smallest free table in the slot its time rounds down to.

    Returns the reservation detached, with its columns and `table` loaded.

    :raise 422: BAD_TIME (unparsable, past, closed, beyond the horizon, skipped by DST),
        BAD_GUESTS (outside the restaurant's party limits), BAD_EMAIL, VALIDATION_ERROR (name, phone).
    :raise 409: FULLY_BOOKED (no free table seats the party), RACE_LOST (a claim collided).
    :raise 503: LOCK_TIMEOUT (the service day's queue did not move in time).
    """
    slot = _bookable_slot(restaurant, booking.time, now)
    _check_guests(restaurant, booking.guests)
    email = normalise_email(booking.email)
    name, phone = _guest_fields(booking)
    stay = allocation.Stay.for_party(restaurant, slot, booking.guests)
    with atomic():
        reservation = reservations.book_best_table(
            restaurant=restaurant,
            stay=stay,
            service_date=slot.service_date,
            party_size=booking.guests,
            guest=(email, name, phone),
            source=ReservationSource.WEB,
            message_kind=RESERVATION_CONFIRMED,
            now=now,
        )
        if reservation is None:
            raise Conflict(
                ErrorCode.FULLY_BOOKED,
                f"No table is free for {booking.guests} at this time.",
                details={"slot": slot.starts_at.isoformat(), "guests": booking.guests},
            )
        if reservation.status == ReservationStatus.PENDING:
            # Primetime: only these pay for the audit row (two statements); the rest stay one round trip.
            approvals.record_booking(reservation, actor=lifecycle.Actor("guest"), now=now)
    metrics.BOOKINGS_CREATED.labels(source=ReservationSource.WEB).inc()
    return reservation


def availability_at(*, restaurant: Restaurant, time: datetime, now: datetime) -> availability.InstantAvailability:
    """Tables taken and free in the slot `time` rounds down to, whatever the party size.

    :raise 422: BAD_TIME (past, closed, beyond the horizon, skipped by DST).
    """
    slot = _bookable_slot(restaurant, time, now)
    return availability.at_slot(restaurant=restaurant, slot=slot, now=now)


def _details_query():  # type: ignore[no-untyped-def]
    guest_name = func.coalesce(Customer.name, User.name, "")
    guest_email = func.coalesce(Customer.email, User.email, "")
    guest_phone = func.coalesce(func.nullif(Customer.phone, ""), User.phone, "")
    stmt = (
        select(
            Reservation.id,
            Reservation.restaurant_id,
            Reservation.confirmation_code,
            Reservation.status,
            Reservation.source,
            DiningTable.number.label("table_number"),
            Reservation.party_size,
            Reservation.starts_at,
            Reservation.ends_at,
            Reservation.service_date,
            guest_name.label("name"),
            guest_email.label("email"),
            guest_phone.label("phone"),
            Reservation.special_requests,
            Reservation.created_at,
        )
        .join(DiningTable, DiningTable.id == Reservation.table_id)
        .outerjoin(Customer, Customer.id == Reservation.customer_id)
        .outerjoin(User, User.id == Reservation.user_id)
    )
    return stmt, guest_email


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_day_reservations(
    *, restaurant: Restaurant, service_date: date, page: int, page_size: int, filters: DayListFilters
) -> ReservationPage:
    """A local day's reservations in time order (then table), one page at a time.

    Filters: email (case-insensitive substring), table number, slot (a local wall time on
    that day, or an instant rounded down to its slot), status.
    """
    stmt, guest_email = _details_query()
    stmt = stmt.where(Reservation.restaurant_id == restaurant.id, Reservation.service_date == service_date)
    if filters.email:
        stmt = stmt.where(guest_email.ilike(f"%{_escape_like(filters.email.strip().lower())}%", escape="\\"))
    if filters.table is not None:
        stmt = stmt.where(DiningTable.number == filters.table)
    if filters.slot is not None:
        starts_at = _slot_filter_instant(restaurant, service_date, filters.slot)
        if starts_at is None:
            return ReservationPage(items=[], pagination=pagination(page=page, page_size=page_size, total=0))
        stmt = stmt.where(Reservation.starts_at == starts_at)
    if filters.status:
        stmt = stmt.where(Reservation.status == filters.status)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(
        stmt.order_by(Reservation.starts_at, DiningTable.number, Reservation.created_at, Reservation.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    items = [ReservationDetails(**row._asdict()) for row in rows]
    for annotate in _day_list_annotators:
        items = annotate(restaurant, items)
    return ReservationPage(items=items, pagination=pagination(page=page, page_size=page_size, total=total))


def _slot_filter_instant(restaurant: Restaurant, service_date: date, value: dt.time | datetime) -> datetime | None:
    if isinstance(value, datetime):
        return slot_for(restaurant, value).starts_at
    return slots.local_instant(service_date, value, slots.zone_of(restaurant))


def read_reservation(
    *, reservation_id: uuid.UUID, actor: User, user_id: str | None
) -> ReservationDetails | Reservation:
    """Staff asking without a `userId` get their restaurant's view (`get_reservation`); anyone else,
    the app frontend's guest reads their own (`cancellation.get_guest_reservation`).

    :raise 403 USER_MISMATCH: :raise 404 RESERVATION_NOT_FOUND:
    """
    if user_id is None and actor.is_staff:
        return get_reservation(reservation_id=reservation_id, actor=actor)
    return cancellation.get_guest_reservation(actor=actor, reservation_id=reservation_id, user_id=user_id)


def get_reservation(*, reservation_id: uuid.UUID, actor: User) -> ReservationDetails:
    """One reservation for staff of its restaurant, or any admin.

    :raise 404: RESERVATION_NOT_FOUND (also for another restaurant's reservation, so ids cannot be probed).
    """
    stmt, _ = _details_query()
    row = db.session.execute(stmt.where(Reservation.id == reservation_id)).one_or_none()
    if row is None or (actor.role != Role.ADMIN and actor.restaurant_id != row.restaurant_id):
        raise NotFound(ErrorCode.RESERVATION_NOT_FOUND, "No reservation has this id.")
    return ReservationDetails(**row._asdict())
