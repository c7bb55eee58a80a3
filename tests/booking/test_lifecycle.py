"""The status machine, walked cell by cell: every (status, action) pair of the whole grid.

Allowed moves succeed (through the staff's HTTP routes where one exists: seat, complete,
no-show, cancel; approve and reject through `lifecycle.apply`) and write exactly one audit row;
every other pair answers 409 INVALID_TRANSITION with the current status and changes nothing.
Occupancy follows status: rejected, cancelled and no_show free the table at once (a new booking
takes it), seated keeps it, completed gives back the rest of the stay.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.accounts.models import Role
from api.booking import allocation, lifecycle, reservations
from api.booking.lifecycle import TRANSITIONS, Action
from api.booking.models import (
    OCCUPYING_STATUSES,
    Reservation,
    ReservationEvent,
    ReservationSource,
    ReservationStatus,
    TableOccupancy,
)
from api.db import atomic
from api.errors import AppError
from api.extensions import db
from tests.booking.helpers import build_restaurant
from tests.conftest import bearer

S = ReservationStatus

# The staff's route for an action, where one exists (approve and reject belong to the approvals).
ROUTES = {Action.SEAT: "seat", Action.COMPLETE: "complete", Action.NO_SHOW: "no-show", Action.CANCEL: "cancel"}

# How each status is reached from a new reservation, through the machine itself.
PATHS: dict[ReservationStatus, tuple[ReservationStatus, list[Action]]] = {
    S.PENDING: (S.PENDING, []),
    S.CONFIRMED: (S.CONFIRMED, []),
    S.SEATED: (S.CONFIRMED, [Action.SEAT]),
    S.COMPLETED: (S.CONFIRMED, [Action.SEAT, Action.COMPLETE]),
    S.REJECTED: (S.PENDING, [Action.REJECT]),
    S.CANCELLED: (S.CONFIRMED, [Action.CANCEL]),
    S.NO_SHOW: (S.CONFIRMED, [Action.NO_SHOW]),
}


def place(
    restaurant,
    *,
    status: ReservationStatus = S.CONFIRMED,
    starts_in: timedelta = timedelta(minutes=-30),
    minutes: int = 90,
    table=None,
    user_id: uuid.UUID | None = None,
    party_size: int = 2,
    starts_at: datetime | None = None,
) -> Reservation:
    """A reservation in `status`, reached through `lifecycle.apply` from where bookings begin.

    By default it started 30 minutes ago (real clock, as the routes use) and ends in an hour, so
    that every action is timely: seat, no-show and complete alike. With `starts_at`, the moves
    on the way are made at that instant (a party seated at its start).
    """
    start, path = PATHS[status]
    at = starts_at
    starts_at = starts_at or (datetime.now(UTC) + starts_in).replace(second=0, microsecond=0)
    stay = allocation.Stay(starts_at, starts_at + timedelta(minutes=minutes))
    table = table or allocation.pick_table(
        restaurant=restaurant, stay=stay, party_size=party_size, now=datetime.now(UTC)
    )
    with atomic():
        reservation = reservations.insert_reservation(
            restaurant=restaurant,
            table=table,
            stay=stay,
            service_date=starts_at.date(),
            party_size=party_size,
            source=ReservationSource.APP if user_id else ReservationSource.STAFF,
            user_id=user_id,
            customer_id=None if user_id else _walk_in_customer().id,
            status=start,
        )
    for action in path:
        with atomic():
            locked = db.session.get(Reservation, reservation.id, with_for_update=True, populate_existing=True)
            lifecycle.apply(locked, action, actor=lifecycle.SYSTEM, now=at or datetime.now(UTC), reason="setup")
    db.session.expire_all()
    return db.session.get(Reservation, reservation.id)


def _walk_in_customer():
    from api.booking.models import Customer

    customer = Customer(email=f"walk-in-{uuid.uuid4().hex[:8]}@example.com", name="Walk In", phone="")
    db.session.add(customer)
    db.session.flush()
    return customer


def events_of(reservation_id) -> list[ReservationEvent]:
    db.session.expire_all()
    return lifecycle.history(reservation_id)


def claims_of(reservation_id) -> list[TableOccupancy]:
    return list(db.session.scalars(select(TableOccupancy).where(TableOccupancy.reservation_id == reservation_id)))


def state(reservation_id) -> tuple:
    """Everything an action may change: status, audit rows, claims, outbox messages."""
    from api.outbox.models import OutboxMessage

    db.session.expire_all()
    reservation = db.session.get(Reservation, reservation_id)
    return (
        reservation.status,
        reservation.table_id,
        reservation.ends_at,
        [(e.id, e.action) for e in lifecycle.history(reservation_id)],
        sorted((c.table_id, c.starts_at, c.ends_at) for c in claims_of(reservation_id)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


def act(client, staff, reservation: Reservation, action: Action):
    """Do `action` as staff: through its route when it has one, else through `lifecycle.apply`.

    Returns (HTTP status, error code or None, details).
    """
    if action in ROUTES:
        body = {"reason": "grid"}
        response = client.post(f"/api/reservations/{reservation.id}/{ROUTES[action]}", json=body, headers=bearer(staff))
        payload = response.get_json()
        if response.status_code >= 400:
            return response.status_code, payload["code"], payload["details"]
        return response.status_code, None, {}
    try:
        with atomic():
            locked = db.session.get(Reservation, reservation.id, with_for_update=True, populate_existing=True)
            lifecycle.apply(locked, action, actor=lifecycle.Actor.of(staff), now=datetime.now(UTC), reason="grid")
    except AppError as err:
        return err.status, str(err.code), err.details
    return 200, None, {}


@pytest.fixture
def bistro(app):
    return build_restaurant(tables=[(2, 2), (1, 4)])


@pytest.fixture
def staff(make_user, bistro):
    return make_user(Role.STAFF, restaurant_id=bistro.id)


GRID = [(status, action) for status in ReservationStatus for action in Action]


def test_the_grid_covers_every_status_and_action():
    assert len(GRID) == len(ReservationStatus) * len(Action) == 42
    assert {status for status, _ in TRANSITIONS} <= set(ReservationStatus)


@pytest.mark.parametrize(("status", "action"), GRID, ids=[f"{s.value}-{a.value}" for s, a in GRID])
def test_every_status_and_action_pair(client, bistro, staff, status, action):
    reservation = place(bistro, status=status)
    table_id = reservation.table_id
    before = state(reservation.id)
    events_before = len(before[3])

    http_status, code, details = act(client, staff, reservation, action)

    target = TRANSITIONS.get((status, action))
    if target is None:
        assert (http_status, code) == (409, "INVALID_TRANSITION"), (http_status, code, details)
        assert details["status"] == status.value
        assert state(reservation.id) == before, "a refused move changes nothing"
        return

    assert (http_status, code) == (200, None), details
    db.session.expire_all()
    moved = db.session.get(Reservation, reservation.id)
    assert moved.status == target
    events = events_of(reservation.id)
    assert len(events) == events_before + 1, "one audit row per move"
    last = events[-1]
    assert (last.action, last.from_status, last.to_status) == (action.value, status.value, target.value)
    assert last.actor_role == "staff" and last.actor_id == staff.id and last.reason == "grid"

    claims = claims_of(reservation.id)
    if target in OCCUPYING_STATUSES:
        assert [(c.table_id, c.starts_at, c.ends_at) for c in claims] == [(table_id, moved.starts_at, moved.ends_at)], (
            "seated keeps the table for the whole stay"
        )
    elif target == S.COMPLETED:
        [claim] = claims
        assert claim.ends_at <= datetime.now(UTC) and claim.ends_at < moved.ends_at, "the rest of the stay is freed"
    else:
        assert claims == [], f"{target} frees the table at once"
        # ... so a new booking takes the same table for the same time.
        again = place(bistro, status=S.CONFIRMED, table=moved.table)
        assert [c.table_id for c in claims_of(again.id)] == [table_id]


def test_a_seated_party_keeps_its_table_against_a_new_booking(bistro, staff):
    seated = place(bistro, status=S.SEATED)
    with pytest.raises(AppError) as refused:
        place(bistro, status=S.CONFIRMED, table=seated.table)
    assert refused.value.code == "RACE_LOST"
