"""Catalogue rules: finding restaurants, and staff editing a restaurant, its tables, hours and closures.

Staff manage only their own restaurant, admins every one (`ensure_can_manage_restaurant`);
validation that spans fields (time zone, party limits, coordinates) is checked on the merged
state so a PATCH of one field cannot break another. The database CHECKs are the backstop.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import ARRAY, String, cast, delete, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import Role, User
from api.db import Base, atomic
from api.errors import Conflict, ErrorCode, Forbidden, NotFound, Unprocessable
from api.extensions import db
from api.restaurants import bookings_guard
from api.restaurants.models import (
    EXTERNAL_ID_UNIQUE_CONSTRAINT,
    WEEKDAYS,
    DiningTable,
    ExternalId,
    OpeningHours,
    PrimetimeWindow,
    Restaurant,
    SpecialHours,
)

SLUG_UNIQUE_CONSTRAINT = "uq_restaurants_slug"
TABLE_NUMBER_UNIQUE_CONSTRAINT = "uq_dining_tables_restaurant_id_number"
CLOSURE_DATE_UNIQUE_CONSTRAINT = "uq_special_hours_restaurant_id_service_date"

# Columns a create or edit may set (the schemas produce exactly these names).
EDITABLE_COLUMNS = frozenset(
    {
        "name",
        "slug",
        "description",
        "cuisines",
        "price_range",
        "rating",
        "review_count",
        "images",
        "features",
        "address",
        "city",
        "state",
        "zip_code",
        "latitude",
        "longitude",
        "accepts_reservations",
        "deposit_per_person_cents",
        "min_party_size",
        "max_party_size",
        "timezone",
        "slot_minutes",
        "default_duration_minutes",
        "durations_by_party",
        "booking_horizon_days",
        "min_lead_minutes",
        "refund_policy",
        "currency",
        "phone",
        "email",
        "send_confirmation_emails",
    }
)


@dataclass(frozen=True)
class RestaurantPage:
    items: list[Restaurant]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class TableRemoval:
    outcome: str  # "deleted" | "deactivated"
    table: DiningTable


# ---------------------------------------------------------------- reading


def parse_id(value: uuid.UUID | str) -> uuid.UUID | None:
    """A UUID from a path segment, or None when it is not one (callers answer 404)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def resolve_restaurant_id(value: uuid.UUID | str) -> uuid.UUID | None:
    """Our id for `value`: our UUID as it is, else the restaurant registered under that external id
    (a Yelp business id the app frontend sends), else None. Not a lookup of the UUID itself."""
    parsed = parse_id(value)
    if parsed is not None or not isinstance(value, str) or not _storable_external_id(value):
        return parsed
    return db.session.scalar(
        select(ExternalId.restaurant_id).where(ExternalId.external_id == value).order_by(ExternalId.platform).limit(1)
    )


def _storable_external_id(value: str) -> bool:
    """Whether `value` could be a stored external id (a path may carry NUL or lone surrogates, which SQL refuses)."""
    if not 0 < len(value) <= 200 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_restaurant(*, restaurant_id: uuid.UUID | str, for_update: bool = False) -> Restaurant | None:
    """The restaurant with this id or external id, or None (also for a malformed id)."""
    parsed = resolve_restaurant_id(restaurant_id)
    if parsed is None:
        return None
    stmt = select(Restaurant).where(Restaurant.id == parsed)
    if for_update:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def get_restaurant(*, restaurant_id: uuid.UUID | str, for_update: bool = False) -> Restaurant:
    """The restaurant with this id or external id. :raise 404: RESTAURANT_NOT_FOUND (unknown or malformed id)."""
    restaurant = find_restaurant(restaurant_id=restaurant_id, for_update=for_update)
    if restaurant is None:
        raise NotFound(ErrorCode.RESTAURANT_NOT_FOUND, "No restaurant has this id.")
    return restaurant


def get_restaurant_details(*, restaurant_id: uuid.UUID | str) -> Restaurant:
    """The restaurant with its opening hours loaded. :raise 404: RESTAURANT_NOT_FOUND."""
    parsed = resolve_restaurant_id(restaurant_id)
    restaurant = None
    if parsed is not None:
        restaurant = db.session.scalar(
            select(Restaurant).where(Restaurant.id == parsed).options(selectinload(Restaurant.opening_hours))
        )
    if restaurant is None:
        raise NotFound(ErrorCode.RESTAURANT_NOT_FOUND, "No restaurant has this id.")
    return restaurant


def find_restaurant_by_slug(*, slug: str) -> Restaurant | None:
    """The restaurant with this slug (the website's `DEFAULT_RESTAURANT_SLUG`), or None."""
    return db.session.scalar(select(Restaurant).where(Restaurant.slug == slug))


@dataclass(frozen=True)
class PublicSchedule:
    """What a guest may know of when a restaurant seats: its zone, its clock now, its week and closures."""

    restaurant: Restaurant
    local_now: datetime
    closures: list[SpecialHours]

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def last_bookable_date(self) -> date:
        return self.today + timedelta(days=self.restaurant.booking_horizon_days)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.restaurant, name)  # name, timezone, party limits, weekly hours for the schema


def get_public_schedule(*, restaurant_id: uuid.UUID | str, now: datetime) -> PublicSchedule:
    """The restaurant's public hours: time zone, local clock, weekly periods and the closures within
    its booking horizon (their staff-written reasons stay private). :raise 404: RESTAURANT_NOT_FOUND."""
    restaurant = get_restaurant_details(restaurant_id=restaurant_id)
    local_now = now.astimezone(zoneinfo.ZoneInfo(restaurant.timezone))
    horizon = local_now.date() + timedelta(days=restaurant.booking_horizon_days)
    closures = db.session.scalars(
        select(SpecialHours)
        .where(
            SpecialHours.restaurant_id == restaurant.id,
            SpecialHours.service_date >= local_now.date(),
            SpecialHours.service_date <= horizon,
        )
        .order_by(SpecialHours.service_date)
    )
    return PublicSchedule(restaurant=restaurant, local_now=local_now, closures=list(closures))


def list_restaurants(
    *,
    page: int,
    page_size: int,
    cuisines: list[str] | None = None,
    price_ranges: list[int] | None = None,
    city: str | None = None,
    q: str | None = None,
) -> RestaurantPage:
    """One page of the catalogue, by name then id. Filters combine with AND; list values with OR."""
    stmt = select(Restaurant)
    if cuisines:
        # `&&` against the column's own array type, so ix_restaurants_cuisines (GIN) applies.
        wanted = cast(literal(list(cuisines), ARRAY(String)), ARRAY(String(60)))
        stmt = stmt.where(Restaurant.cuisines.op("&&")(wanted))
    if price_ranges:
        stmt = stmt.where(Restaurant.price_range.in_(price_ranges))
    if city:
        stmt = stmt.where(func.lower(Restaurant.city) == city.strip().lower())
    if q:
        stmt = stmt.where(Restaurant.name.ilike(f"%{_escape_like(q.strip())}%", escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(
        db.session.scalars(
            stmt.order_by(Restaurant.name, Restaurant.id).offset((page - 1) * page_size).limit(page_size)
        )
    )
    return RestaurantPage(items=items, total=total, page=page, page_size=page_size)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------- creating and editing


def create_restaurant(*, actor: User, data: dict[str, Any]) -> Restaurant:
    """Add a restaurant (admin only).

    :raise 403: FORBIDDEN. :raise 422: VALIDATION_ERROR. :raise 409: RESTAURANT_SLUG_TAKEN.
    """
    if actor.role != Role.ADMIN:
        raise Forbidden(ErrorCode.FORBIDDEN, "Only an admin adds restaurants.")
    settings = current_app.config["SETTINGS"]
    values = {
        "timezone": "America/New_York",
        "slot_minutes": settings.slot_minutes,
        "default_duration_minutes": 90,
        "durations_by_party": [],
        "min_party_size": 1,
        "max_party_size": 12,
        "booking_horizon_days": 60,
        "min_lead_minutes": 0,
        "deposit_per_person_cents": 0,
        "currency": "usd",
        "accepts_reservations": True,
        "price_range": 2,
        "rating": 0.0,
        "review_count": 0,
        "latitude": None,
        "longitude": None,
        **{k: v for k, v in data.items() if k in EDITABLE_COLUMNS},
    }
    restaurant = Restaurant(**values)
    _apply_external_ids(restaurant, data.get("external_ids") or {})
    _check_restaurant(restaurant)
    with atomic():
        if not restaurant.slug:
            restaurant.slug = _free_slug(restaurant.name)
        db.session.add(restaurant)
        _flush_restaurant(restaurant)
    return restaurant


def update_restaurant(
    *, actor: User, restaurant_id: uuid.UUID | str, changes: dict[str, Any], now: datetime
) -> Restaurant:
    """Edit a restaurant (admin, or staff of it). Slot length and turn times may change while
    bookings exist (they keep their exact times); the time zone may not. `external_ids` sets the
    platforms given (a null value removes one) and keeps the others.

    :raise 404/403/422/409: RESTAURANT_NOT_FOUND, FORBIDDEN, VALIDATION_ERROR, RESTAURANT_SLUG_TAKEN,
        EXTERNAL_ID_TAKEN, BOOKINGS_AFFECTED (a time zone change with future bookings).
    """
    with atomic():
        restaurant = get_restaurant(restaurant_id=restaurant_id, for_update=True)
        ensure_can_manage_restaurant(actor, restaurant.id)
        old_time_zone = restaurant.timezone
        for key, value in changes.items():
            if key in EDITABLE_COLUMNS:
                setattr(restaurant, key, value)
        _apply_external_ids(restaurant, changes.get("external_ids") or {})
        _check_restaurant(restaurant)
        _flush_restaurant(restaurant)
        if restaurant.timezone != old_time_zone:
            bookings_guard.guard_time_zone_change(restaurant=restaurant, now=now)
    return restaurant


def _apply_external_ids(restaurant: Restaurant, external_ids: dict[str, str | None]) -> None:
    if not external_ids:
        return
    with db.session.no_autoflush:  # the merged state is checked before anything is written
        rows = {row.platform: row for row in restaurant.external_id_rows}
    for platform, value in external_ids.items():
        row = rows.get(platform)
        if value is None:
            if row is not None:
                restaurant.external_id_rows.remove(row)
        elif row is not None:
            row.external_id = value
        else:
            restaurant.external_id_rows.append(ExternalId(platform=platform, external_id=value))


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def _check_restaurant(restaurant: Restaurant) -> None:
    """Rules that span fields, on the state about to be saved."""
    errors: dict[str, dict[str, list[str]]] = {}
    if restaurant.timezone not in time_zones():
        errors.setdefault("settings", {})["timeZone"] = ["Not an IANA time zone (e.g. America/New_York)."]
    if restaurant.min_party_size > restaurant.max_party_size:
        errors.setdefault("reservationInfo", {})["maximumPartySize"] = ["Must be at least minimumPartySize."]
    if (restaurant.latitude is None) != (restaurant.longitude is None):
        errors.setdefault("location", {})["longitude"] = ["Give latitude and longitude together."]
    limits = [int(rule["maxParty"]) for rule in restaurant.durations_by_party or []]
    if len(set(limits)) != len(limits):
        errors.setdefault("settings", {})["durationsByParty"] = ["Each maxParty may appear once."]
    if errors:
        raise Unprocessable(ErrorCode.VALIDATION_ERROR, "Some fields are invalid.", details={"fields": errors})


def _flush_restaurant(restaurant: Restaurant) -> None:
    # Read before flushing: a failed flush rolls back and expires an edited (persistent) restaurant,
    # and touching its attributes then raises PendingRollbackError.
    slug = restaurant.slug
    with db.session.no_autoflush:
        external_ids = {row.platform: row.external_id for row in restaurant.external_id_rows}
    try:
        db.session.flush()
    except IntegrityError as err:
        constraint = getattr(err.orig.diag, "constraint_name", None)
        if constraint == SLUG_UNIQUE_CONSTRAINT:
            raise Conflict(
                ErrorCode.RESTAURANT_SLUG_TAKEN, "Another restaurant uses this slug.", details={"slug": slug}
            ) from err
        if constraint == EXTERNAL_ID_UNIQUE_CONSTRAINT:
            raise Conflict(
                ErrorCode.EXTERNAL_ID_TAKEN,
                "Another restaurant is registered under this external id.",
                details={"externalIds": external_ids},
            ) from err
        raise


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:70] or "restaurant"


def _free_slug(name: str) -> str:
    """The name's slug, with -2, -3, ... when another restaurant has it already."""
    base = slugify(name)
    taken = set(db.session.scalars(select(Restaurant.slug).where(Restaurant.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _managed_restaurant(actor: User, restaurant_id: uuid.UUID | str, for_update: bool = False) -> Restaurant:
    restaurant = get_restaurant(restaurant_id=restaurant_id, for_update=for_update)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return restaurant


# ---------------------------------------------------------------- tables


def list_tables(*, actor: User, restaurant_id: uuid.UUID | str) -> list[DiningTable]:
    """Every table of the restaurant, inactive ones included, by number. :raise 404/403."""
    restaurant = _managed_restaurant(actor, restaurant_id)
    return list(
        db.session.scalars(
            select(DiningTable).where(DiningTable.restaurant_id == restaurant.id).order_by(DiningTable.number)
        )
    )


def create_table(*, actor: User, restaurant_id: uuid.UUID | str, data: dict[str, Any]) -> DiningTable:
    """Add a table. :raise 409: TABLE_NUMBER_TAKEN. :raise 422: VALIDATION_ERROR (minSeats > maxSeats)."""
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        table = DiningTable(
            restaurant_id=restaurant.id,
            number=data["number"],
            label=data.get("label", f"T{data['number']}"),
            min_seats=data.get("min_seats", 1),
            max_seats=data["max_seats"],
            area=data.get("area", "main"),
            is_active=data.get("is_active", True),
        )
        _check_table(table)
        db.session.add(table)
        _flush_table(table)
    return table


def update_table(
    *, actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str, changes: dict[str, Any]
) -> DiningTable:
    """Edit a table (reactivating one too). :raise 404: TABLE_NOT_FOUND. :raise 409: TABLE_NUMBER_TAKEN."""
    with atomic():
        table = _get_table(actor, restaurant_id, table_id)
        for key in ("number", "label", "min_seats", "max_seats", "area", "is_active"):
            if key in changes:
                setattr(table, key, changes[key])
        _check_table(table)
        _flush_table(table)
    return table


def remove_table(*, actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str) -> TableRemoval:
    """Delete a table, or deactivate it when any booking row (reservation, hold, claim) references it.

    Deactivating keeps the history intact: a reservation must always name the table it had.
    :raise 404: TABLE_NOT_FOUND.
    """
    with atomic():
        table = _get_table(actor, restaurant_id, table_id, for_update=True)
        if _is_referenced(table):
            table.is_active = False
            db.session.flush()
            return TableRemoval(outcome="deactivated", table=table)
        try:
            # A savepoint: a reference committed since our check (FK RESTRICT) must not abort the use case.
            with db.session.begin_nested():
                db.session.delete(table)
                db.session.flush()
        except IntegrityError as err:
            if getattr(err.orig, "pgcode", None) != "23503":  # foreign_key_violation
                raise
            table.is_active = False
            db.session.flush()
            return TableRemoval(outcome="deactivated", table=table)
    return TableRemoval(outcome="deleted", table=table)


def _is_referenced(table: DiningTable) -> bool:
    # Booking sits above this domain, so its tables are found through the metadata's foreign keys
    # instead of an import: every row of any table that points at this dining table counts.
    target = DiningTable.__table__
    checks = [
        exists().where(fk.parent == table.id)
        for other in Base.metadata.tables.values()
        for fk in other.foreign_keys
        if fk.column is target.c.id
    ]
    return bool(checks) and bool(db.session.scalar(select(or_(*checks))))


def _get_table(
    actor: User, restaurant_id: uuid.UUID | str, table_id: uuid.UUID | str, for_update: bool = False
) -> DiningTable:
    restaurant = _managed_restaurant(actor, restaurant_id)
    parsed = parse_id(table_id)
    table = None
    if parsed is not None:
        stmt = select(DiningTable).where(DiningTable.id == parsed, DiningTable.restaurant_id == restaurant.id)
        table = db.session.scalar(stmt.with_for_update() if for_update else stmt)
    if table is None:
        raise NotFound(ErrorCode.TABLE_NOT_FOUND, "This restaurant has no table with this id.")
    return table


def _check_table(table: DiningTable) -> None:
    if table.min_seats > table.max_seats:
        raise Unprocessable(
            ErrorCode.VALIDATION_ERROR,
            "Some fields are invalid.",
            details={"fields": {"maxSeats": ["Must be at least minSeats."]}},
        )


def _flush_table(table: DiningTable) -> None:
    number = table.number  # read now: after a failed flush the row cannot be loaded again
    try:
        db.session.flush()
    except IntegrityError as err:
        if getattr(err.orig.diag, "constraint_name", None) == TABLE_NUMBER_UNIQUE_CONSTRAINT:
            raise Conflict(
                ErrorCode.TABLE_NUMBER_TAKEN, "Another table has this number.", details={"number": number}
            ) from err
        raise


# ---------------------------------------------------------------- weekly hours


def get_opening_hours(*, actor: User, restaurant_id: uuid.UUID | str) -> Restaurant:
    """The restaurant, for its service periods and week. :raise 404/403."""
    return _managed_restaurant(actor, restaurant_id)


@dataclass(frozen=True)
class HoursChange:
    """The restaurant after its week was replaced, and the bookings a forced change left outside it."""

    restaurant: Restaurant
    affected_bookings: list[dict[str, Any]]

    @property
    def opening_hours(self) -> list[OpeningHours]:
        return self.restaurant.opening_hours

    @property
    def weekly_hours(self) -> dict[str, dict[str, object]]:
        return self.restaurant.weekly_hours


@dataclass(frozen=True)
class ClosureChange:
    """A closure just added, and the bookings a forced closure left inside it."""

    closure: SpecialHours
    affected_bookings: list[dict[str, Any]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.closure, name)  # the closure's fields, for ClosureSchema


def replace_opening_hours(
    *, actor: User, restaurant_id: uuid.UUID | str, periods: list[dict[str, Any]], force: bool, now: datetime
) -> HoursChange:
    """Replace the whole week's service periods; days without one are closed.

    Periods of one day may not overlap. Bookings already made keep their times and tables.
    :raise 409: BOOKINGS_AFFECTED (future bookings would start outside the new hours; `force` applies
        the change anyway and reports them). :raise 422: VALIDATION_ERROR. :raise 404/403.
    """
    by_day: dict[int, list[tuple[time, time, int]]] = {}
    for index, period in enumerate(periods):
        by_day.setdefault(WEEKDAYS.index(period["day"]), []).append((period["opens_at"], period["closes_at"], index))
    errors: dict[str, list[str]] = {}
    for day_periods in by_day.values():
        day_periods.sort()
        for (_, earlier_close, _), (later_open, _, index) in itertools.pairwise(day_periods):
            if later_open < earlier_close:
                errors[str(index)] = ["Overlaps another period of the same day."]
    if errors:
        raise Unprocessable(
            ErrorCode.VALIDATION_ERROR, "Some fields are invalid.", details={"fields": {"periods": errors}}
        )
    with atomic():
        # The row lock makes two concurrent replacements queue instead of interleaving.
        restaurant = _managed_restaurant(actor, restaurant_id, for_update=True)
        db.session.execute(delete(OpeningHours).where(OpeningHours.restaurant_id == restaurant.id))
        for weekday, day_periods in sorted(by_day.items()):
            for opens_at, closes_at, _ in day_periods:
                db.session.add(
                    OpeningHours(restaurant_id=restaurant.id, weekday=weekday, opens_at=opens_at, closes_at=closes_at)
                )
        db.session.flush()
        db.session.expire(restaurant, ["opening_hours"])
        affected = bookings_guard.guard_hours_change(restaurant=restaurant, now=now, force=force)
    return HoursChange(restaurant=restaurant, affected_bookings=affected)


# ---------------------------------------------------------------- closures (special hours)


def _local_today(restaurant: Restaurant, now: datetime) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(restaurant.timezone)).date()


def list_closures(*, actor: User, restaurant_id: uuid.UUID | str, now: datetime) -> list[SpecialHours]:
    """Closures and special hours from the restaurant's today on. :raise 404/403."""
    restaurant = _managed_restaurant(actor, restaurant_id)
    return list(
        db.session.scalars(
            select(SpecialHours)
            .where(
                SpecialHours.restaurant_id == restaurant.id, SpecialHours.service_date >= _local_today(restaurant, now)
            )
            .order_by(SpecialHours.service_date)
        )
    )


def add_closure(
    *, actor: User, restaurant_id: uuid.UUID | str, closure: dict[str, Any], force: bool, now: datetime
) -> ClosureChange:
    """Close a day (or open it for one period only).

    :raise 409: CLOSURE_EXISTS; BOOKINGS_AFFECTED (bookings that day fall inside the closure; `force`
        adds it anyway and reports them). :raise 422: BAD_DATE (past).
    """
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        if closure["service_date"] < _local_today(restaurant, now):
            raise Unprocessable(
                ErrorCode.BAD_DATE, "This date has passed.", details={"date": str(closure["service_date"])}
            )
        special = SpecialHours(
            restaurant_id=restaurant.id,
            service_date=closure["service_date"],
            opens_at=closure.get("opens_at"),
            closes_at=closure.get("closes_at"),
            reason=closure.get("reason", ""),
        )
        db.session.add(special)
        try:
            db.session.flush()
        except IntegrityError as err:
            if getattr(err.orig.diag, "constraint_name", None) == CLOSURE_DATE_UNIQUE_CONSTRAINT:
                raise Conflict(
                    ErrorCode.CLOSURE_EXISTS,
                    "This date already has a closure; delete it first.",
                    details={"date": str(special.service_date)},
                ) from err
            raise
        affected = bookings_guard.guard_hours_change(
            restaurant=restaurant, now=now, force=force, dates=[special.service_date]
        )
    return ClosureChange(closure=special, affected_bookings=affected)


def remove_closure(*, actor: User, restaurant_id: uuid.UUID | str, service_date: str) -> None:
    """Reopen a day with the week's hours. :raise 404: CLOSURE_NOT_FOUND."""
    try:
        day = date.fromisoformat(service_date)
    except ValueError:
        day = None
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        deleted = 0
        if day is not None:
            deleted = db.session.execute(
                delete(SpecialHours).where(
                    SpecialHours.restaurant_id == restaurant.id, SpecialHours.service_date == day
                )
            ).rowcount
        if not deleted:
            raise NotFound(ErrorCode.CLOSURE_NOT_FOUND, "No closure on this date.")


# ---------------------------------------------------------------- primetime windows (seed 002)

# Whether a booking starting at a local weekday and wall time waits for approval. Composed into the
# website's one-round-trip booking (api/booking/reservations.py) and run on its own by `in_primetime`.
PRIMETIME_SQL = """
    SELECT EXISTS (
        SELECT 1 FROM primetime_windows AS w
        WHERE w.restaurant_id = :restaurant_id AND w.is_active
          AND w.weekday = :local_weekday AND w.start_time <= :local_time AND w.end_time > :local_time)
"""


def in_primetime(*, restaurant_id: uuid.UUID, local_start: datetime) -> bool:
    """Whether a booking starting at `local_start` (the restaurant's wall clock) needs the restaurant's approval."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    PrimetimeWindow.restaurant_id == restaurant_id,
                    PrimetimeWindow.is_active.is_(True),
                    PrimetimeWindow.weekday == local_start.weekday(),
                    PrimetimeWindow.start_time <= local_start.time().replace(tzinfo=None),
                    PrimetimeWindow.end_time > local_start.time().replace(tzinfo=None),
                )
            )
        )
    )


def list_primetime_windows(*, restaurant_id: uuid.UUID | str) -> list[PrimetimeWindow]:
    """The restaurant's windows by weekday and start (public: guests may see when bookings need approval).

    :raise 404: RESTAURANT_NOT_FOUND.
    """
    restaurant = get_restaurant(restaurant_id=restaurant_id)
    return list(
        db.session.scalars(
            select(PrimetimeWindow)
            .where(PrimetimeWindow.restaurant_id == restaurant.id)
            .order_by(PrimetimeWindow.weekday, PrimetimeWindow.start_time, PrimetimeWindow.id)
        )
    )


def get_primetime_window(*, restaurant_id: uuid.UUID | str, window_id: int) -> PrimetimeWindow:
    """One window. :raise 404: RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND."""
    restaurant = get_restaurant(restaurant_id=restaurant_id)
    return _window_of(restaurant, window_id)


def _window_of(restaurant: Restaurant, window_id: int, for_update: bool = False) -> PrimetimeWindow:
    stmt = select(PrimetimeWindow).where(
        PrimetimeWindow.id == window_id, PrimetimeWindow.restaurant_id == restaurant.id
    )
    window = db.session.scalar(stmt.with_for_update() if for_update else stmt)
    if window is None:
        raise NotFound(ErrorCode.PRIMETIME_WINDOW_NOT_FOUND, "This restaurant has no primetime window with this id.")
    return window


def create_primetime_window(*, actor: User, restaurant_id: uuid.UUID | str, data: dict[str, Any]) -> PrimetimeWindow:
    """Add a window (staff of the restaurant, admins). Bookings already made keep their status.

    :raise 404/403: RESTAURANT_NOT_FOUND, FORBIDDEN.
    """
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        window = PrimetimeWindow(
            restaurant_id=restaurant.id,
            weekday=data["weekday"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            is_active=data.get("is_active", True),
        )
        db.session.add(window)
        db.session.flush()
    return window


def update_primetime_window(
    *, actor: User, restaurant_id: uuid.UUID | str, window_id: int, changes: dict[str, Any]
) -> PrimetimeWindow:
    """Edit a window; the merged start and end are checked. Bookings already made keep their status.

    :raise 404/403: RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND, FORBIDDEN. :raise 422: VALIDATION_ERROR.
    """
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        window = _window_of(restaurant, window_id, for_update=True)
        for key in ("weekday", "start_time", "end_time", "is_active"):
            if key in changes:
                setattr(window, key, changes[key])
        if window.end_time <= window.start_time:
            raise Unprocessable(
                ErrorCode.VALIDATION_ERROR,
                "Some fields are invalid.",
                details={"fields": {"end": ["end must be after start (windows end by midnight)."]}},
            )
        db.session.flush()
    return window


def delete_primetime_window(*, actor: User, restaurant_id: uuid.UUID | str, window_id: int) -> None:
    """Remove a window. Pending bookings made under it still wait for a decision.

    :raise 404/403: RESTAURANT_NOT_FOUND, PRIMETIME_WINDOW_NOT_FOUND, FORBIDDEN.
    """
    with atomic():
        restaurant = _managed_restaurant(actor, restaurant_id)
        db.session.delete(_window_of(restaurant, window_id, for_update=True))
