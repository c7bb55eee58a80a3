"""Writing reservation rows: the insert every booking path shares (website, app, staff).

Callers hold the service-day lock and have picked the table (`allocation.pick_table`) or
own a hold on it; this module only writes. It flushes and never commits.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import make_transient_to_detached

from api.booking import allocation
from api.booking.models import Reservation, ReservationStatus
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant

# No 0/O or 1/I: codes are read aloud at the door.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_ATTEMPTS = 5


_COLUMNS = (
    "id", "restaurant_id", "table_id", "customer_id", "user_id", "hold_id", "confirmation_code", "party_size",
    "starts_at", "ends_at", "service_date", "status", "source", "special_requests", "deposit_cents", "deposit_paid",
    "payment_brand", "payment_last4", "refund_policy", "refund_cents", "cancelled_at",
)  # fmt: skip

# ON CONFLICT on the code alone, instead of a savepoint around an ORM flush: a drawn code that
# is taken costs another draw, not two extra round trips on every booking; any other violation
# (a hold confirmed twice) still raises. Built once, run with parameters (docs/benchmarks.md).
_INSERT_RESERVATION = (
    pg_insert(Reservation)
    .values({name: bindparam(name) for name in _COLUMNS})
    .on_conflict_do_nothing(index_elements=[Reservation.confirmation_code])
    .returning(Reservation.created_at, Reservation.updated_at)
)


def new_confirmation_code() -> str:
    """`FT-` and six unambiguous characters (seed 000's format)."""
    return "FT-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def insert_reservation(
    *,
    restaurant: Restaurant,
    table: DiningTable,
    stay: allocation.Stay,
    service_date: date,
    party_size: int,
    source: str,
    customer_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    hold_id: uuid.UUID | None = None,
    special_requests: str = "",
    deposit_cents: int = 0,
    deposit_paid: bool = False,
    payment_brand: str | None = None,
    payment_last4: str | None = None,
    status: ReservationStatus = ReservationStatus.CONFIRMED,
) -> Reservation:
    """Insert the reservation and claim its table (flush).

    With `hold_id`, the hold's claims are handed over instead of inserting new ones, so the
    table is never free in between. The refund policy in force is frozen onto the row.
    Raises 409 RACE_LOST when a claim collides (see `allocation.insert_claims`).
    """
    values = {
        "id": uuid.uuid4(),
        "restaurant_id": restaurant.id,
        "table_id": table.id,
        "customer_id": customer_id,
        "user_id": user_id,
        "hold_id": hold_id,
        "party_size": party_size,
        "starts_at": stay.starts_at,
        "ends_at": stay.ends_at,
        "service_date": service_date,
        "status": status,
        "source": source,
        "special_requests": special_requests,
        "deposit_cents": deposit_cents,
        "deposit_paid": deposit_paid,
        "payment_brand": payment_brand,
        "payment_last4": payment_last4,
        "refund_policy": list(restaurant.refund_policy or []),
        "refund_cents": 0,
        "cancelled_at": None,
    }
    for _ in range(_CODE_ATTEMPTS):
        code = new_confirmation_code()
        inserted = db.session.execute(_INSERT_RESERVATION, {"confirmation_code": code, **values}).first()
        if inserted is not None:
            break
    else:
        raise RuntimeError(f"no free confirmation code in {_CODE_ATTEMPTS} draws")
    # The row as written, made persistent in the session without another INSERT or SELECT.
    reservation = Reservation(
        confirmation_code=code, created_at=inserted.created_at, updated_at=inserted.updated_at, **values
    )
    make_transient_to_detached(reservation)
    db.session.add(reservation)
    if hold_id is not None:
        allocation.transfer_hold_claims(hold_id=hold_id, reservation_id=reservation.id)
    else:
        allocation.insert_claims(
            restaurant_id=restaurant.id, table_id=table.id, buckets=stay.buckets, reservation_id=reservation.id
        )
    return reservation
