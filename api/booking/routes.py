"""The reservations blueprint: `/api/reservations` serves both client contracts.

The Café Fausse website's endpoints (seed 003) are declared in this module; the app
frontend's hold/confirm/cancel flow (seed 000) in `app_routes.py`, on the same blueprint.
"""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("reservations", __name__, url_prefix="/api/reservations", description="Reservations and holds")
