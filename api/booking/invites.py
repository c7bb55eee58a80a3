"""The `.ics` invitation attached to a guest's emails (RFC 5545 through the `icalendar` library).

One event per reservation: its UID is stable (`<reservation id>@seatkeeper`), so a calendar that
imported the confirmation updates the same entry when a later email brings a higher SEQUENCE (a
change, an approval) and removes it on METHOD:CANCEL. DTSTART/DTEND are the restaurant's local
times with its TZID, and the VTIMEZONE that defines that zone travels with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import func, select

from api.booking.models import Reservation, ReservationEvent
from api.extensions import db

PRODID = "-//Seatkeeper//Reservations//EN"
# Audit actions that change what a guest's calendar shows: each one bumps SEQUENCE.
_CALENDAR_ACTIONS = ("approve", "change", "trade", "cancel", "reject")


def uid(reservation: Reservation) -> str:
    return f"{reservation.id}@seatkeeper"


def sequence(reservation: Reservation, *, up_to_event: int | None = None) -> int:
    """How many calendar-visible moves the reservation has made (up to one audit row, if given)."""
    query = select(func.count()).where(
        ReservationEvent.reservation_id == reservation.id, ReservationEvent.action.in_(_CALENDAR_ACTIONS)
    )
    if up_to_event is not None:
        query = query.where(ReservationEvent.id <= up_to_event)
    return int(db.session.scalar(query) or 0)


def location(reservation: Reservation) -> str:
    restaurant = reservation.restaurant
    return ", ".join(part for part in (restaurant.name, restaurant.full_address) if part)


def build(
    reservation: Reservation,
    *,
    now: datetime,
    sequence: int,
    organizer_email: str,
    manage_url: str = "",
    cancelled: bool = False,
) -> str:
    """The reservation as an iCalendar text: METHOD:PUBLISH, or METHOD:CANCEL when `cancelled`."""
    restaurant = reservation.restaurant
    zone = ZoneInfo(restaurant.timezone)
    starts, ends = reservation.starts_at.astimezone(zone), reservation.ends_at.astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid(reservation))
    event.add("dtstamp", now)
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", f"Table for {reservation.party_size} at {restaurant.name}")
    event.add("location", location(reservation))
    description = f"Confirmation code {reservation.confirmation_code}."
    if manage_url:
        description += f"\nView, change or cancel: {manage_url}"
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", sequence)
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        organizer.params["cn"] = restaurant.name
        event.add("organizer", organizer)
    if manage_url:
        event.add("url", manage_url)
    calendar.add_component(event)
    # Only the years around the visit: a zone's whole history would make every email kilobytes longer.
    year = timedelta(days=366)
    calendar.add_missing_timezones(first_date=(starts - year).date(), last_date=(ends + year).date())
    return calendar.to_ical().decode()
