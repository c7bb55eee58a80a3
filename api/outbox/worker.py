"""The one worker: drains the outbox and runs the periodic jobs.

Claiming is a short transaction: `UPDATE … SET locked_until = now + lease WHERE id IN
(SELECT … FOR UPDATE SKIP LOCKED)`, so several workers never take the same message. The
handler then runs with no transaction open (it may talk to SMTP or a payment gateway), and
a second short transaction marks the message done, or schedules a retry with backoff. A
worker that dies mid-message leaves a lease that expires, and another worker retries it:
delivery is at least once, and handlers are written to be idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from api.db import atomic
from api.extensions import db
from api.outbox import service
from api.outbox.models import OutboxMessage

logger = logging.getLogger("api.outbox")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def claim_batch(*, now: datetime, limit: int = 20) -> list[tuple[int, str, dict]]:
    """Lease up to `limit` due messages to this worker; returns (id, kind, payload)."""
    with atomic():
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(locked_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload)
        ).all()
    return [(row.id, row.kind, row.payload) for row in rows]


def _finish(message_id: int, *, now: datetime, error: str | None) -> None:
    with atomic():
        message = db.session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None or message.processed_at is not None:
            return
        message.locked_until = None
        if error is None:
            message.processed_at = now
            message.last_error = None
        elif message.attempts >= MAX_ATTEMPTS:
            message.processed_at = now  # dead letter: kept with its error for an operator to inspect
            message.last_error = f"gave up after {message.attempts} attempts: {error}"
            logger.error("outbox message dead-lettered", extra={"message_id": message_id, "kind": message.kind})
        else:
            message.available_at = now + _backoff(message.attempts)
            message.last_error = error


def run_once(*, now: datetime | None = None, limit: int = 20) -> int:
    """Handle one batch of due messages. Returns how many were handled (successfully or not)."""
    now = now or datetime.now(UTC)
    batch = claim_batch(now=now, limit=limit)
    for message_id, kind, payload in batch:
        handler = service.handler_for(kind)
        error = None
        if handler is None:
            error = f"no handler registered for {kind!r}"
        else:
            try:
                handler(payload)
            except Exception as exc:  # the message is retried; the traceback goes to the log
                db.session.rollback()
                logger.exception("outbox handler failed", extra={"message_id": message_id, "kind": kind})
                error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.remove()
        _finish(message_id, now=now, error=error)
    return len(batch)


def run_periodic(*, now: datetime, last_runs: dict[str, float], clock: Callable[[], float] = time.monotonic) -> None:
    """Run every periodic job whose interval has passed."""
    for job in service.periodic_jobs():
        if clock() - last_runs.get(job.name, float("-inf")) < job.every_seconds:
            continue
        last_runs[job.name] = clock()
        try:
            job.run(now)
        except Exception:
            db.session.rollback()
            logger.exception("periodic job failed", extra={"job": job.name})
        finally:
            db.session.remove()


def run_forever(*, poll_seconds: float = 1.0, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Loop until `should_stop()`: drain due messages, run due periodic jobs, sleep when idle."""
    last_runs: dict[str, float] = {}
    while not should_stop():
        now = datetime.now(UTC)
        run_periodic(now=now, last_runs=last_runs)
        if run_once(now=now) == 0:
            time.sleep(poll_seconds)
