"""Which table a party gets, and the claims that make it theirs.

Every allocation runs inside one transaction:

1. `lock_service_day` takes `pg_advisory_xact_lock` on (restaurant, local service day), so
   contenders for the same evening queue for milliseconds instead of failing;
2. expired holds of the restaurant are purged (their claims go with them);
3. the free tables are read *after* the lock, so READ COMMITTED sees the previous winner;
4. `pick_table` chooses the smallest table that seats the party, then the one whose
   neighbouring slots are already taken (least fragmenting), then the lowest number;
5. `insert_claims` writes one `table_occupancies` row for the stay's exact `[start, end)`.
   Its exclusion constraint is the backstop: if anything slipped past the lock, the insert
   fails and the caller answers 409 RACE_LOST instead of selling the table twice, whatever
   grid, time zone or stay length either claim was made under.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, Integer, bindparam, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError, OperationalError

from api.booking.models import MAX_CLAIM, OCCUPANCY_EXCLUSION_CONSTRAINT, Hold, TableOccupancy
from api.booking.slots import Slot
from api.db import AdvisoryLock, LockSpace, advisory_xact_lock, advisory_xact_locks, get_settings
from api.errors import Conflict, ErrorCode
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant


@dataclass(frozen=True)
class Stay:
    """Where and when a party sits: from its slot start for the restaurant's turn time for its size."""

    starts_at: datetime
    ends_at: datetime

    @classmethod
    def for_party(cls, restaurant: Restaurant, slot: Slot, party_size: int) -> Stay:
        return cls(slot.starts_at, slot.starts_at + timedelta(minutes=restaurant.duration_minutes_for(party_size)))


def lock_service_day(restaurant: Restaurant, service_date: date) -> None:
    """Serialise allocation decisions for one restaurant and local day.

    First the restaurant's schedule lock, shared: a change of hours (exclusive) waits for the
    allocations in flight to commit, so it sees the bookings they make (schedule_guard).
    """
    lock_service_days(restaurant, [service_date])


def lock_service_days(restaurant: Restaurant, service_dates: Iterable[date]) -> None:
    """`lock_service_day` for a move across days: each day once, in date order (everyone's order, so no deadlock)."""
    if get_settings().disable_allocation_lock:
        return  # test-only: the negative control proves the exclusion constraint holds alone
    advisory_xact_locks(
        AdvisoryLock(LockSpace.SCHEDULE, (restaurant.id,), shared=True),
        *(AdvisoryLock(LockSpace.SERVICE_DAY, (restaurant.id, day)) for day in sorted(set(service_dates))),
    )


def lock_schedule(restaurant: Restaurant) -> None:
    """Wait for every allocation in flight at the restaurant and keep new ones waiting until commit."""
    advisory_xact_lock(LockSpace.SCHEDULE, restaurant.id)


def purge_expired_holds(*, restaurant_id: uuid.UUID, now: datetime) -> int:
    """Delete the restaurant's expired holds; their claims cascade. Returns how many went."""
    result = db.session.execute(delete(Hold).where(Hold.restaurant_id == restaurant_id, Hold.expires_at <= now))
    return result.rowcount or 0


def live_claim(now: datetime):  # type: ignore[no-untyped-def]
    """SQL condition: a claim that still counts (a reservation's, or an unexpired hold's)."""
    return or_(TableOccupancy.expires_at.is_(None), TableOccupancy.expires_at > now)


@dataclass(frozen=True)
class Claim:
    table_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime


def live_claims_between(*, restaurant_id: uuid.UUID, start: datetime, end: datetime, now: datetime) -> list[Claim]:
    """The restaurant's live claims that overlap `[start, end)`."""
    rows = db.session.execute(
        select(TableOccupancy.table_id, TableOccupancy.starts_at, TableOccupancy.ends_at).where(
            TableOccupancy.restaurant_id == restaurant_id,
            # starts_at bounds the index scan: no claim is longer than MAX_CLAIM.
            TableOccupancy.starts_at > start - MAX_CLAIM,
            TableOccupancy.starts_at < end,
            TableOccupancy.ends_at > start,
            live_claim(now),
        )
    )
    return [Claim(*row) for row in rows]


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


# The best free table for a stay, in SQL so that the website's one-round-trip booking
# (reservations.book_best_table) and every other path share one definition. A table is free
# when no live claim (a reservation's, or an unexpired hold's) overlaps the stay. Best fit:
# fewest seats; then the table with claims ending or starting within one slot of the stay,
# which keeps long free runs on the other tables for later parties; then the lowest number.
# The (table_id, starts_at) index answers both subqueries; `starts_at > :starts_at - 1 day`
# bounds its scan (no claim is longer, ck_table_occupancies_at_most_a_day).
BEST_FIT_SQL = """
    SELECT t.id, t.number, t.occupancy_key
    FROM dining_tables AS t
    WHERE t.restaurant_id = :restaurant_id
      AND t.is_active
      AND t.min_seats <= :party_size AND t.max_seats >= :party_size
      AND NOT EXISTS (
        SELECT 1 FROM table_occupancies AS o
        WHERE o.table_id = t.id
          AND o.starts_at > :starts_at - interval '1 day' AND o.starts_at < :ends_at AND o.ends_at > :starts_at
          AND (o.expires_at IS NULL OR o.expires_at > :now))
    ORDER BY t.max_seats,
      (SELECT count(*) FROM table_occupancies AS o
        WHERE o.table_id = t.id
          AND o.starts_at > :before - interval '1 day' AND o.starts_at < :after AND o.ends_at > :before
          AND (o.expires_at IS NULL OR o.expires_at > :now)) DESC,
      t.number
    LIMIT 1
"""

BEST_FIT_BINDS = (
    bindparam("restaurant_id", type_=UUID(as_uuid=True)),
    bindparam("party_size", type_=Integer),
    bindparam("starts_at", type_=DateTime(timezone=True)),
    bindparam("ends_at", type_=DateTime(timezone=True)),
    bindparam("before", type_=DateTime(timezone=True)),
    bindparam("after", type_=DateTime(timezone=True)),
    bindparam("now", type_=DateTime(timezone=True)),
)

_BEST_FIT_ID_SQL = BEST_FIT_SQL.replace("t.id, t.number, t.occupancy_key", "t.id", 1)
_PICK_TABLE = select(DiningTable).from_statement(
    text(f"SELECT * FROM dining_tables WHERE id = ({_BEST_FIT_ID_SQL})").bindparams(*BEST_FIT_BINDS)
)


def best_fit_params(*, restaurant: Restaurant, stay: Stay, party_size: int, now: datetime) -> dict[str, object]:
    """The parameters of BEST_FIT_SQL for one stay."""
    step = timedelta(minutes=restaurant.slot_minutes)
    return {
        "restaurant_id": restaurant.id,
        "party_size": party_size,
        "starts_at": stay.starts_at,
        "ends_at": stay.ends_at,
        "before": stay.starts_at - step,
        "after": stay.ends_at + step,
        "now": now,
    }


def pick_table(*, restaurant: Restaurant, stay: Stay, party_size: int, now: datetime) -> DiningTable | None:
    """The best free table for the stay, or None. Call with the service-day lock held."""
    params = best_fit_params(restaurant=restaurant, stay=stay, party_size=party_size, now=now)
    return db.session.scalars(_PICK_TABLE, params).first()


def insert_claims(
    *,
    restaurant_id: uuid.UUID,
    table: DiningTable,
    stay: Stay,
    reservation_id: uuid.UUID | None = None,
    hold_id: uuid.UUID | None = None,
    block_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Claim the table for the stay's exact span. Raises 409 RACE_LOST if another claim overlaps it.

    No savepoint (it would cost two round trips on every booking): after RACE_LOST the
    transaction is aborted, and the caller's `atomic()` rolls it back.
    """
    row = {
        "restaurant_id": restaurant_id,
        "table_id": table.id,
        "table_key": table.occupancy_key,
        "starts_at": stay.starts_at,
        "ends_at": stay.ends_at,
        "reservation_id": reservation_id,
        "hold_id": hold_id,
        "block_id": block_id,
        "expires_at": expires_at,
    }
    with race_lost_on_claim_collision():
        # The table's own INSERT, not the ORM's unit of work: no object comes of it, and it is cheaper.
        db.session.execute(TableOccupancy.__table__.insert(), row)


@contextmanager
def race_lost_on_claim_collision() -> Iterator[None]:
    """Turn the occupancy constraint's violation into 409 RACE_LOST; anything else re-raises (a bug).

    An exclusion constraint is checked after the row is in the index, so two transactions that
    insert overlapping claims at the same moment can each wait for the other: PostgreSQL breaks
    that deadlock by aborting one, which has lost the same race. (Under the service-day lock no
    two claims on one table are ever inserted at once; only a race past the lock meets this.)
    """
    try:
        yield
    except IntegrityError as err:
        if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == OCCUPANCY_EXCLUSION_CONSTRAINT:
            raise _race_lost() from err
        raise
    except OperationalError as err:
        if getattr(err.orig, "pgcode", None) == _DEADLOCK_DETECTED:
            raise _race_lost() from err
        raise


_DEADLOCK_DETECTED = "40P01"


def _race_lost() -> Conflict:
    return Conflict(ErrorCode.RACE_LOST, "Another booking took this table a moment ago; please try again.")


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
