"""One settings resource per restaurant: read, replace as a whole, audit.

`PUT /api/restaurants/<id>/settings` takes the whole document: slot length, turn times, party
limits, booking window, opening hours, deposits and the refund policy. It is validated as a
whole (422 VALIDATION_ERROR with every field in error at once), applied in one transaction
with the restaurant row locked, passed through the bookings guard (hours that strand future
bookings: 409 BOOKINGS_AFFECTED unless `force`; a time zone change with future bookings: 409
always), and audited in `restaurant_settings_changes` (who, when, the document before and after).

No process keeps a copy: every request reads the restaurant's row and hours (slots.read_periods),
so a change committed by one gunicorn worker is what the next request of any worker sees.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import delete, select

from api.accounts.authz import ensure_can_manage_restaurant
from api.accounts.models import User
from api.db import atomic
from api.errors import ErrorCode, Unprocessable
from api.extensions import db
from api.restaurants import bookings_guard
from api.restaurants import service as restaurants_service
from api.restaurants.models import WEEKDAYS, OpeningHours, Restaurant, SettingsChange

# Column -> the settings document's key (camelCase, as the API shows it and the audit stores it).
SETTINGS_COLUMNS: dict[str, str] = {
    "timezone": "timeZone",
    "slot_minutes": "slotMinutes",
    "default_duration_minutes": "defaultDurationMinutes",
    "durations_by_party": "turnTimesByParty",
    "min_party_size": "minPartySize",
    "max_party_size": "maxPartySize",
    "booking_horizon_days": "bookingHorizonDays",
    "min_lead_minutes": "minLeadMinutes",
    "accepts_reservations": "acceptsReservations",
    "deposit_per_person_cents": "depositPerPersonCents",
    "currency": "currency",
    "refund_policy": "refundPolicy",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    # Columns other lanes add (confirmation emails, pacing): part of the document once they exist.
    "send_confirmation_emails": "sendConfirmationEmails",
}


@dataclass(frozen=True)
class SettingsChangeResult:
    settings: dict[str, Any]
    affected_bookings: list[dict[str, Any]]


def optional_columns() -> dict[str, str]:
    """The optional settings columns the Restaurant model has in this build."""
    return {col: key for col, key in OPTIONAL_COLUMNS.items() if hasattr(Restaurant, col)}


def _hours_document(restaurant_id: uuid.UUID) -> list[dict[str, str]]:
    rows = db.session.execute(
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at)
        .where(OpeningHours.restaurant_id == restaurant_id)
        .order_by(OpeningHours.weekday, OpeningHours.opens_at)
    ).all()
    return [
        {"day": WEEKDAYS[weekday], "openTime": opens.strftime("%H:%M"), "closeTime": closes.strftime("%H:%M")}
        for weekday, opens, closes in rows
    ]


def settings_document(restaurant: Restaurant) -> dict[str, Any]:
    """The settings as the API shows them (and the audit stores them)."""
    document: dict[str, Any] = {key: getattr(restaurant, col) for col, key in SETTINGS_COLUMNS.items()}
    document["turnTimesByParty"] = [dict(rule) for rule in restaurant.durations_by_party or []]
    document["refundPolicy"] = [dict(tier) for tier in restaurant.refund_policy or []]
    for col, key in optional_columns().items():
        document[key] = getattr(restaurant, col)
    document["openingHours"] = _hours_document(restaurant.id)
    return document


def get_settings(*, actor: User, restaurant_id: uuid.UUID | str) -> dict[str, Any]:
    """The restaurant's settings document. :raise 404: RESTAURANT_NOT_FOUND. :raise 403: FORBIDDEN."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return settings_document(restaurant)


def _check_document(data: dict[str, Any]) -> None:
    """Rules across fields, all reported at once (422 VALIDATION_ERROR, details.fields)."""
    errors: dict[str, Any] = {}
    if data["timezone"] not in restaurants_service.time_zones():
        errors["timeZone"] = ["Not an IANA time zone (e.g. America/New_York)."]
    if data["min_party_size"] > data["max_party_size"]:
        errors["maxPartySize"] = ["Must be at least minPartySize."]
    limits = [int(rule["maxParty"]) for rule in data["durations_by_party"]]
    if len(set(limits)) != len(limits):
        errors["turnTimesByParty"] = ["Each maxParty may appear once."]
    thresholds = [int(tier["minHoursBefore"]) for tier in data["refund_policy"]]
    if len(set(thresholds)) != len(thresholds):
        errors["refundPolicy"] = ["Each minHoursBefore may appear once."]
    overlaps: dict[str, list[str]] = {}
    by_day: dict[int, list[tuple[time, time, int]]] = {}
    for index, period in enumerate(data["opening_hours"]):
        by_day.setdefault(WEEKDAYS.index(period["day"]), []).append((period["opens_at"], period["closes_at"], index))
    for day_periods in by_day.values():
        day_periods.sort()
        for (_, earlier_close, _), (later_open, _, index) in itertools.pairwise(day_periods):
            if later_open < earlier_close:
                overlaps[str(index)] = ["Overlaps another period of the same day."]
    if overlaps:
        errors["openingHours"] = overlaps
    if errors:
        raise Unprocessable(ErrorCode.VALIDATION_ERROR, "Some settings are invalid.", details={"fields": errors})


def replace_settings(
    *, actor: User, restaurant_id: uuid.UUID | str, data: dict[str, Any], force: bool, now: datetime
) -> SettingsChangeResult:
    """Replace the whole settings document, audited; applied by every worker on its next request.

    :raise 404: RESTAURANT_NOT_FOUND. :raise 403: FORBIDDEN. :raise 422: VALIDATION_ERROR (every
        field at once). :raise 409: BOOKINGS_AFFECTED (new hours strand future bookings and `force`
        is not set; or a time zone change while future bookings exist).
    """
    _check_document(data)
    with atomic():
        # The row lock queues concurrent replacements (and PATCHes of the restaurant) one after another.
        restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id, for_update=True)
        ensure_can_manage_restaurant(actor, restaurant.id)
        old = settings_document(restaurant)
        for col in (*SETTINGS_COLUMNS, *optional_columns()):
            if col in data:
                setattr(restaurant, col, data[col])
        new_hours = [
            {
                "day": p["day"],
                "openTime": p["opens_at"].strftime("%H:%M"),
                "closeTime": p["closes_at"].strftime("%H:%M"),
            }
            for p in sorted(data["opening_hours"], key=lambda p: (WEEKDAYS.index(p["day"]), p["opens_at"]))
        ]
        hours_changed = new_hours != old["openingHours"]
        if hours_changed:
            db.session.execute(delete(OpeningHours).where(OpeningHours.restaurant_id == restaurant.id))
            for period in data["opening_hours"]:
                db.session.add(
                    OpeningHours(
                        restaurant_id=restaurant.id,
                        weekday=WEEKDAYS.index(period["day"]),
                        opens_at=period["opens_at"],
                        closes_at=period["closes_at"],
                    )
                )
        db.session.flush()
        db.session.expire(restaurant, ["opening_hours"])
        if restaurant.timezone != old["timeZone"]:
            bookings_guard.guard_time_zone_change(restaurant=restaurant, now=now)
        affected: list[dict[str, Any]] = []
        if hours_changed:
            affected = bookings_guard.guard_hours_change(restaurant=restaurant, now=now, force=force)
        new = settings_document(restaurant)
        changed = sorted(key for key in new if new[key] != old.get(key))
        if changed:
            db.session.add(
                SettingsChange(
                    restaurant_id=restaurant.id, actor_id=actor.id, at=now, old=old, new=new, changed=changed
                )
            )
            db.session.flush()
    return SettingsChangeResult(settings=new, affected_bookings=affected)


def list_settings_changes(*, actor: User, restaurant_id: uuid.UUID | str, limit: int = 50) -> list[SettingsChange]:
    """The latest settings changes, newest first. :raise 404/403."""
    restaurant = restaurants_service.get_restaurant(restaurant_id=restaurant_id)
    ensure_can_manage_restaurant(actor, restaurant.id)
    return list(
        db.session.scalars(
            select(SettingsChange)
            .where(SettingsChange.restaurant_id == restaurant.id)
            .order_by(SettingsChange.at.desc(), SettingsChange.id.desc())
            .limit(limit)
        )
    )
