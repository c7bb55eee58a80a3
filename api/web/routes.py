"""The Café Fausse website's booking page: a small HTML client of the public API (seed 003)."""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("web", __name__)


@blp.get("/")
def home() -> str:
    """The reservation and newsletter forms."""
    return render_template("web/index.html")
