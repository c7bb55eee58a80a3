"""`POST /api/_bench/insert`: the benchmark's baseline endpoint (registered only when enabled)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.benchmark import service
from api.schemas import CamelCaseSchema

blp = Blueprint("bench", __name__, url_prefix="/api/_bench", description="Benchmark baseline (bench-only)")


class BenchInsertSchema(CamelCaseSchema):
    payload = fields.String(required=True, validate=validate.Length(max=200))


class BenchInsertedSchema(CamelCaseSchema):
    id = fields.Integer(required=True)


@blp.route("/insert", methods=["POST"])
@blp.arguments(BenchInsertSchema)
@blp.response(201, BenchInsertedSchema)
def insert(body: dict[str, Any]) -> dict[str, int]:
    """Insert one row in one transaction (the benchmark's baseline)."""
    return {"id": service.insert_row(payload=body["payload"], now=datetime.now(UTC))}
