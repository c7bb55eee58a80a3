"""The Café Fausse website (seed 003): server-rendered pages, each a small client of the public JSON API.

Pages: Home, Menu, Reservations, About, Gallery, the newsletter's one-click unsubscribe page,
the booking's manage page and the password-reset page. The templates show the restaurant's
facts from the database (the restaurant named by `DEFAULT_RESTAURANT_SLUG`); everything a
guest does (find a time, book, subscribe, unsubscribe, manage, reset a password) goes through
the same `/api/...` endpoints every other client uses, from the plain JavaScript in
`api/static/site/js/` (no build step). Every asset is served from `api/static/`; the pages
carry the strict Content-Security-Policy of `api/http.py`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request

from api.restaurants import service as restaurants_service
from api.restaurants.models import Restaurant
from api.web import content

blp = Blueprint("web", __name__)

PAGES = (("web.home", "Home"), ("web.menu", "Menu"), ("web.reservations", "Reservations"),
         ("web.about", "About"), ("web.gallery", "Gallery"))  # fmt: skip


def _restaurant() -> Restaurant | None:
    """The website's restaurant, or None before `flask seed` ran (the pages then say so)."""
    return restaurants_service.find_restaurant_by_slug(slug=current_app.config["SETTINGS"].default_restaurant_slug)


def _page(template: str, **context: Any) -> str:
    restaurant = _restaurant()
    hours = content.hours_lines(restaurant.opening_hours) if restaurant is not None else []
    return render_template(
        f"web/{template}", restaurant=restaurant, hours=hours, pages=PAGES, content=content, **context
    )


@blp.get("/")
def home() -> str:
    """The welcome: who we are, when we are open, and the way to a table."""
    return _page("home.html")


@blp.get("/menu")
def menu() -> str:
    """The menu with prices."""
    return _page("menu.html")


@blp.get("/reservations")
def reservations() -> str:
    """Find a time that seats the party, then book it (reservations.js, against the public API)."""
    return _page("reservations.html")


@blp.get("/about")
def about() -> str:
    """The story, the founders, the awards."""
    return _page("about.html")


@blp.get("/gallery")
def gallery() -> str:
    """Pictures of the room and the food."""
    return _page("gallery.html")


@blp.get("/newsletter/unsubscribe")
def unsubscribe() -> str:
    """The welcome email's link: one click on the page unsubscribes (POST /api/newsletter/unsubscribe)."""
    # A GET never unsubscribes: mail scanners follow links; the guest's click does it.
    return _page("unsubscribe.html", token=request.args.get("token", "")[:64])


@blp.get("/manage/<token>")
def manage(token: str) -> Response:
    """The confirmation email's link: show, change or cancel the booking (manage.js, via /api/manage/<token>)."""
    # A bad token renders the page, whose script shows the API's 404/410 (tests/e2e/test_manage_page.py).
    response = make_response(_page("manage.html", token=token[:200]))
    response.headers["Cache-Control"] = "no-store"  # the URL holds the guest's secret
    return response


@blp.get("/reset-password")
def reset_password() -> str:
    """The page a password-reset email links to: it posts the link's token and the new password to
    `/api/auth/password-reset/confirm` (api/accounts/recovery.py)."""
    return _page("reset_password.html")
