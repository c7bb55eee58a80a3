"""Status automation the worker runs: a confirmed reservation whose end has passed is completed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from api.booking.models import Reservation, ReservationStatus
from api.db import atomic
from api.extensions import db


def complete_finished_reservations(now: datetime) -> int:
    """Mark confirmed reservations that have ended as completed (idempotent). Returns how many."""
    with atomic():
        result = db.session.execute(
            update(Reservation)
            .where(Reservation.status == ReservationStatus.CONFIRMED, Reservation.ends_at <= now)
            .values(status=ReservationStatus.COMPLETED)
        )
    return result.rowcount or 0
