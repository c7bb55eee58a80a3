"""Writing reservation rows. Nothing here commits: callers run inside `atomic()`.

- `insert_reservation`: for a caller that holds the service-day lock and has picked the table
  (`allocation.pick_table`) or owns a hold on it (the app's deposit checkout).
- `book_best_table`: the website's whole booking (lock, purge, best-fit pick, primetime decision,
  guest, reservation, claims, outbox message) in one round trip.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, Integer, Time, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from api.booking import allocation, rules
from api.booking.models import Reservation, ReservationStatus
from api.db import LockSpace, lock_key
from api.extensions import db
from api.restaurants import service as restaurants_service
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
        allocation.insert_claims(restaurant_id=restaurant.id, table=table, stay=stay, reservation_id=reservation.id)
    return reservation


# The website's whole booking in one round trip, as a multi-statement query that PostgreSQL runs
# statement by statement, each with a fresh snapshot (READ COMMITTED): take the guest's lock and the
# service day's lock (their own statements, so that everything after them sees the previous
# winner's commit), purge the restaurant's expired holds, then one statement with data-modifying
# CTEs refuses a duplicate (rules.DUPLICATE_SQL), picks the best-fit table
# (allocation.BEST_FIT_SQL), decides whether the booking waits for approval (a primetime window,
# restaurants_service.PRIMETIME_SQL: then it is `pending`, holds its table and queues no
# confirmation), upserts the guest, inserts the reservation, its claims and its outbox message.
# The claims' exclusion constraint is still the backstop (RACE_LOST). Ten round trips cost more than
# everything else in a booking (docs/benchmarks.md, "Booking").
_LOCK_SQL = (
    "SELECT set_config('lock_timeout', :lock_timeout, true);"
    # Lock order: guest, schedule (shared), service day (allocation.lock_service_day).
    " SELECT pg_advisory_xact_lock(:guest_key) WHERE :guard_minutes > 0;"
    " SELECT pg_advisory_xact_lock_shared(:schedule_key);"
    " SELECT pg_advisory_xact_lock(:lock_key);"
)
_BOOK_SQL = f"""
DELETE FROM holds WHERE restaurant_id = :restaurant_id AND expires_at <= :now;
WITH duplicate AS ({rules.DUPLICATE_SQL}),
picked AS (SELECT * FROM ({allocation.BEST_FIT_SQL}) AS best WHERE NOT EXISTS (SELECT 1 FROM duplicate)),
primetime AS (SELECT ({restaurants_service.PRIMETIME_SQL}) AS waits),
customer AS (
    INSERT INTO customers (id, email, name, phone)
    SELECT :customer_id, :email, :name, :phone FROM picked
    ON CONFLICT (email) DO UPDATE
        SET name = EXCLUDED.name, phone = coalesce(nullif(EXCLUDED.phone, ''), customers.phone)
    RETURNING id),
reservation AS (
    INSERT INTO reservations (
        id, restaurant_id, table_id, customer_id, confirmation_code, party_size, starts_at, ends_at,
        service_date, status, source, special_requests, deposit_cents, deposit_paid, refund_policy, refund_cents)
    SELECT :reservation_id, :restaurant_id, picked.id, customer.id, :code, :party_size, :starts_at, :ends_at,
        :service_date, CASE WHEN primetime.waits THEN 'pending' ELSE 'confirmed' END, :source, '', 0, false,
        :refund_policy, 0
    FROM picked, customer, primetime
    ON CONFLICT (confirmation_code) DO NOTHING
    RETURNING id, table_id, customer_id, status, created_at, updated_at),
claims AS (
    INSERT INTO table_occupancies (restaurant_id, table_id, table_key, starts_at, ends_at, reservation_id)
    SELECT :restaurant_id, picked.id, picked.occupancy_key, :starts_at, :ends_at, reservation.id
    FROM reservation JOIN picked ON picked.id = reservation.table_id),
message AS (
    INSERT INTO outbox_messages (kind, payload, attempts)
    SELECT :message_kind, jsonb_build_object('reservation_id', reservation.id::text), 0 FROM reservation
    WHERE reservation.status = 'confirmed')
SELECT t.id, t.restaurant_id, t.number, t.label, t.min_seats, t.max_seats, t.area, t.is_active, t.occupancy_key,
       reservation.customer_id, reservation.status, reservation.created_at, reservation.updated_at,
       EXISTS (SELECT 1 FROM duplicate) AS duplicate, (SELECT code FROM duplicate) AS duplicate_code
FROM (SELECT 1) AS one LEFT JOIN picked ON true LEFT JOIN dining_tables AS t ON t.id = picked.id
LEFT JOIN reservation ON true
"""
_BOOK_BINDS = (
    *allocation.BEST_FIT_BINDS,
    *(bind for bind in rules.DUPLICATE_BINDS if bind.key not in {"starts_at", "now"}),
    bindparam("customer_id", type_=UUID(as_uuid=True)),
    bindparam("reservation_id", type_=UUID(as_uuid=True)),
    bindparam("service_date", type_=Date),
    bindparam("refund_policy", type_=JSONB),
    bindparam("local_weekday", type_=Integer),
    bindparam("local_time", type_=Time),
)
_BOOK_LOCKED = text(_LOCK_SQL + _BOOK_SQL).bindparams(*_BOOK_BINDS)
_BOOK_UNLOCKED = text(_BOOK_SQL).bindparams(*_BOOK_BINDS)


def book_best_table(
    *,
    restaurant: Restaurant,
    stay: allocation.Stay,
    service_date: date,
    party_size: int,
    guest: tuple[str, str, str],
    source: str,
    message_kind: str,
    now: datetime,
) -> Reservation | None:
    """Lock the service day, seat the party at the best free table and record it, in one round trip.

    A booking starting inside an active primetime window is `pending` (it holds its table and
    queues no confirmation; the caller records it); any other is `confirmed`.
    `guest` is (email, name, phone), upserted by email. Returns the reservation as written, with
    its `table`, outside the session (nothing to read back after the commit), or None when no
    table is free. Call inside `atomic()`. Raises 409 DUPLICATE_BOOKING when the guest already
    has a live booking near this time (`rules`), 409 RACE_LOST if a claim collides.
    """
    settings = current_app.config["SETTINGS"]
    email, name, phone = guest
    local_start = stay.starts_at.astimezone(ZoneInfo(restaurant.timezone))
    params = {
        **allocation.best_fit_params(restaurant=restaurant, stay=stay, party_size=party_size, now=now),
        "lock_timeout": f"{int(settings.lock_timeout_ms)}ms",
        "schedule_key": lock_key(LockSpace.SCHEDULE, restaurant.id),
        "lock_key": lock_key(LockSpace.SERVICE_DAY, restaurant.id, service_date),
        "customer_id": uuid.uuid4(),
        "email": email,
        "name": name,
        "phone": phone,
        "service_date": service_date,
        "local_weekday": local_start.weekday(),
        "local_time": local_start.time().replace(tzinfo=None),
        "source": source,
        "refund_policy": list(restaurant.refund_policy or []),
        "message_kind": message_kind,
        "guest_email": email,
        "guest_key": rules.guest_lock_key(email),
        "guard_minutes": rules.guard_minutes(),
    }
    statement = _BOOK_UNLOCKED if settings.disable_allocation_lock else _BOOK_LOCKED
    for _ in range(_CODE_ATTEMPTS):
        params |= {"reservation_id": uuid.uuid4(), "code": new_confirmation_code()}
        with allocation.race_lost_on_claim_collision():
            row = db.session.execute(statement, params).one()
        if row.duplicate:
            raise rules.duplicate_booking(row.duplicate_code)
        if row.id is None:
            return None
        if row.created_at is not None:
            break
        statement = _BOOK_UNLOCKED  # a drawn code was taken: the lock is already ours, draw again
    else:
        raise RuntimeError(f"no free confirmation code in {_CODE_ATTEMPTS} draws")
    table = DiningTable(
        id=row.id,
        restaurant_id=row.restaurant_id,
        number=row.number,
        label=row.label,
        min_seats=row.min_seats,
        max_seats=row.max_seats,
        area=row.area,
        is_active=row.is_active,
        occupancy_key=row.occupancy_key,
    )
    reservation = Reservation(
        id=params["reservation_id"],
        restaurant_id=restaurant.id,
        table_id=table.id,
        customer_id=row.customer_id,
        confirmation_code=params["code"],
        party_size=party_size,
        starts_at=stay.starts_at,
        ends_at=stay.ends_at,
        service_date=service_date,
        status=row.status,
        source=source,
        special_requests="",
        deposit_cents=0,
        deposit_paid=False,
        refund_policy=params["refund_policy"],
        refund_cents=0,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    set_committed_value(reservation, "table", table)
    return reservation
