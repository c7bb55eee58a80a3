"""The Café Fausse website: the booking page (seed 003) and the guest's manage page, small HTML clients of the API."""

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
