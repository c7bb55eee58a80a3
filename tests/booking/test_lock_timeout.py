"""A lock wait that outlasts LOCK_TIMEOUT_MS is a clean 503 LOCK_TIMEOUT, never a 500 or a hang."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from api.booking.models import Customer, Reservation
from api.db import LockSpace, atomic, lock_key
from api.extensions import db
from tests.booking.helpers import build_restaurant, local, upcoming_service_day

DAY = upcoming_service_day()


def test_a_stuck_service_day_queue_answers_503_and_writes_nothing(make_app, committing_database):
    app = make_app(database_url=committing_database, lock_timeout_ms=200)
    with app.app_context():
        with atomic():
            restaurant = build_restaurant(tables=[(2, 4)], slug="cafe-fausse")
        blocker = create_engine(committing_database)
        with blocker.connect() as held:
            held.execute(text("BEGIN"))
            held.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(LockSpace.SERVICE_DAY, restaurant.id, DAY)}
            )
            body = {"time": local(DAY, 19).isoformat(), "guests": 2, "name": "Ada", "email": "ada@example.com"}
            response = app.test_client().post("/api/reservations", json=body)
            held.execute(text("ROLLBACK"))
        blocker.dispose()
        assert response.status_code == 503
        assert response.get_json()["code"] == "LOCK_TIMEOUT"
        assert response.headers["Retry-After"] == "1"
        assert db.session.query(Reservation).count() == 0
        db.engine.dispose()


def test_a_row_lock_wait_after_the_day_lock_is_also_503(make_app, committing_database):
    """The SET LOCAL lock_timeout lasts the whole transaction: a guest row locked elsewhere times out too."""
    app = make_app(database_url=committing_database, lock_timeout_ms=200)
    with app.app_context():
        with atomic():
            build_restaurant(tables=[(2, 4)], slug="cafe-fausse")
            db.session.add(Customer(email="ada@example.com", name="Ada", phone=""))
        blocker = create_engine(committing_database)
        with blocker.connect() as held:
            held.execute(text("BEGIN"))
            held.execute(text("SELECT 1 FROM customers WHERE email = 'ada@example.com' FOR UPDATE"))
            body = {"time": local(DAY, 19).isoformat(), "guests": 2, "name": "Ada L.", "email": "ada@example.com"}
            response = app.test_client().post("/api/reservations", json=body)
            held.execute(text("ROLLBACK"))
        blocker.dispose()
        assert response.status_code == 503, response.get_json()
        assert response.get_json()["code"] == "LOCK_TIMEOUT"
        assert db.session.query(Reservation).count() == 0
        db.engine.dispose()
