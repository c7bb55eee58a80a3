"""The baseline of bench/booking.py: one INSERT in one transaction, through the same stack as a booking.

Only registered when `BENCH_ENDPOINTS_ENABLED` is true (refused in production). The table
`bench_inserts` is created by the benchmark itself in its throwaway database, not by a
migration: it has no place in a real schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from api.db import atomic
from api.extensions import db

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_inserts (
    id bigserial PRIMARY KEY,
    payload text NOT NULL,
    created_at timestamptz NOT NULL
)
"""


def insert_row(*, payload: str, now: datetime) -> int:
    """Insert one row and commit. Returns its id."""
    with atomic():
        row_id = db.session.execute(
            text("INSERT INTO bench_inserts (payload, created_at) VALUES (:payload, :now) RETURNING id"),
            {"payload": payload, "now": now},
        ).scalar_one()
    return int(row_id)
