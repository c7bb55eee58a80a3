"""The staff console in real headless Chromium against gunicorn: a host runs an evening from it.

A host signs in, seats an arriving party, marks a no-show, approves a pending booking from the
approvals queue, takes a phone booking, and sees a change made in a second browser appear on
their day sheet by itself. Every console page passes axe (no serious or critical violation)
and runs under the strict Content-Security-Policy without a violation.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from api import create_app
from api.accounts.models import Role, User
from api.booking import allocation, reservations
from api.booking.models import Customer, Reservation, ReservationSource, ReservationStatus
from api.console.routes import PAGES
from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import CHROMIUM_ARGS, require_chromium
from tests.support import databases
from tests.support.live_server import gunicorn_server

ROOT = Path(__file__).resolve().parents[2]
HOST_EMAIL, PASSWORD = "host@cafefausse.example", "correct horse battery staple"
ZONE = ZoneInfo("America/New_York")  # Café Fausse's


@pytest.fixture(scope="module")
def console(postgres_server_url, template_database):
    """Café Fausse with a host account and tonight's bookings, behind gunicorn (started once for the module)."""
    chromium = require_chromium()
    name, url = databases.clone_database(postgres_server_url, template_database, prefix="sk_console")
    app = create_app({**TEST_SETTINGS, "database_url": url})
    now = datetime.now(UTC)
    with app.app_context():
        with atomic():
            restaurant, _ = ensure_cafe_fausse()
            db.session.add(
                User(
                    email=HOST_EMAIL,
                    password_hash=PasswordHasher().hash(PASSWORD),
                    name="Hana Host",
                    role=Role.STAFF,
                    restaurant_id=restaurant.id,
                )
            )
            today = now.astimezone(ZONE).date()
            booked = {
                "arriving": _book(restaurant, now + timedelta(minutes=30), "Ada Arriving", today),
                "late": _book(restaurant, now - timedelta(minutes=20), "Lou Late", today),
                "pending": _book(restaurant, now + timedelta(hours=2), "Pat Pending", today, ReservationStatus.PENDING),
                "second": _book(restaurant, now + timedelta(minutes=45), "Sam Second", today),
            }
        db.engine.dispose()
    from playwright.sync_api import sync_playwright

    with gunicorn_server(url, workers=2) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield server, app, browser, booked
        finally:
            browser.close()
    with app.app_context():
        db.engine.dispose()
    databases.drop_database(postgres_server_url, name)


def _book(restaurant, starts_at, name, service_date, status=ReservationStatus.CONFIRMED) -> str:
    """A booking of tonight's sheet (service day `service_date`, whatever the hour now)."""
    customer = Customer(email=f"{uuid.uuid4().hex[:8]}@example.com", name=name, phone="+1 202 555 0100")
    db.session.add(customer)
    db.session.flush()
    stay = allocation.Stay(starts_at, starts_at + timedelta(minutes=90))
    table = allocation.pick_table(restaurant=restaurant, stay=stay, party_size=2, now=datetime.now(UTC))
    reservation = reservations.insert_reservation(
        restaurant=restaurant,
        table=table,
        stay=stay,
        service_date=service_date,
        party_size=2,
        source=ReservationSource.WEB,
        customer_id=customer.id,
        status=status,
    )
    return str(reservation.id)


def _status(app, reservation_id: str) -> str:
    with app.app_context():
        status = db.session.scalar(select(Reservation.status).where(Reservation.id == uuid.UUID(reservation_id)))
        db.session.remove()
    return status


def _signed_in_page(browser, server):
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept("Guest called to cancel"))
    page.goto(server.url("/staff/login"))
    page.fill("#email", HOST_EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url(server.url("/staff/"))
    page.wait_for_selector("#sheet-rows tr[data-reservation]")
    return page


def _row(page, reservation_id: str) -> str:
    return f"#sheet-rows tr[data-reservation='{reservation_id}']"


def test_a_host_seats_marks_a_no_show_approves_and_takes_a_phone_booking(console):
    server, app, browser, booked = console
    page = _signed_in_page(browser, server)
    assert "Hana Host" in page.inner_text("#who")

    page.click(f"{_row(page, booked['arriving'])} button[data-action='seat']")
    page.wait_for_selector(f"{_row(page, booked['arriving'])}[data-status='seated']")
    assert _status(app, booked["arriving"]) == "seated"

    page.click(f"{_row(page, booked['late'])} button[data-action='no-show']")
    page.wait_for_selector(f"{_row(page, booked['late'])}[data-status='no_show']")
    assert _status(app, booked["late"]) == "no_show"

    page.click("a[href='/staff/approvals']")
    page.check(f"#approval-rows input[value='{booked['pending']}']")
    page.click("#approve-selected")
    page.wait_for_selector("#status.ok")
    assert "1 approved" in page.inner_text("#status")
    assert _status(app, booked["pending"]) == "confirmed"

    page.click("a[href='/staff/new']")
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).date().isoformat()
    page.fill("#name", "Phoebe Phone")
    page.fill("#phone", "+1 202 555 0199")
    page.fill("#date", tomorrow)
    page.fill("#time", "19:00")
    page.fill("#partySize", "4")
    page.click("#staff-booking button[type=submit]")
    page.wait_for_selector("#status.ok")
    assert "Booked" in page.inner_text("#status")
    with app.app_context():
        phoned = db.session.scalars(select(Reservation).join(Customer).where(Customer.name == "Phoebe Phone")).one()
        assert (phoned.source, phoned.party_size, phoned.status) == ("staff", 4, "confirmed")
        db.session.remove()


def test_a_field_error_from_the_server_shows_next_to_its_field(console):
    server, _app, browser, _booked = console
    page = _signed_in_page(browser, server)
    page.goto(server.url("/staff/new"))
    page.wait_for_selector("#who:not(:empty)")
    page.fill("#name", "Nina Nophone")
    page.fill("#phone", "+1 202 555 0111")
    page.fill("#time", "19:00")
    page.fill("#partySize", "500")
    page.click("#staff-booking button[type=submit]")
    page.wait_for_selector("#partySize[aria-invalid='true']")
    assert page.inner_text("#partySize-error")
    assert page.get_attribute("#partySize", "aria-describedby") == "partySize-error"


def test_a_change_in_another_browser_appears_on_the_sheet_by_itself(console):
    server, app, browser, booked = console
    first, second = _signed_in_page(browser, server), _signed_in_page(browser, server)
    second.click(f"{_row(second, booked['second'])} button[data-action='cancel']")
    second.wait_for_selector(f"{_row(second, booked['second'])}[data-status='cancelled']")
    # The first host did nothing: the sheet polls and shows the other host's cancellation.
    first.wait_for_selector(f"{_row(first, booked['second'])}[data-status='cancelled']", timeout=30_000)
    assert _status(app, booked["second"]) == "cancelled"


def test_every_console_page_passes_axe_under_its_policy(console, tmp_path):
    """Also writes each page's screenshot at 1280 and 375 px (`UPDATE_SCREENSHOTS=1`: into docs/screenshots/)."""
    from axe_playwright_python.sync_playwright import Axe

    server, _app, browser, _booked = console
    page = _signed_in_page(browser, server)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    out = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375, 360):
        page.set_viewport_size({"width": width, "height": 900})
        for path, name, _title in PAGES:
            page.goto(server.url(f"/staff{path}"))
            page.wait_for_selector("#who:not(:empty)")
            page.wait_for_load_state("networkidle")
            if width == 375:  # axe at the desktop and the narrowest phone width; 375 is for the screenshots
                page.screenshot(path=str(out / f"staff-{name}-{width}.png"), full_page=True)
                continue
            serious = [
                f"{v['id']}: {[n['target'] for n in v['nodes']]}"
                for v in Axe().run(page).response["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
            assert serious == [], (name, width)
            if width == 1280:
                page.screenshot(path=str(out / f"staff-{name}-{width}.png"), full_page=True)
    assert violations == []
