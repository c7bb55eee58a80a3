"""Database plumbing: the declarative base, the session class, transactions and advisory locks."""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import MetaData, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from api.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, but a bind given to the session itself wins.

    Flask-SQLAlchemy 3.1 picks the engine per mapper and ignores `Session(bind=...)`
    (pallets-eco/flask-sqlalchemy#1167); tests bind the session to a connection inside an
    outer transaction, so honour that bind when it is set.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        if bind is not None:
            return bind
        if self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def get_settings() -> Settings:
    """The running app's typed settings."""
    from flask import current_app

    return current_app.config["SETTINGS"]


def check_constraint_for(enum_cls: type[enum.StrEnum], column: str) -> str:
    """SQL for a CHECK that keeps `column` inside the values of a StrEnum."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return f"{column} IN ({values})"


_in_atomic = "seatkeeper_in_atomic"
_defer_commit = "seatkeeper_defer_commit"
_commit_pending = "seatkeeper_commit_pending"


@contextmanager
def atomic() -> Iterator[None]:
    """One use case, one transaction: commit on success, roll back on any exception.

    Refuses to nest so that one use case calling another fails loudly instead of
    committing halfway. Reads made before (the auth lookup) are part of the same transaction.
    A lock wait that outlasts `lock_timeout` (the SET LOCAL lasts the whole transaction, so it
    also bounds row locks), or a deadlock PostgreSQL broke, becomes 503 LOCK_TIMEOUT: the
    client may retry, and nothing was written.

    After `defer_next_commit()`, a successful block is flushed but left open for the caller,
    which adds to it and commits (`commit_deferred`): the idempotent answer of a request is
    stored in the transaction of the change it reports, so no crash can separate them.
    """
    from api.errors import LockTimeout
    from api.extensions import db

    session = db.session()
    if session.info.get(_in_atomic):
        raise RuntimeError("atomic() does not nest: a use case called another use case")
    if session.info.get(_commit_pending):
        raise RuntimeError("atomic() after a deferred commit: the route is not a single-transaction use case")
    session.info[_in_atomic] = True
    try:
        yield
        if session.info.pop(_defer_commit, False):
            session.flush()
            session.info[_commit_pending] = True
        else:
            session.commit()
    except OperationalError as err:
        session.rollback()
        if getattr(err.orig, "pgcode", None) in _RETRYABLE_LOCK_ERRORS:
            raise LockTimeout() from err
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_in_atomic] = False


def defer_next_commit() -> None:
    """Ask the next `atomic()` to leave its transaction open on success (see `atomic`)."""
    from api.extensions import db

    db.session().info[_defer_commit] = True


def take_deferred_commit() -> bool:
    """Whether an `atomic()` left its transaction open since `defer_next_commit()`; clears the request."""
    from api.extensions import db

    info = db.session().info
    info.pop(_defer_commit, None)
    return bool(info.pop(_commit_pending, False))


def commit_deferred() -> None:
    """Commit a transaction an `atomic()` left open, with whatever the caller added to it."""
    from api.extensions import db

    db.session().commit()


def discard_deferred() -> None:
    """Roll back a transaction an `atomic()` left open (the request failed after its use case)."""
    from api.extensions import db

    if take_deferred_commit():
        db.session().rollback()


# lock_not_available (lock_timeout) and deadlock_detected.
_RETRYABLE_LOCK_ERRORS = {"55P03", "40P01"}


class LockSpace(enum.IntEnum):
    """Namespaces for advisory lock keys, so two kinds of lock never collide."""

    SERVICE_DAY = 1
    USER = 2
    HOLD = 3
    GUEST = 4  # one guest's bookings, keyed by email (the duplicate guard)
    SCHEDULE = 5  # a restaurant's hours: shared by every allocation, exclusive for a change of hours


def lock_key(space: LockSpace, *parts: object) -> int:
    """Pack a namespace and parts into the signed 64-bit key `pg_advisory_xact_lock` takes."""
    material = "|".join([str(int(space)), *(_key_part(p) for p in parts)]).encode()
    return struct.unpack(">q", hashlib.blake2b(material, digest_size=8).digest())[0]


def _key_part(part: object) -> str:
    return part.isoformat() if isinstance(part, date) else str(part)


@dataclass(frozen=True)
class AdvisoryLock:
    """One transaction-level advisory lock: exclusive, or shared (many holders, no exclusive one)."""

    space: LockSpace
    parts: tuple[object, ...]
    shared: bool = False


def advisory_xact_lock(space: LockSpace, *parts: object, timeout_ms: int | None = None) -> None:
    """Take one exclusive transaction-level advisory lock (see `advisory_xact_locks`)."""
    advisory_xact_locks(AdvisoryLock(space, parts), timeout_ms=timeout_ms)


def advisory_xact_locks(*locks: AdvisoryLock, timeout_ms: int | None = None) -> None:
    """Take transaction-level advisory locks in the order given, in one round trip, waiting at most `timeout_ms`.

    Transaction-level only: session-level locks break behind PgBouncer in transaction mode.
    Everyone takes locks in one order (guest, schedule, service day), so nobody deadlocks.
    Raises `LockTimeout` (503 LOCK_TIMEOUT) when the queue does not move in time.
    """
    from api.errors import LockTimeout
    from api.extensions import db

    if timeout_ms is None:
        timeout_ms = get_settings().lock_timeout_ms
    # One round trip: psycopg2 sends the statements in one simple-query message, run in order
    # (the booking path is round-trip bound; see docs/benchmarks.md, "Booking").
    sql = f"SET LOCAL lock_timeout = {int(timeout_ms)}"
    params = {}
    for index, lock in enumerate(locks):
        sql += f"; SELECT pg_advisory_xact_lock{'_shared' if lock.shared else ''}(:key{index})"
        params[f"key{index}"] = lock_key(lock.space, *lock.parts)
    try:
        db.session().execute(text(sql), params)
    except OperationalError as err:
        if getattr(err.orig, "pgcode", None) in _RETRYABLE_LOCK_ERRORS:
            raise LockTimeout() from err
        raise


def ping_database() -> None:
    """Run `SELECT 1`; raise 503 DB_UNAVAILABLE when the database does not answer."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.errors import ErrorCode, ServiceUnavailable
    from api.extensions import db

    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        db.session.rollback()
        raise ServiceUnavailable(ErrorCode.DB_UNAVAILABLE, "The database is unreachable.") from err
