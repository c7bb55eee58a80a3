"""The one worker: drains the outbox and runs the periodic jobs.

Messages are claimed one at a time: a short transaction `UPDATE … SET locked_until = now + LEASE
WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)`, so several workers never take the same
message, and each message's lease covers its own handler only (a handler sends at most one email,
whose SMTP timeout is far shorter than the lease). The handler then runs with no transaction open,
and a second short transaction marks the message done, or schedules a retry with backoff. A worker
that dies mid-message leaves a lease that expires, and another worker retries it: delivery is at
least once, and handlers are written to be idempotent.

Periodic jobs are claimed through their row in `periodic_jobs`: one conditional upsert moves the
job's `last_run_at` forward only if the last run (by any worker, on the database's clock) is an
interval old, so a job starts once per interval however many workers run.

An outage (the database restarting, a network cut) never stops the loop: it logs, waits with a
growing backoff (up to `OUTAGE_BACKOFF_MAX`) and carries on; an SMTP outage is a failed handler,
retried per message with its own backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from api.db import atomic
from api.extensions import db
from api.outbox import service
from api.outbox.models import OutboxMessage, PeriodicJobRun

logger = logging.getLogger("api.outbox")

# One message's lease: far longer than its handler can take (one SMTP send, 10 s timeout).
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
OUTAGE_BACKOFF_MAX = 30.0


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    locked_until: datetime


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def claim_next(*, now: datetime) -> Claimed | None:
    """Lease the oldest due message to this worker, or return None when none is due."""
    with atomic():
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == due.scalar_subquery())
            .values(locked_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload, OutboxMessage.locked_until)
        ).first()
    return None if row is None else Claimed(row.id, row.kind, row.payload, row.locked_until)


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


def _finish_within_lease(claimed: Claimed, *, now: datetime, error: str | None) -> None:
    """Record the outcome, retrying while the database is away and the lease still holds.

    Once the email is sent, losing this write means a second send after the lease: so a brief
    outage (a restart) is waited out rather than given up on.
    """
    delay = 0.5
    while True:
        try:
            _finish(claimed.id, now=now, error=error)
            return
        except SQLAlchemyError:
            db.session.remove()
            if datetime.now(UTC) + timedelta(seconds=delay) >= claimed.locked_until:
                raise
            logger.warning("could not record an outbox outcome; retrying", extra={"message_id": claimed.id})
            time.sleep(delay)
            delay = min(delay * 2, OUTAGE_BACKOFF_MAX)


def _handle(claimed: Claimed) -> str | None:
    """Run the message's handler with no transaction open; returns the error, or None on success."""
    handler = service.handler_for(claimed.kind)
    if handler is None:
        return f"no handler registered for {claimed.kind!r}"
    try:
        handler(claimed.payload)
    except Exception as exc:  # the message is retried; the traceback goes to the log
        db.session.rollback()
        logger.exception("outbox handler failed", extra={"message_id": claimed.id, "kind": claimed.kind})
        return f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        db.session.remove()
    return None


def run_once(*, now: datetime | None = None, limit: int = 20) -> int:
    """Handle up to `limit` due messages, each claimed on its own. Returns how many were handled.

    `now` fixes the clock (tests); by default each claim reads the current time.
    """
    handled = 0
    while handled < limit:
        at = now or datetime.now(UTC)
        claimed = claim_next(now=at)
        if claimed is None:
            break
        error = _handle(claimed)
        _finish_within_lease(claimed, now=now or datetime.now(UTC), error=error)
        handled += 1
    return handled


def claim_periodic(name: str, every_seconds: float) -> bool:
    """True when this worker may run the job now: no worker started it in the last interval.

    One upsert on the job's row: concurrent workers queue on the row lock, and the WHERE is
    re-checked against the winner's `last_run_at`, so exactly one of them gets the row back.
    """
    with atomic():
        statement = insert(PeriodicJobRun).values(name=name, last_run_at=func.now())
        statement = statement.on_conflict_do_update(
            index_elements=[PeriodicJobRun.name],
            set_={"last_run_at": statement.excluded.last_run_at},
            where=PeriodicJobRun.last_run_at <= func.now() - timedelta(seconds=every_seconds),
        ).returning(PeriodicJobRun.name)
        return db.session.scalar(statement) is not None


def run_periodic(*, now: datetime) -> None:
    """Run every periodic job that no worker has run within its interval."""
    for job in service.periodic_jobs():
        if not claim_periodic(job.name, job.every_seconds):
            continue
        try:
            result = job.run(now)
            logger.info(
                "periodic job ran", extra={"job": job.name, "result": result if isinstance(result, int) else None}
            )
        except Exception:
            db.session.rollback()
            logger.exception("periodic job failed", extra={"job": job.name})
        finally:
            db.session.remove()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_forever(
    *,
    poll_seconds: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], datetime] = _utc_now,
) -> None:
    """Loop until `should_stop()`: run due periodic jobs, drain due messages, sleep when idle.

    `clock` is the "now" the periodic jobs are given (tests freeze it); intervals between runs
    and message leases always follow the database's and the real clock.

    Any error that escapes (the database is down) is logged and waited out with a backoff of
    1, 2, 4, ... seconds up to `OUTAGE_BACKOFF_MAX`; the first good round resets it.
    """
    outages = 0
    while not should_stop():
        try:
            run_periodic(now=clock())
            idle = run_once() == 0
        except Exception:
            db.session.remove()
            outages += 1
            delay = min(OUTAGE_BACKOFF_MAX, 2.0 ** (outages - 1))
            logger.warning(
                "worker round failed; retrying", exc_info=True, extra={"retry_in_seconds": delay, "failures": outages}
            )
            _pause(delay, should_stop)
            continue
        if outages:
            logger.warning("worker recovered", extra={"failures": outages})
            outages = 0
        if idle:
            _pause(poll_seconds, should_stop)


def _pause(seconds: float, should_stop: Callable[[], bool]) -> None:
    """Sleep in short steps so a stop request (SIGTERM) is honoured within a fraction of a second."""
    deadline = time.monotonic() + seconds
    while not should_stop() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.2))
