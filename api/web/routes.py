"""The Café Fausse website: the booking page (seed 003) and the guest's manage page, small HTML clients of the API."""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("web", __name__)


@blp.get("/")
def home() -> str:
    """The reservation and newsletter forms."""
    return render_template("web/index.html")


@blp.get("/manage/<token>")
def manage(token: str) -> str:
    """The page a guest's manage link opens: view, change or cancel through /api/manage/<token>."""
    return render_template("web/manage.html")
