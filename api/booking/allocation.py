"""Which table a party gets, and the claims that make it theirs.

Every allocation runs inside one transaction:

1. `lock_service_day` takes `pg_advisory_xact_lock` on (restaurant, local service day), so
   contenders for the same evening queue for milliseconds instead of failing;
2. expired holds of the restaurant are purged (their claims go with them);
3. the free tables are read *after* the lock, so READ COMMITTED sees the previous winner;
4. `pick_table` chooses the smallest table that seats the party, then the one whose
   neighbouring slots are already taken (least fragmenting), then the lowest number;
5. `insert_claims` writes one `table_occupancies` row per slot bucket. Its unique
   constraint is the backstop: if anything slipped past the lock, the insert fails and
   the caller answers 409 RACE_LOST instead of selling the table twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from api.booking.models import OCCUPANCY_UNIQUE_CONSTRAINT, Hold, TableOccupancy
from api.booking.slots import Slot, claim_buckets
from api.db import LockSpace, advisory_xact_lock
from api.errors import Conflict, ErrorCode
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant


@dataclass(frozen=True)
class Stay:
    """Where and when a party sits: a slot start, its end, and the buckets in between."""

    starts_at: datetime
    ends_at: datetime
    buckets: tuple[datetime, ...]

    @classmethod
    def for_party(cls, restaurant: Restaurant, slot: Slot, party_size: int) -> Stay:
        ends_at = slot.starts_at + timedelta(minutes=restaurant.duration_minutes_for(party_size))
        return cls(slot.starts_at, ends_at, tuple(claim_buckets(slot.starts_at, ends_at, restaurant.slot_minutes)))


def lock_service_day(restaurant: Restaurant, service_date: date) -> None:
    """Serialise allocation decisions for one restaurant and local day."""
    if current_app.config["SETTINGS"].disable_allocation_lock:
        return  # test-only: the negative control proves the unique constraint holds alone
    advisory_xact_lock(LockSpace.SERVICE_DAY, restaurant.id, service_date)


def purge_expired_holds(*, restaurant_id: uuid.UUID, now: datetime) -> int:
    """Delete the restaurant's expired holds; their claims cascade. Returns how many went."""
    result = db.session.execute(delete(Hold).where(Hold.restaurant_id == restaurant_id, Hold.expires_at <= now))
    return result.rowcount or 0


def live_claim(now: datetime):  # type: ignore[no-untyped-def]
    """SQL condition: a claim that still counts (a reservation's, or an unexpired hold's)."""
    return or_(TableOccupancy.expires_at.is_(None), TableOccupancy.expires_at > now)


def taken_buckets(
    *, restaurant_id: uuid.UUID, first: datetime, last: datetime, now: datetime
) -> set[tuple[uuid.UUID, datetime]]:
    """(table, bucket) pairs claimed between two bucket starts, both included."""
    rows = db.session.execute(
        select(TableOccupancy.table_id, TableOccupancy.slot_start).where(
            TableOccupancy.restaurant_id == restaurant_id,
            TableOccupancy.slot_start >= first,
            TableOccupancy.slot_start <= last,
            live_claim(now),
        )
    )
    return {(table_id, slot_start) for table_id, slot_start in rows}


def tables_seating(restaurant: Restaurant, party_size: int) -> list[DiningTable]:
    """Active tables that seat the party, smallest first."""
    return list(
        db.session.scalars(
            select(DiningTable)
            .where(
                DiningTable.restaurant_id == restaurant.id,
                DiningTable.is_active.is_(True),
                DiningTable.min_seats <= party_size,
                DiningTable.max_seats >= party_size,
            )
            .order_by(DiningTable.max_seats, DiningTable.number)
        )
    )


def _build_candidates_query():  # type: ignore[no-untyped-def]
    """Each active table that seats the party, with its live claims between two buckets."""
    restaurant_id, now = bindparam("restaurant_id"), bindparam("now")
    claimed = func.array_agg(TableOccupancy.slot_start).filter(TableOccupancy.slot_start.is_not(None))
    return (
        select(DiningTable, claimed)
        .outerjoin(
            TableOccupancy,
            and_(
                TableOccupancy.restaurant_id == restaurant_id,
                TableOccupancy.table_id == DiningTable.id,
                TableOccupancy.slot_start >= bindparam("first"),
                TableOccupancy.slot_start <= bindparam("last"),
                or_(TableOccupancy.expires_at.is_(None), TableOccupancy.expires_at > now),
            ),
        )
        .where(
            DiningTable.restaurant_id == restaurant_id,
            DiningTable.is_active.is_(True),
            DiningTable.min_seats <= bindparam("party_size"),
            DiningTable.max_seats >= bindparam("party_size"),
        )
        .group_by(DiningTable.id)
        .order_by(DiningTable.max_seats, DiningTable.number)
    )


# Built once, run with parameters: building a statement like this costs more CPU than the
# database spends on it (docs/benchmarks.md, "Booking").
_CANDIDATES = _build_candidates_query()


def pick_table(*, restaurant: Restaurant, stay: Stay, party_size: int, now: datetime) -> DiningTable | None:
    """The best free table for the stay, or None. Call with the service-day lock held."""
    step = timedelta(minutes=restaurant.slot_minutes)
    before, after = stay.buckets[0] - step, stay.buckets[-1] + step
    # One round trip: the candidates with their claims from the bucket before the stay to the
    # bucket after it (the neighbours tell how fragmenting a choice is).
    params = {"restaurant_id": restaurant.id, "first": before, "last": after, "now": now, "party_size": party_size}
    rows = db.session.execute(_CANDIDATES, params).all()
    taken = {(table.id, bucket) for table, buckets in rows for bucket in buckets or ()}
    free = [table for table, _ in rows if not any((table.id, b) in taken for b in stay.buckets)]
    if not free:
        return None

    def fit(table: DiningTable) -> tuple[int, int, int]:
        # Fewer spare seats first; then prefer tables already busy right before or after,
        # which keeps long free runs on the other tables for later parties.
        neighbours = ((table.id, before) in taken) + ((table.id, after) in taken)
        return (table.max_seats, -neighbours, table.number)

    return min(free, key=fit)


def insert_claims(
    *,
    restaurant_id: uuid.UUID,
    table_id: uuid.UUID,
    buckets: Iterable[datetime],
    reservation_id: uuid.UUID | None = None,
    hold_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Claim the table for every bucket. Raises 409 RACE_LOST if any bucket is taken.

    No savepoint (it would cost two round trips on every booking): after RACE_LOST the
    transaction is aborted, and the caller's `atomic()` rolls it back.
    """
    rows = [
        {
            "restaurant_id": restaurant_id,
            "table_id": table_id,
            "slot_start": bucket,
            "reservation_id": reservation_id,
            "hold_id": hold_id,
            "expires_at": expires_at,
        }
        for bucket in buckets
    ]
    try:
        # The table's own INSERT, not the ORM's bulk path: no objects come of it, and it is cheaper.
        db.session.execute(TableOccupancy.__table__.insert(), rows)
    except IntegrityError as err:
        if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == OCCUPANCY_UNIQUE_CONSTRAINT:
            raise Conflict(
                ErrorCode.RACE_LOST,
                "Another booking took this table a moment ago; please try again.",
            ) from err
        raise


def transfer_hold_claims(*, hold_id: uuid.UUID, reservation_id: uuid.UUID) -> int:
    """Hand a hold's claims to the reservation confirmed from it (no gap in which the table is free)."""
    result = db.session.execute(
        TableOccupancy.__table__.update()
        .where(TableOccupancy.hold_id == hold_id)
        .values(hold_id=None, expires_at=None, reservation_id=reservation_id)
    )
    return result.rowcount or 0


def release_reservation_claims(*, reservation_id: uuid.UUID) -> int:
    """Free the table of a cancelled or finished reservation at once."""
    result = db.session.execute(delete(TableOccupancy).where(TableOccupancy.reservation_id == reservation_id))
    return result.rowcount or 0


def count_tables(restaurant_id: uuid.UUID) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(DiningTable.restaurant_id == restaurant_id, DiningTable.is_active.is_(True))
        )
        or 0
    )
