"""Liveness and readiness probes."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from api.db import ping_database
from api.schemas import CamelCaseSchema, ErrorSchema

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness")


class HealthSchema(CamelCaseSchema):
    status = fields.String(required=True)


@blp.route("")
@blp.response(200, HealthSchema)
def liveness() -> dict[str, str]:
    """Report that the process is up (does not touch the database)."""
    return {"status": "ok"}


@blp.route("/ready")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The database is unreachable")
def readiness() -> dict[str, str]:
    """Report whether the database answers."""
    ping_database()
    return {"status": "ok"}
