"""The status machine: which moves a reservation may make, and what each does. One table, one place.

    pending ──approve──> confirmed ──seat──> seated ──complete──> completed
       │                    │
       ├──reject──> rejected├──no_show──> no_show
       └──cancel──> cancelled <──cancel──┘

Every move is `apply(...)` on a reservation row the caller has locked (`FOR UPDATE`) inside its
transaction: it checks the move against `TRANSITIONS` (anything else is 409
`INVALID_TRANSITION` with the current status), sets the status, makes the table follow the
status (rejected, cancelled and no-show free it at once; seated keeps it; completed frees
what is left of the stay) and writes the audit row. Changes that are not moves (a new time,
party or table) are recorded with `record(...)`.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from api.accounts.models import Role, User
from api.booking import allocation
from api.booking.models import Reservation, ReservationEvent, ReservationStatus, TableOccupancy
from api.db import atomic
from api.errors import Conflict, ErrorCode
from api.extensions import db
from api.outbox import service as outbox_service


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SEAT = "seat"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    CANCEL = "cancel"


S = ReservationStatus

# (current status, action) -> new status. Every move not listed is refused.
TRANSITIONS: dict[tuple[ReservationStatus, Action], ReservationStatus] = {
    (S.PENDING, Action.APPROVE): S.CONFIRMED,
    (S.PENDING, Action.REJECT): S.REJECTED,
    (S.PENDING, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.SEAT): S.SEATED,
    (S.CONFIRMED, Action.NO_SHOW): S.NO_SHOW,
    (S.CONFIRMED, Action.CANCEL): S.CANCELLED,
    (S.SEATED, Action.COMPLETE): S.COMPLETED,
}

# Statuses that give the table back the moment they are reached.
_FREES_TABLE = frozenset({S.REJECTED, S.CANCELLED, S.NO_SHOW})


@dataclass(frozen=True)
class Actor:
    """Who made a move: a signed-in user in the role they acted in, the worker, or a manage link."""

    role: str
    user_id: uuid.UUID | None = None

    @classmethod
    def of(cls, user: User, *, reservation: Reservation | None = None) -> Actor:
        """A user; on their own reservation they act as its guest, whatever their role."""
        if reservation is not None and reservation.user_id == user.id:
            return cls("guest", user.id)
        return cls("guest" if user.role == Role.CUSTOMER else str(user.role), user.id)


# Outbox message kind queued with every audit row: {reservation_id, event_id} (api.booking.notifications).
RESERVATION_EVENT = "reservation.event"

SYSTEM = Actor("system")
MANAGE_LINK = Actor("link")


def allowed(status: str, action: Action) -> bool:
    return (ReservationStatus(status), action) in TRANSITIONS


def apply(
    reservation: Reservation, action: Action, *, actor: Actor, now: datetime, reason: str = ""
) -> ReservationStatus:
    """Move a locked reservation by `action`; returns the status it left.

    :raise 409 INVALID_TRANSITION: the move is not in `TRANSITIONS` from the current status.
    """
    before = ReservationStatus(reservation.status)
    after = TRANSITIONS.get((before, action))
    if after is None:
        raise Conflict(
            ErrorCode.INVALID_TRANSITION,
            f"A {before.value} reservation cannot be {_past(action)}.",
            details={"status": before.value, "action": action.value},
        )
    reservation.status = after
    if after == S.CANCELLED:
        reservation.cancelled_at = now
    if after in _FREES_TABLE:
        allocation.release_reservation_claims(reservation_id=reservation.id)
    elif after == S.COMPLETED:
        _end_claims_at(reservation.id, now)
    record(reservation, action=action.value, actor=actor, now=now, from_status=before, reason=reason)
    return before


def record(
    reservation: Reservation,
    *,
    action: str,
    actor: Actor,
    now: datetime,
    from_status: str | None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Write one audit row for `reservation` as it now stands, and queue the emails it calls for."""
    event = ReservationEvent(
        reservation_id=reservation.id,
        at=now,
        actor_id=actor.user_id,
        actor_role=actor.role,
        action=action,
        from_status=from_status,
        to_status=reservation.status,
        reason=reason,
        details=details or {},
    )
    db.session.add(event)
    db.session.flush()  # the event's id, for the outbox message
    outbox_service.enqueue(RESERVATION_EVENT, reservation_id=reservation.id, event_id=event.id)


def history(reservation_id: uuid.UUID) -> list[ReservationEvent]:
    """A reservation's audit rows, oldest first."""
    return list(
        db.session.scalars(
            select(ReservationEvent)
            .where(ReservationEvent.reservation_id == reservation_id)
            .order_by(ReservationEvent.at, ReservationEvent.id)
        )
    )


def _end_claims_at(reservation_id: uuid.UUID, now: datetime) -> None:
    """A party that leaves early gives back the rest of its stay; a stay already over is left as it was."""
    db.session.execute(
        update(TableOccupancy)
        .where(
            TableOccupancy.reservation_id == reservation_id,
            TableOccupancy.starts_at < now,
            TableOccupancy.ends_at > now,
        )
        .values(ends_at=now)
    )


def _past(action: Action) -> str:
    return {
        Action.APPROVE: "approved",
        Action.REJECT: "rejected",
        Action.SEAT: "seated",
        Action.COMPLETE: "completed",
        Action.NO_SHOW: "marked a no-show",
        Action.CANCEL: "cancelled",
    }[action]


# --- automation the worker runs ------------------------------------------------------------------


def complete_finished_reservations(now: datetime) -> int:
    """Complete seated reservations whose stay has ended (idempotent). Returns how many."""
    with atomic():
        finished = list(
            db.session.scalars(
                select(Reservation)
                .where(Reservation.status == S.SEATED, Reservation.ends_at <= now)
                .with_for_update(skip_locked=True)
            )
        )
        for reservation in finished:
            apply(reservation, Action.COMPLETE, actor=SYSTEM, now=now, reason="the stay ended")
    return len(finished)
