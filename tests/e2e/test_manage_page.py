"""The guest's manage page (`/manage/<token>`) in real headless Chromium against gunicorn: view, move, cancel."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from api.booking import manage, service
from api.booking.models import Reservation, ReservationStatus
from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.booking.helpers import upcoming_service_day
from tests.support.live_server import gunicorn_server


@pytest.fixture
def managed(page, make_app, committing_database):
    """Gunicorn serving a database with one website booking at 19:00 and a manage token for it."""
    app = make_app(database_url=committing_database)
    with app.app_context():
        with atomic():
            restaurant, _ = ensure_cafe_fausse()
        when = datetime.combine(upcoming_service_day(), time(19, 0))
        reservation = service.create_reservation(
            restaurant=restaurant,
            booking=service.BookingRequest(time=when, guests=2, name="Ada", email="ada@example.com"),
            now=datetime.now(UTC),
        )
        with atomic():
            token = manage.mint_token(reservation=reservation, now=datetime.now(UTC))
        db.engine.dispose()
    with gunicorn_server(committing_database, workers=1) as server:
        yield server, app, reservation, token


def _status_of(app: Flask, reservation_id: uuid.UUID) -> str:
    with app.app_context():
        status = db.session.scalar(select(Reservation.status).where(Reservation.id == reservation_id))
        db.engine.dispose()
    return status


def test_a_guest_views_and_cancels_through_the_page_under_its_csp(managed, page):
    server, app, reservation, token = managed
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(server.url(f"/manage/{token}"))
    page.wait_for_selector("#booking-summary:not([hidden])")
    assert page.inner_text("#current-code") == reservation.confirmation_code
    assert page.inner_text("#current-time") == "19:00"
    assert page.inner_text("#current-restaurant") == "Café Fausse"
    assert page.inner_text("#current-status") == "confirmed"

    page.click("#cancel-start")
    page.click("#cancel-yes")
    page.wait_for_selector("#manage-status:has-text('cancelled')")
    assert _status_of(app, reservation.id) == ReservationStatus.CANCELLED

    page.reload()
    page.wait_for_selector("#manage-problem:not([hidden])")
    assert "expired" in page.inner_text("#manage-problem")  # the API's 410, in its words
    assert page.is_hidden("#booking-summary")
    assert violations == []


def test_a_guest_moves_the_booking_through_the_page(managed, page):
    server, app, reservation, token = managed

    page.goto(server.url(f"/manage/{token}"))
    page.wait_for_selector("#change-form:not([hidden])")
    page.check("#time-options input[value='20:30']")
    page.click("#save-change")
    page.wait_for_selector("#manage-status:has-text('changed')")
    assert page.inner_text("#current-time") == "20:30"

    with app.app_context():
        moved = db.session.get(Reservation, reservation.id)
        local_start = moved.starts_at.astimezone(ZoneInfo(moved.restaurant.timezone))
        assert (local_start.time(), moved.status) == (time(20, 30), ReservationStatus.CONFIRMED)
        db.engine.dispose()


def test_a_wrong_link_shows_no_booking(managed, page):
    server, app, reservation, _token = managed

    page.goto(server.url(f"/manage/{secrets.token_urlsafe(32)}"))
    page.wait_for_selector("#manage-problem:not([hidden])")

    assert "not valid" in page.inner_text("#manage-problem")
    assert page.is_hidden("#booking-summary")
    assert _status_of(app, reservation.id) == ReservationStatus.CONFIRMED
