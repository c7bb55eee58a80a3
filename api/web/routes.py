"""The Café Fausse website's pages, small HTML clients of the public API: booking (seed 003), the guest's
manage page (their emails' link) and the page password-reset emails link to."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

blp = Blueprint("web", __name__)


@blp.get("/")
def home() -> str:
    """The reservation and newsletter forms."""
    return render_template("web/index.html")


@blp.get("/manage/<token>")
def manage(token: str) -> Response:
    """The page a guest's manage link opens: view, change or cancel through /api/manage/<token>."""
    response = make_response(render_template("web/manage.html"))
    response.headers["Cache-Control"] = "no-store"  # the URL holds the guest's secret
    return response


@blp.get("/reset-password")
def reset_password() -> str:
    """The page a password-reset email links to: it posts the link's token and the new password to
    `/api/auth/password-reset/confirm` (api/accounts/recovery.py)."""
    return render_template("web/reset_password.html")
