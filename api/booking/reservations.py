"""Writing reservation rows: the insert every booking path shares (website, app, staff).

Callers hold the service-day lock and have picked the table (`allocation.pick_table`) or
own a hold on it; this module only writes. It flushes and never commits.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date

from sqlalchemy.exc import IntegrityError

from api.booking import allocation
from api.booking.models import CONFIRMATION_CODE_UNIQUE_CONSTRAINT, Reservation, ReservationStatus
from api.extensions import db
from api.restaurants.models import DiningTable, Restaurant

# No 0/O or 1/I: codes are read aloud at the door.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_ATTEMPTS = 5


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
    for attempt in range(_CODE_ATTEMPTS):
        reservation = Reservation(
            id=uuid.uuid4(),
            restaurant_id=restaurant.id,
            table_id=table.id,
            customer_id=customer_id,
            user_id=user_id,
            hold_id=hold_id,
            confirmation_code=new_confirmation_code(),
            party_size=party_size,
            starts_at=stay.starts_at,
            ends_at=stay.ends_at,
            service_date=service_date,
            status=status,
            source=source,
            special_requests=special_requests,
            deposit_cents=deposit_cents,
            deposit_paid=deposit_paid,
            payment_brand=payment_brand,
            payment_last4=payment_last4,
            refund_policy=list(restaurant.refund_policy or []),
        )
        try:
            with db.session.begin_nested():
                db.session.add(reservation)
                db.session.flush()
            break
        except IntegrityError as err:
            collided = getattr(getattr(err.orig, "diag", None), "constraint_name", None)
            if collided != CONFIRMATION_CODE_UNIQUE_CONSTRAINT or attempt == _CODE_ATTEMPTS - 1:
                raise
    if hold_id is not None:
        allocation.transfer_hold_claims(hold_id=hold_id, reservation_id=reservation.id)
    else:
        allocation.insert_claims(
            restaurant_id=restaurant.id, table_id=table.id, buckets=stay.buckets, reservation_id=reservation.id
        )
    return reservation
