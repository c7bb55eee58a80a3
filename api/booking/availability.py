"""How many tables are free: at one instant (seed 003) or across a day for a party (seed 000).

Both read the same claims as allocation (`live_claims_between`), compared on exact time, so
holds and reservations count the same way, and an expired hold stops counting the moment it
expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.booking import allocation
from api.booking.slots import Period, Slot, day_slots
from api.restaurants.models import Restaurant


@dataclass(frozen=True)
class SlotAvailability:
    slot: Slot
    available_tables: int
    total_tables: int

    @property
    def available(self) -> bool:
        return self.available_tables > 0


@dataclass(frozen=True)
class InstantAvailability:
    slot: Slot
    total_tables: int
    booked: int

    @property
    def available(self) -> int:
        return self.total_tables - self.booked


def at_slot(*, restaurant: Restaurant, slot: Slot, now: datetime) -> InstantAvailability:
    """Tables taken at any moment of one slot, whatever the party size (seed 003)."""
    total = allocation.count_tables(restaurant.id)
    claims = allocation.live_claims_between(
        restaurant_id=restaurant.id,
        start=slot.starts_at,
        end=slot.starts_at + timedelta(minutes=restaurant.slot_minutes),
        now=now,
    )
    return InstantAvailability(slot=slot, total_tables=total, booked=min(total, len({c.table_id for c in claims})))


def for_day(*, restaurant: Restaurant, service_date: date, party_size: int, now: datetime) -> list[SlotAvailability]:
    """For each seating of the day: tables that seat the party and are free for its whole stay."""
    return for_days(restaurant=restaurant, service_dates=[service_date], party_size=party_size, now=now)[service_date]


def for_days(
    *,
    restaurant: Restaurant,
    service_dates: list[date],
    party_size: int,
    now: datetime,
    periods: dict[date, tuple[Period, ...]] | None = None,
) -> dict[date, list[SlotAvailability]]:
    """`for_day` for several days with one read of the tables and one of the claims for the whole
    range (the calendar); `periods` may be given when the caller read the hours already."""
    days = {
        day: day_slots(restaurant, day, list(periods[day]) if periods is not None else None) for day in service_dates
    }
    all_slots = [slot for slots in days.values() for slot in slots]
    result: dict[date, list[SlotAvailability]] = {day: [] for day in service_dates}
    if not all_slots:
        return result
    tables = allocation.tables_seating(restaurant, party_size)
    duration = timedelta(minutes=restaurant.duration_minutes_for(party_size))
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    if tables:
        first = min(slot.starts_at for slot in all_slots)
        last = max(slot.starts_at for slot in all_slots)
        for claim in allocation.live_claims_between(
            restaurant_id=restaurant.id, start=first, end=last + duration, now=now
        ):
            busy.setdefault(claim.table_id, []).append((claim.starts_at, claim.ends_at))
    earliest = now + timedelta(minutes=restaurant.min_lead_minutes)
    for day, slots in days.items():
        for slot in slots:
            start, end = slot.starts_at, slot.starts_at + duration
            free = sum(1 for table in tables if not any(s < end and start < e for s, e in busy.get(table.id, ())))
            bookable = slot.starts_at >= earliest
            result[day].append(
                SlotAvailability(slot=slot, available_tables=free if bookable else 0, total_tables=len(tables))
            )
    return result
