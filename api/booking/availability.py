"""How many tables are free: at one instant (seed 003) or across a day for a party (seed 000).

Both read the same claims as allocation (`taken_buckets`), so holds and reservations count
the same way, and an expired hold stops counting the moment it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.booking import allocation
from api.booking.slots import Slot, day_slots
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
    """Tables taken and free in one slot bucket, whatever the party size (seed 003)."""
    total = allocation.count_tables(restaurant.id)
    taken = allocation.taken_buckets(restaurant_id=restaurant.id, first=slot.starts_at, last=slot.starts_at, now=now)
    return InstantAvailability(slot=slot, total_tables=total, booked=min(total, len({t for t, _ in taken})))


def for_day(*, restaurant: Restaurant, service_date: date, party_size: int, now: datetime) -> list[SlotAvailability]:
    """For each seating of the day: tables that seat the party and are free for its whole stay."""
    slots = day_slots(restaurant, service_date)
    tables = allocation.tables_seating(restaurant, party_size)
    if not slots:
        return []
    duration = timedelta(minutes=restaurant.duration_minutes_for(party_size))
    taken = (
        allocation.taken_buckets(
            restaurant_id=restaurant.id, first=slots[0].starts_at, last=slots[-1].starts_at + duration, now=now
        )
        if tables
        else set()
    )
    result = []
    for slot in slots:
        stay = allocation.Stay.for_party(restaurant, slot, party_size)
        free = sum(1 for table in tables if not any((table.id, b) in taken for b in stay.buckets))
        bookable = slot.starts_at >= now + timedelta(minutes=restaurant.min_lead_minutes)
        result.append(SlotAvailability(slot=slot, available_tables=free if bookable else 0, total_tables=len(tables)))
    return result
