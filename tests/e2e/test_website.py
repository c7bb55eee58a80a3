"""The Café Fausse website in real headless Chromium (Debian's package, driven by Playwright) against gunicorn.

A guest finds the times that seat their party, books (once, however often they click), reads
field errors next to their fields, the server's words for a 409, a clear message when the
network fails, downloads the booking as an .ics; subscribes to the newsletter, gets the welcome
email over SMTP and unsubscribes from its link. Every page passes axe (no serious or critical
violation), fits a 360 px screen and runs under its Content-Security-Policy without a violation.

Screenshots of every page at 375 px and 1280 px: `UPDATE_SCREENSHOTS=1` writes them to
docs/screenshots/ (linked from the README); otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select

from api import create_app
from api.booking.models import Customer, Reservation
from api.db import atomic
from api.extensions import db
from api.newsletter.models import Subscriber
from api.outbox import worker
from api.restaurants.demo import ensure_cafe_fausse
from api.web.content import DASH
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import require_chromium
from tests.support import databases
from tests.support.live_server import gunicorn_server
from tests.support.smtp import smtp_server

ROOT = Path(__file__).resolve().parents[2]
PAGES = {"home": "/", "menu": "/menu", "reservations": "/reservations", "about": "/about", "gallery": "/gallery"}
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def next_friday() -> date:
    """A Friday (open 17:00-23:00) at least two days ahead in the restaurant's zone."""
    today = datetime.now(ZoneInfo("America/New_York")).date()
    days = (4 - today.weekday()) % 7
    return today + timedelta(days=days if days >= 2 else days + 7)


@pytest.fixture(scope="module")
def site_database(postgres_server_url, template_database):
    """One committing database for the module: each test books its own guests at its own times."""
    name, url = databases.clone_database(postgres_server_url, template_database, prefix="sk_website")
    yield url
    databases.drop_database(postgres_server_url, name)


@pytest.fixture(scope="module")
def site(site_database):
    """Café Fausse behind gunicorn, started once for the module (a start costs half a minute on a busy box)."""
    require_chromium()  # skip (or fail under CI) before starting anything
    app = create_app({**TEST_SETTINGS, "database_url": site_database})
    with app.app_context():
        with atomic():
            restaurant, _ = ensure_cafe_fausse()
            restaurant_id = str(restaurant.id)
        db.engine.dispose()
    with gunicorn_server(site_database, workers=2) as server:
        yield server, app, restaurant_id
    with app.app_context():
        db.engine.dispose()


def count_reservations(app, email: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(
                select(func.count())
                .select_from(Reservation)
                .join(Customer, Customer.id == Reservation.customer_id)
                .where(Customer.email == email)
            )
        finally:
            db.session.remove()


def the_reservation(app, email: str) -> Reservation:
    with app.app_context():
        try:
            return db.session.scalars(
                select(Reservation)
                .join(Customer, Customer.id == Reservation.customer_id)
                .where(Customer.email == email)
            ).one()
        finally:
            db.session.expunge_all()
            db.session.remove()


def book_by_api(server, *, day: date, at: str, guests: int, email: str) -> requests.Response:
    return requests.post(
        server.url("/api/reservations"),
        json={"time": f"{day.isoformat()}T{at}", "guests": guests, "name": "Other Guest", "email": email},
        timeout=10,
    )


def offered_by_api(server, restaurant_id: str, day: date, party: int) -> list[str]:
    answer = requests.post(
        server.url("/api/reservations/availability"),
        json={"restaurantId": restaurant_id, "date": day.isoformat(), "partySize": party},
        timeout=10,
    ).json()
    return [slot["time"] for slot in answer["slots"] if slot["available"] and slot["availableTables"] > 0]


def open_reservations(page, server) -> None:
    page.goto(server.url("/reservations"))
    page.wait_for_selector("#local-clock:has-text('It is now')")


def find_times(page, party: int, day: date) -> list[str]:
    """Choose the party and the date, and read the times the page offers."""
    page.select_option("#party-size", str(party))
    page.fill("#date", day.isoformat())
    page.click("#find-times")
    guests = "1 guest" if party == 1 else f"{party} guests"
    page.wait_for_selector(f"#find-status:has-text('for {guests} on')")
    return page.eval_on_selector_all("#time-options input", "inputs => inputs.map(input => input.value)")


def fill_details(page, *, at: str, name: str, email: str) -> None:
    page.check(f"#time-options input[value='{at}']")
    page.fill("#name", name)
    page.fill("#email", email)


def booking_posts(page) -> list[str | None]:
    """The Idempotency-Key of every booking POST the page sends (filled in as they go)."""
    keys: list[str | None] = []

    def record(request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/api/reservations":
            keys.append(request.headers.get("idempotency-key"))

    page.on("request", record)
    return keys


def test_the_hours_and_zone_come_from_the_api(site, page):
    server, _app, restaurant_id = site
    open_reservations(page, server)

    clock = page.inner_text("#local-clock")
    assert "America/New_York" in clock
    hours = page.eval_on_selector_all("#schedule-hours tr", "rows => rows.map(row => row.innerText.split('\\t'))")
    assert hours[0] == ["Mon", f"17:00{DASH}23:00"] and hours[6] == ["Sun", f"17:00{DASH}21:00"]
    schedule = requests.get(server.url(f"/api/restaurants/{restaurant_id}/schedule"), timeout=10).json()
    assert page.get_attribute("#date", "min") == schedule["today"]
    assert page.get_attribute("#date", "max") == schedule["lastBookableDate"]


def test_a_party_of_six_sees_only_times_that_seat_six_and_a_double_click_books_once(site, page, tmp_path):
    from icalendar import Calendar

    server, app, restaurant_id = site
    friday = next_friday()
    # Every table that seats 6 (six 6-tops, two 8-tops) taken at 19:00 for a 2-hour stay.
    for n in range(20):
        if book_by_api(server, day=friday, at="19:00", guests=6, email=f"big{n}@example.com").status_code == 409:
            break
    else:
        pytest.fail("the 6-seat tables never filled up")

    open_reservations(page, server)
    assert "19:00" in find_times(page, 2, friday)  # a couple still has a table at 19:00
    offered = find_times(page, 6, friday)
    assert offered == offered_by_api(server, restaurant_id, friday, 6)  # exactly the API's free times
    assert offered[0] == "17:00" and "21:00" in offered
    assert not {"17:30", "18:00", "18:30", "19:00", "19:30", "20:00", "20:30"} & set(offered)  # would overlap

    keys = booking_posts(page)
    fill_details(page, at="17:00", name="Grace Hopper", email="grace@example.com")
    page.dblclick("#book")
    page.wait_for_selector("#confirmation:not([hidden])")

    assert len(keys) == 1 and UUID_PATTERN.match(keys[0] or ""), keys  # disabled at once: one request, one key
    assert count_reservations(app, "grace@example.com") == 1
    reservation = the_reservation(app, "grace@example.com")
    local = reservation.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date(), local.strftime("%H:%M"), reservation.party_size) == (friday, "17:00", 6)
    assert page.inner_text("#confirmed-date") == f"{friday:%A}, {friday:%B} {friday.day}, {friday.year}"
    assert page.inner_text("#confirmed-time") == "17:00"
    assert page.inner_text("#confirmed-party") == "6 guests"
    assert page.inner_text("#confirmed-code") == reservation.confirmation_code
    assert page.evaluate("document.activeElement.id") == "confirmation"

    with page.expect_download() as download:
        page.click("#ics-download")
    assert download.value.suggested_filename == f"cafe-fausse-{reservation.confirmation_code}.ics"
    path = tmp_path / "booking.ics"
    download.value.save_as(path)
    [event] = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert event.decoded("DTSTART") == reservation.starts_at
    assert event.decoded("DTEND") == reservation.ends_at
    assert "Café Fausse" in str(event["SUMMARY"]) and "6 guests" in str(event["SUMMARY"])
    assert reservation.confirmation_code in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]) == "1234 Culinary Ave, Suite 100, Washington, DC 20002"


def test_each_field_error_shows_next_to_its_field(site, page):
    server, app, _ = site
    keys = booking_posts(page)
    open_reservations(page, server)
    find_times(page, 2, next_friday())

    page.check("#time-options input[value='19:00']")
    page.fill("#email", "ada@")  # the name is left empty
    page.click("#book")
    assert page.inner_text("#name-error") == "Please enter your name."
    assert page.get_attribute("#name", "aria-invalid") == "true"
    assert "name-error" in page.get_attribute("#name", "aria-describedby")
    assert page.evaluate("document.activeElement.id") == "name"
    assert keys == []  # caught before sending

    page.fill("#name", "Ada Lovelace")
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/reservations") as answer:
        page.click("#book")
    assert answer.value.status == 422
    server_message = answer.value.json()["details"]["fields"]["email"][0]
    page.wait_for_selector("#email-error:not([hidden])")
    assert page.inner_text("#email-error") == server_message  # the server's own words, from `details`
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert page.get_attribute("#email", "aria-describedby") == "email-error"
    assert page.is_hidden("#name-error") and page.get_attribute("#name", "aria-invalid") is None

    page.fill("#email", "ada@example.com")
    page.click("#book")
    page.wait_for_selector("#confirmation:not([hidden])")
    assert count_reservations(app, "ada@example.com") == 1


def test_a_network_failure_says_so_and_the_retry_books_once(site, page):
    server, app, _ = site
    keys = booking_posts(page)
    open_reservations(page, server)
    find_times(page, 4, next_friday())
    fill_details(page, at="20:00", name="Alan Turing", email="alan@example.com")

    page.route("**/api/reservations", lambda route: route.abort("internetdisconnected"))
    page.click("#book")
    page.wait_for_selector("#booking-alert:not([hidden])")
    assert "could not reach Café Fausse" in page.inner_text("#booking-alert")
    assert page.is_enabled("#book")
    assert count_reservations(app, "alan@example.com") == 0

    page.unroute("**/api/reservations")
    page.click("#book")
    page.wait_for_selector("#confirmation:not([hidden])")
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry of the same booking resends its key
    assert count_reservations(app, "alan@example.com") == 1


def test_a_table_taken_meanwhile_shows_the_servers_message(site, page):
    server, app, _ = site
    friday = next_friday()
    open_reservations(page, server)
    assert "21:00" in find_times(page, 8, friday)
    fill_details(page, at="21:00", name="Late Party", email="late@example.com")

    # Both 8-tops go to other guests while this guest types.
    answers = [book_by_api(server, day=friday, at="21:00", guests=8, email=f"eight{n}@example.com") for n in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 409]
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/reservations") as answer:
        page.click("#book")
    assert answer.value.status == 409 and answer.value.json()["code"] == "FULLY_BOOKED"
    page.wait_for_selector("#booking-alert:not([hidden])")
    assert page.inner_text("#booking-alert") == answer.value.json()["message"]
    page.wait_for_function(
        "!Array.from(document.querySelectorAll('#time-options input')).some(i => i.value === '21:00')"
    )
    assert count_reservations(app, "late@example.com") == 0


def test_a_newsletter_signup_gets_a_welcome_email_whose_link_unsubscribes(site, site_database, page, make_app):
    server, _app, _ = site
    page.goto(server.url("/menu"))
    page.fill("#newsletter-email", "fan@")
    page.click("#newsletter-submit")
    page.wait_for_selector("#newsletter-email-error:not([hidden])")
    assert page.get_attribute("#newsletter-email", "aria-invalid") == "true"

    page.fill("#newsletter-email", "fan@example.com")
    page.click("#newsletter-submit")
    page.wait_for_selector("#newsletter-status.ok")
    assert page.get_attribute("#newsletter-email", "aria-invalid") is None

    with smtp_server() as (inbox, port):
        mailer = make_app(
            database_url=site_database, smtp_host="127.0.0.1", smtp_port=port, public_base_url=server.base_url
        )
        with mailer.app_context():
            while worker.run_once():  # the outbox worker: welcome message, then the email itself
                pass
            db.engine.dispose()
    [welcome] = inbox.to("fan@example.com")
    text = next(p for p in welcome.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    [link] = re.findall(r"http://\S+/newsletter/unsubscribe\?token=\S+", text)
    assert link.startswith(server.base_url)

    page.goto(link)
    page.click("#unsubscribe-button")
    page.wait_for_selector("#unsubscribe-status.ok")
    assert page.is_hidden("#unsubscribe-button")
    with mailer.app_context():
        subscriber = db.session.scalars(select(Subscriber).where(Subscriber.email == "fan@example.com")).one()
        assert subscriber.unsubscribed_at is not None
        db.session.remove()
        db.engine.dispose()


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_every_page_passes_axe_fits_a_phone_and_keeps_to_its_content_security_policy(site, page, tmp_path):
    server, _app, _ = site
    csp_violations: list[str] = []
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    out = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)

    # The manage page shows the API's answer for an unknown token (its full browser test comes with /api/manage).
    pages = {**PAGES, "unsubscribe": "/newsletter/unsubscribe?token=example", "manage": "/manage/unknown-token"}
    for width in (1280, 375, 360):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(server.url(path))
            if name == "reservations":
                find_times(page, 2, next_friday())
                page.check("#time-options input[value='19:00']")
            if name == "manage":
                page.wait_for_selector("#manage-problem:not([hidden])")
            page.wait_for_load_state("networkidle")
            if width != 375:  # axe at the desktop and the narrowest phone width; 375 is for the screenshots
                assert _serious_violations(page) == [], (name, width)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
            if width != 360 and name != "manage":
                page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)

    assert csp_violations == []
    assert failed == []  # every image, style and script came from the app itself


def test_swagger_ui_still_works_under_its_own_policy(site, page):
    server, _app, _ = site
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(server.url("/docs"))
    page.wait_for_selector(".swagger-ui .info .title")  # Swagger UI ran and loaded /openapi.json
    page.wait_for_selector(".opblock-summary")
    page.click(".opblock-summary")  # expand an operation: React re-renders with inline styles
    page.wait_for_timeout(300)
    assert violations == []
