"""Property: whatever the grid, stay lengths, time zone and settings changes, no table is sold twice.

Hypothesis draws a restaurant (time zone, slot length, turn times by party size, tables) and a
sequence of steps: website bookings at any wall time, app holds, cancellations, and staff
changing the slot length, the turn times or the time zone between them. After every step the
invariants are checked in SQL on exact time ranges (tests/support/invariants.py): no two live
claims on one table overlap, no two live reservations on one table overlap, and every live
reservation claims its table for exactly its stay.

Each step commits for real (a database cloned for this test), as in production: locks end with
their transactions, and every check reads committed rows.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.accounts.models import Role, User
from api.booking import cancellation, holds, service
from api.errors import AppError
from api.extensions import db
from api.restaurants import service as restaurants_service
from tests.booking.helpers import build_restaurant
from tests.support import invariants

pytestmark = pytest.mark.committing

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the week New York springs forward
GRIDS = [5, 10, 15, 20, 30, 60]
ZONES = ["America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Lord_Howe"]

stays = st.integers(min_value=3, max_value=48).map(lambda n: n * 5)  # 15 minutes to 4 hours
duration_rules = st.lists(
    st.tuples(st.integers(min_value=1, max_value=8), stays), max_size=3, unique_by=lambda rule: rule[0]
).map(lambda rules: [{"maxParty": party, "minutes": minutes} for party, minutes in sorted(rules)])

book = st.tuples(
    st.just("book"),
    st.integers(min_value=4, max_value=8),  # days ahead of NOW (across the DST change)
    st.integers(min_value=17, max_value=22),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=1, max_value=6),
)
hold = st.tuples(
    st.just("hold"),
    st.integers(min_value=4, max_value=8),
    st.integers(min_value=17, max_value=22),
    st.sampled_from(GRIDS),
)
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20))
slot_change = st.tuples(st.just("slot"), st.sampled_from(GRIDS))
turn_change = st.tuples(st.just("turns"), stays, duration_rules)
zone_change = st.tuples(st.just("zone"), st.sampled_from(ZONES))
steps = st.lists(
    st.one_of(book, book, book, hold, cancel, slot_change, turn_change, zone_change), min_size=1, max_size=12
)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    zone=st.sampled_from(ZONES),
    grid=st.sampled_from(GRIDS),
    stay=stays,
    rules=duration_rules,
    tables=st.lists(st.integers(min_value=2, max_value=8), min_size=1, max_size=3),
    plan=steps,
)
def test_no_table_is_ever_sold_twice_whatever_the_settings(live_app, zone, grid, stay, rules, tables, plan):
    with live_app.app_context():
        try:
            _example(zone, grid, stay, rules, tables, plan)
        finally:
            db.session.remove()


@pytest.fixture
def live_app(make_app, committing_database):
    app = make_app(database_url=committing_database)
    yield app
    with app.app_context():
        made = db.session.execute(
            db.text(
                "SELECT (SELECT count(*) FROM reservations), (SELECT count(*) FROM reservations"
                " WHERE status = 'cancelled'), (SELECT count(*) FROM holds), (SELECT count(DISTINCT timezone)"
                " FROM restaurants), (SELECT count(DISTINCT slot_minutes) FROM restaurants)"
            )
        ).one()
        db.session.remove()
        db.engine.dispose()
    print(f"property run: {made}")
    # The run exercised what it claims to: many bookings, cancellations, holds, zones and grids.
    reservations, cancelled, held, zones, grids = made
    assert reservations >= 300 and cancelled >= 20 and held >= 100 and zones == len(ZONES) and grids >= 4


def _example(zone, grid, stay, rules, tables, plan) -> None:
    restaurant = build_restaurant(
        tables=[(1, seats) for seats in tables],
        timezone=zone,
        slot_minutes=grid,
        duration_minutes=stay,
        durations_by_party=rules,
        opens_at=time(17),
        closes_at=time(23, 30),
    )
    admin = User(email=f"admin-{uuid.uuid4().hex[:8]}@example.com", password_hash="-", name="A", role=Role.ADMIN)
    db.session.add(admin)
    db.session.commit()
    booked: list[uuid.UUID] = []
    for step in plan:
        # FULLY_BOOKED, BAD_TIME, BOOKINGS_AFFECTED, ...: refused, and (the checks say) nothing changed.
        with contextlib.suppress(AppError):
            _run(step, restaurant, admin, booked)
        db.session.expire_all()
        invariants.assert_nothing_sold_twice(db.session.connection())


def _run(step: tuple, restaurant, admin: User, booked: list[uuid.UUID]) -> None:
    kind = step[0]
    if kind == "book":
        _, days, hour, minute, guests = step
        local = datetime.combine(NOW.date() + timedelta(days=days), time(hour, minute))  # the restaurant's wall clock
        request = service.BookingRequest(time=local, guests=guests, name="P", email=f"{uuid.uuid4().hex[:12]}@ex.com")
        booked.append(service.create_reservation(restaurant=restaurant, booking=request, now=NOW).id)
    elif kind == "hold":
        _, days, hour, minute = step
        guest = User(email=f"{uuid.uuid4().hex[:12]}@ex.com", password_hash="-", name="G", role=Role.CUSTOMER)
        db.session.add(guest)
        db.session.commit()
        holds.create_hold(
            actor=guest,
            user_id=None,
            restaurant_id=restaurant.id,
            service_date=NOW.date() + timedelta(days=days),
            wall_time=time(hour, minute % 60),
            party_size=2,
            now=NOW,
        )
    elif kind == "cancel" and booked:
        reservation_id = booked[step[1] % len(booked)]
        cancellation.cancel_reservation(actor=admin, reservation_id=reservation_id, user_id=None, now=NOW)
    elif kind == "slot":
        _update(restaurant, admin, {"slot_minutes": step[1]})
    elif kind == "turns":
        _update(restaurant, admin, {"default_duration_minutes": step[1], "durations_by_party": step[2]})
    elif kind == "zone":
        _update(restaurant, admin, {"timezone": step[1]})


def _update(restaurant, admin: User, changes: dict) -> None:
    restaurants_service.update_restaurant(actor=admin, restaurant_id=restaurant.id, changes=changes, now=NOW)
