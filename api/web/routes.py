"""The Café Fausse website's booking page: a small HTML client of the public API (seed 003), and the
page password-reset emails link to."""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("web", __name__)


@blp.get("/")
def home() -> str:
    """The reservation and newsletter forms."""
    return render_template("web/index.html")


@blp.get("/reset-password")
def reset_password() -> str:
    """The page a password-reset email links to: it posts the link's token and the new password to
    `/api/auth/password-reset/confirm` (api/accounts/recovery.py)."""
    return render_template("web/reset_password.html")
