"""Guest profiles per restaurant, built from the bookings: one guest is one email (lower-case);
bookings under another email with a phone the guest booked with count too (the detail view).

- visits: seated or completed bookings; no-shows; late cancellations: cancelled less than
  LATE_CANCEL_HOURS before the booked start (or after it);
- staff notes and tags (allergies, VIP, regular, ...) live in `guest_profiles`, written by PATCH;
  `regular` is also given automatically from REGULAR_VISITS visits on.

A guest's id is their email in URL-safe base64 (no padding): stable, and no row is needed until
staff write a note.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, any_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.booking import service as booking_service
from api.booking.models import Customer, Reservation, ReservationStatus
from api.db import atomic
from api.errors import ErrorCode, NotFound
from api.extensions import db
from api.guests.models import GuestProfile
from api.restaurants import service as restaurants_service
from api.restaurants.models import Restaurant
from api.schemas import pagination

LATE_CANCEL_HOURS = 24
REGULAR_VISITS = 3
RECENT_BOOKINGS = 10


def guest_id_for(email: str) -> str:
    return base64.urlsafe_b64encode(email.lower().encode()).decode().rstrip("=")


def email_for(guest_id: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(guest_id + "=" * (-len(guest_id) % 4))
        email = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return email if "@" in email and email == email.lower() and len(email) <= 254 and "\x00" not in email else None


def _guest_columns() -> tuple[Any, Any, Any]:
    email = func.lower(func.coalesce(Customer.email, User.email))
    name = func.coalesce(Customer.name, User.name, "")
    phone = func.coalesce(func.nullif(Customer.phone, ""), User.phone, "")
    return email, name, phone


def _joined(stmt: Any) -> Any:
    return (
        stmt.select_from(Reservation)
        .outerjoin(Customer, Customer.id == Reservation.customer_id)
        .outerjoin(User, User.id == Reservation.user_id)
    )


_VISIT = Reservation.status.in_([ReservationStatus.SEATED, ReservationStatus.COMPLETED])
_NO_SHOW = Reservation.status == ReservationStatus.NO_SHOW
_LATE_CANCEL = and_(
    Reservation.status == ReservationStatus.CANCELLED,
    Reservation.cancelled_at > Reservation.starts_at - func.make_interval(0, 0, 0, 0, LATE_CANCEL_HOURS),
)


def _counts() -> list[Any]:
    return [
        func.count().label("bookings"),
        func.count().filter(_VISIT).label("visits"),
        func.count().filter(_NO_SHOW).label("no_shows"),
        func.count().filter(_LATE_CANCEL).label("late_cancellations"),
        func.min(Reservation.starts_at).filter(_VISIT).label("first_visit"),
        func.max(Reservation.starts_at).filter(_VISIT).label("last_visit"),
    ]


def _tags(stored: list[str] | None, visits: int) -> list[str]:
    tags = list(stored or [])
    if visits >= REGULAR_VISITS and "regular" not in tags:
        tags.append("regular")
    return tags


@dataclass(frozen=True)
class GuestPage:
    items: list[dict[str, Any]]
    pagination: dict[str, Any]


def list_guests(
    *,
    actor: User,
    restaurant_id: uuid.UUID | str,
    q: str | None,
    tag: str | None,
    page: int,
    page_size: int,
) -> GuestPage:
    """The restaurant's guests (anyone who booked), most visits first; `q` searches email, name and
    phone, `tag` keeps guests with that stored tag. :raise 404/403."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    email, name, phone = _guest_columns()
    grouped = (
        _joined(
            select(
                email.label("email"),
                func.max(name).label("name"),
                func.max(phone).label("phone"),
                *_counts(),
            )
        )
        .where(Reservation.restaurant_id == restaurant.id)
        .group_by(email)
    )
    if q:
        pattern = f"%{_escape_like(q.strip().lower())}%"
        grouped = grouped.having(
            or_(
                email.like(pattern, escape="\\"),
                func.lower(func.max(name)).like(pattern, escape="\\"),
                func.max(phone).like(pattern, escape="\\"),
            )
        )
    sub = grouped.subquery()
    stmt = select(sub, GuestProfile.tags, GuestProfile.notes).outerjoin(
        GuestProfile, and_(GuestProfile.restaurant_id == restaurant.id, GuestProfile.email == sub.c.email)
    )
    if tag:
        stmt = stmt.where(literal(tag.strip().lower()) == any_(GuestProfile.tags))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(
        stmt.order_by(sub.c.visits.desc(), sub.c.email).offset((page - 1) * page_size).limit(page_size)
    )
    return GuestPage(
        items=[_summary(row) for row in rows], pagination=pagination(page=page, page_size=page_size, total=total)
    )


def _summary(row: Any) -> dict[str, Any]:
    return {
        "guest_id": guest_id_for(row.email),
        "email": row.email,
        "name": row.name,
        "phone": row.phone,
        "bookings": row.bookings,
        "visits": row.visits,
        "no_shows": row.no_shows,
        "late_cancellations": row.late_cancellations,
        "first_visit": row.first_visit,
        "last_visit": row.last_visit,
        "tags": _tags(row.tags, row.visits),
        "notes": row.notes or "",
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _guest_filter(restaurant: Restaurant, guest_email: str) -> Any:
    """Bookings of the guest: under their email, or under a phone they booked with."""
    email, _, phone = _guest_columns()
    phones = _joined(select(phone)).where(Reservation.restaurant_id == restaurant.id, email == guest_email, phone != "")
    return or_(email == guest_email, and_(phone != "", phone.in_(phones.scalar_subquery())))


def get_guest(*, actor: User, restaurant_id: uuid.UUID | str, guest_id: str) -> dict[str, Any]:
    """A guest's profile: counts, notes, tags and latest bookings. :raise 404: GUEST_NOT_FOUND (never
    booked here, or a malformed id), RESTAURANT_NOT_FOUND. :raise 403: FORBIDDEN."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return _profile(restaurant, _guest_email(restaurant, guest_id))


def _guest_email(restaurant: Restaurant, guest_id: str) -> str:
    guest_email = email_for(guest_id)
    email, _, _ = _guest_columns()
    if guest_email is None or not db.session.scalar(
        select(
            _joined(select(literal(1))).where(Reservation.restaurant_id == restaurant.id, email == guest_email).exists()
        )
    ):
        raise NotFound(ErrorCode.GUEST_NOT_FOUND, "No guest with this id booked here.")
    return guest_email


def _profile(restaurant: Restaurant, guest_email: str) -> dict[str, Any]:
    email, name, phone = _guest_columns()
    where = (Reservation.restaurant_id == restaurant.id, _guest_filter(restaurant, guest_email))
    counts = db.session.execute(_joined(select(*_counts())).where(*where)).one()
    recent = db.session.execute(
        _joined(
            select(
                Reservation.id,
                Reservation.confirmation_code,
                Reservation.status,
                Reservation.party_size,
                Reservation.starts_at,
                email.label("email"),
                name.label("name"),
                phone.label("phone"),
            )
        )
        .where(*where)
        .order_by(Reservation.starts_at.desc())
        .limit(RECENT_BOOKINGS)
    ).all()
    own = next((row for row in recent if row.email == guest_email), recent[0] if recent else None)
    profile = db.session.scalar(
        select(GuestProfile).where(GuestProfile.restaurant_id == restaurant.id, GuestProfile.email == guest_email)
    )
    return {
        "guest_id": guest_id_for(guest_email),
        "email": guest_email,
        "name": own.name if own else "",
        "phone": own.phone if own else "",
        "bookings": counts.bookings,
        "visits": counts.visits,
        "no_shows": counts.no_shows,
        "late_cancellations": counts.late_cancellations,
        "first_visit": counts.first_visit,
        "last_visit": counts.last_visit,
        "tags": _tags(profile.tags if profile else [], counts.visits),
        "notes": profile.notes if profile else "",
        "updated_at": profile.updated_at if profile else None,
        "recent_bookings": [
            {
                "reservation_id": row.id,
                "confirmation_code": row.confirmation_code,
                "status": row.status,
                "party_size": row.party_size,
                "starts_at": row.starts_at,
            }
            for row in recent
        ],
    }


def update_guest(
    *, actor: User, restaurant_id: uuid.UUID | str, guest_id: str, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Set staff notes and/or tags on a guest (tags lower-case, each once). :raise 404: GUEST_NOT_FOUND."""
    with atomic():
        restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
        ensure_can_manage_restaurant(actor, restaurant.id)
        guest_email = _guest_email(restaurant, guest_id)
        values: dict[str, Any] = {"updated_by": actor.id, "updated_at": now}
        if "notes" in changes:
            values["notes"] = changes["notes"]
        if "tags" in changes:
            values["tags"] = list(dict.fromkeys(t.strip().lower() for t in changes["tags"]))
        db.session.execute(
            insert(GuestProfile)
            .values(
                id=uuid.uuid4(),
                restaurant_id=restaurant.id,
                email=guest_email,
                **{"notes": "", "tags": [], **values},
            )
            .on_conflict_do_update(index_elements=["restaurant_id", "email"], set_=values)
        )
        result = _profile(restaurant, guest_email)
    return result


def annotate_day_list(
    restaurant: Restaurant, items: list[booking_service.ReservationDetails]
) -> list[booking_service.ReservationDetails]:
    """Each item of the staff day listing gets its guest: id, tags and the counts of bookings under
    the item's email (one query for the page; the profile also counts bookings under a shared phone)."""
    emails = sorted({item.email.lower() for item in items if item.email})
    if not emails:
        return items
    email, _, _ = _guest_columns()
    rows = db.session.execute(
        _joined(select(email.label("email"), *_counts()))
        .where(Reservation.restaurant_id == restaurant.id, email.in_(emails))
        .group_by(email)
    ).all()
    counts = {row.email: row for row in rows}
    profiles = {
        p.email: p
        for p in db.session.scalars(
            select(GuestProfile).where(GuestProfile.restaurant_id == restaurant.id, GuestProfile.email.in_(emails))
        )
    }
    annotated = []
    for item in items:
        key = item.email.lower()
        row, profile = counts.get(key), profiles.get(key)
        visits = row.visits if row else 0
        guest = {
            "guest_id": guest_id_for(key),
            "tags": _tags(profile.tags if profile else [], visits),
            "visits": visits,
            "no_shows": row.no_shows if row else 0,
            "late_cancellations": row.late_cancellations if row else 0,
            "has_notes": bool(profile and profile.notes),
        }
        annotated.append(booking_service.ReservationDetails(**{**item.__dict__, "guest": guest}))
    return annotated


def register() -> None:
    booking_service.register_day_list_annotator(annotate_day_list)
