"""Enqueueing messages and registering what handles them.

Domains call `enqueue(...)` inside the transaction of the change the message reports, so
the message exists if and only if the change committed. At start-up each domain registers
a handler per message kind and its periodic jobs; the worker dispatches to them without
importing any domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from api.extensions import db
from api.outbox.models import OutboxMessage

Handler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class PeriodicJob:
    """A job the worker runs every `every_seconds`; it must be idempotent and safe to run concurrently."""

    name: str
    every_seconds: float
    run: Callable[[datetime], object]


_handlers: dict[str, Handler] = {}
_periodic: dict[str, PeriodicJob] = {}


def register_handler(kind: str, handler: Handler) -> None:
    _handlers[kind] = handler


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def register_periodic(name: str, every_seconds: float, run: Callable[[datetime], object]) -> None:
    _periodic[name] = PeriodicJob(name=name, every_seconds=every_seconds, run=run)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_periodic.values())


def enqueue(kind: str, /, *, available_at: datetime | None = None, **payload: Any) -> OutboxMessage:
    """Add a message to the current transaction (no flush, no commit)."""
    message = OutboxMessage(kind=kind, payload=_jsonable(payload), attempts=0)
    if available_at is not None:
        message.available_at = available_at
    db.session.add(message)
    return message


def enqueue_once(kind: str, /, *, key: str, **payload: Any) -> None:
    """Add a message to the current transaction unless one with this `key` was ever queued."""
    db.session.execute(
        insert(OutboxMessage)
        .values(kind=kind, payload=_jsonable(payload), attempts=0, dedupe_key=key)
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
    )


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, int | float | bool | type(None)) else str(value)
        for key, value in payload.items()
    }
