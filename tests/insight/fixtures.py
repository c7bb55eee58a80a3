"""Hand-built bookings for the insight tests: reservations and claims written row by row, so that
every figure the tests expect can be computed by hand from this file."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.booking.models import Customer, Reservation, TableOccupancy
from api.extensions import db
from api.payments.models import Payment
from api.restaurants.models import Restaurant
from tests.booking.helpers import build_restaurant, settle


def restaurant(timezone: str = "UTC", tables: int = 2) -> Restaurant:
    """Open daily 17:00-23:00, 90-minute stays, `tables` tables of 6 seats numbered from 1."""
    made = build_restaurant(tables=[(tables, 6)], timezone=timezone, duration_minutes=90)
    return made


def customer(email: str, name: str = "Guest", phone: str = "") -> Customer:
    found = db.session.query(Customer).filter_by(email=email).one_or_none()
    if found is not None:
        return found
    made = Customer(email=email, name=name, phone=phone)
    db.session.add(made)
    db.session.flush()
    return made


def reservation(
    place: Restaurant,
    *,
    table: int,
    day: date,
    start: time,
    minutes: int = 90,
    party: int = 2,
    status: str = "confirmed",
    source: str = "web",
    email: str | None = None,
    phone: str = "",
    name: str = "Guest",
    cancelled_before: timedelta | None = None,
    claim: bool | None = None,
    user_id: Any = None,
    deposit: tuple[int, int, str] | None = None,
) -> Reservation:
    """One reservation on table number `table`, local `day` and `start`; it holds a claim when its
    status still occupies the table or it has finished (seated, completed) unless `claim` says."""
    tz = ZoneInfo(place.timezone)
    starts_at = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    ends_at = starts_at + timedelta(minutes=minutes)
    dining_table = next(t for t in place.tables if t.number == table)
    guest = None if user_id else customer(email or f"g-{uuid.uuid4().hex[:8]}@example.com", name, phone)
    hold_id = uuid.uuid4() if deposit else None
    made = Reservation(
        restaurant_id=place.id,
        table_id=dining_table.id,
        customer_id=guest.id if guest else None,
        user_id=user_id,
        hold_id=hold_id,
        confirmation_code=uuid.uuid4().hex[:10].upper(),
        party_size=party,
        starts_at=starts_at,
        ends_at=ends_at,
        service_date=day,
        status=status,
        source=source,
        cancelled_at=starts_at - cancelled_before if cancelled_before is not None else None,
    )
    db.session.add(made)
    db.session.flush()
    if claim if claim is not None else status in ("pending", "confirmed", "seated", "completed"):
        db.session.execute(
            TableOccupancy.__table__.insert(),
            {
                "restaurant_id": place.id,
                "table_id": dining_table.id,
                "table_key": dining_table.occupancy_key,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "reservation_id": made.id,
            },
        )
    if deposit:
        amount, refunded, payment_status = deposit
        db.session.add(
            Payment(
                subject_id=hold_id,
                idempotency_key=f"test-{uuid.uuid4().hex}",
                amount_cents=amount,
                refunded_cents=refunded,
                currency="usd",
                status=payment_status,
                gateway="fake",
                payment_method="pm_card_visa",
            )
        )
    settle()
    return made
