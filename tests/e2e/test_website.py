"""The Café Fausse website in real headless Chromium (Debian's package, driven by Playwright) against gunicorn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from api.booking.models import Reservation
from api.db import atomic
from api.extensions import db
from api.newsletter.models import Subscriber
from api.restaurants.demo import ensure_cafe_fausse
from tests.support.live_server import gunicorn_server

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def next_friday_at_seven_local() -> str:
    today = datetime.now(ZoneInfo("America/New_York")).date()
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    return f"{friday.isoformat()}T19:00"


@pytest.fixture
def site(page, make_app, committing_database):
    app = make_app(database_url=committing_database)
    with app.app_context():
        with atomic():
            ensure_cafe_fausse()
        db.engine.dispose()
    with gunicorn_server(committing_database, workers=2) as server:
        yield server, app


def test_a_guest_checks_availability_books_and_subscribes(site, page):
    server, app = site
    page.goto(server.url("/"))
    assert page.title().startswith("Café Fausse")

    page.fill("#time", next_friday_at_seven_local())
    page.fill("#guests", "2")
    page.click("#check")
    page.wait_for_selector("#reservation-status.ok")
    assert "30 of 30 tables free" in page.inner_text("#reservation-status")

    page.fill("#name", "Ada Lovelace")
    page.fill("#email", "ada@example.com")
    page.click("#book")
    page.wait_for_selector("#reservation-status:has-text('Booked')")
    confirmation = page.inner_text("#reservation-status")
    assert "FT-" in confirmation

    page.fill("#guests", "40")
    page.click("#book")
    page.wait_for_selector("#reservation-status.error")
    assert "parties of 1 to 12" in page.inner_text("#reservation-status")

    page.fill("#newsletter-email", "ada@example.com")
    page.click("#newsletter-form button")
    page.wait_for_selector("#newsletter-status.ok")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "website.png"), full_page=True)

    with app.app_context():
        reservation = db.session.scalar(select(Reservation))
        assert reservation.confirmation_code in confirmation
        assert reservation.starts_at > datetime.now(UTC)
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1
        db.engine.dispose()


def test_a_double_click_on_book_makes_one_reservation(site, page):
    server, app = site
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.headers.get("idempotency-key"))
            if request.method == "POST" and request.url.endswith("/api/reservations")
            else None
        ),
    )
    page.goto(server.url("/"))
    page.fill("#time", next_friday_at_seven_local())
    page.fill("#guests", "2")
    page.fill("#name", "Grace Hopper")
    page.fill("#email", "grace@example.com")
    page.dblclick("#book")
    page.wait_for_selector("#reservation-status:has-text('Booked')")

    assert len(posts) == 1 and posts[0], posts  # the button was disabled: one request, with its key
    assert page.is_enabled("#book")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reservation)) == 1
        db.engine.dispose()


def test_the_website_and_swagger_ui_work_under_their_content_security_policy(site, page):
    server, _app = site
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(server.url("/"))
    page.fill("#time", next_friday_at_seven_local())
    page.click("#check")
    page.wait_for_selector("#reservation-status.ok")  # the inline script ran and reached the API

    page.goto(server.url("/docs"))
    page.wait_for_selector(".swagger-ui .info .title")  # Swagger UI ran and loaded /openapi.json
    page.wait_for_selector(".opblock-summary")
    page.click(".opblock-summary")  # expand an operation: React re-renders with inline styles
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "docs.png"))
    assert violations == []
