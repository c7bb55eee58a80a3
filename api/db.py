"""Database plumbing: the declarative base, the session class, transactions and advisory locks."""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import ARRAY, BigInteger, MetaData, bindparam, text
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


@contextmanager
def atomic() -> Iterator[None]:
    """One use case, one transaction: commit on success, roll back on any exception.

    Refuses to nest so that one use case calling another fails loudly instead of
    committing halfway. Reads made before (the auth lookup) are part of the same transaction.
    A lock wait that outlasts `lock_timeout` (the SET LOCAL lasts the whole transaction, so it
    also bounds row locks), or a deadlock PostgreSQL broke, becomes 503 LOCK_TIMEOUT: the
    client may retry, and nothing was written.
    """
    from api.errors import LockTimeout
    from api.extensions import db

    session = db.session()
    if session.info.get(_in_atomic):
        raise RuntimeError("atomic() does not nest: a use case called another use case")
    session.info[_in_atomic] = True
    try:
        yield
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


# lock_not_available (lock_timeout) and deadlock_detected.
_RETRYABLE_LOCK_ERRORS = {"55P03", "40P01"}


class LockSpace(enum.IntEnum):
    """Namespaces for advisory lock keys, so two kinds of lock never collide."""

    SERVICE_DAY = 1
    USER = 2
    HOLD = 3


def lock_key(space: LockSpace, *parts: object) -> int:
    """Pack a namespace and parts into the signed 64-bit key `pg_advisory_xact_lock` takes."""
    material = "|".join([str(int(space)), *(_key_part(p) for p in parts)]).encode()
    return struct.unpack(">q", hashlib.blake2b(material, digest_size=8).digest())[0]


def _key_part(part: object) -> str:
    return part.isoformat() if isinstance(part, date) else str(part)


def advisory_xact_lock(space: LockSpace, *parts: object, timeout_ms: int | None = None) -> None:
    """Take a transaction-level advisory lock, waiting at most `timeout_ms`.

    Transaction-level only: session-level locks break behind PgBouncer in transaction mode.
    Raises `LockTimeout` (503 LOCK_TIMEOUT) when the queue does not move in time.
    """

    from api.errors import LockTimeout
    from api.extensions import db

    if timeout_ms is None:
        timeout_ms = get_settings().lock_timeout_ms
    session = db.session()
    # One round trip: psycopg2 sends both statements in one simple-query message, run in order
    # (the booking path is round-trip bound; see docs/benchmarks.md, "Booking").
    statement = text(f"SET LOCAL lock_timeout = {int(timeout_ms)}; SELECT pg_advisory_xact_lock(:key)")
    try:
        session.execute(statement, {"key": lock_key(space, *parts)})
    except OperationalError as err:
        if getattr(err.orig, "pgcode", None) in _RETRYABLE_LOCK_ERRORS:
            raise LockTimeout() from err
        raise


def advisory_xact_locks(space: LockSpace, parts: Iterable[tuple[object, ...]]) -> None:
    """Take several transaction-level advisory locks in one round trip, in sorted key order.

    Everyone who takes more than one lock of a space takes them in ascending key order, so
    two such transactions queue instead of deadlocking. Raises `LockTimeout` like the single lock.
    """
    from api.errors import LockTimeout
    from api.extensions import db

    keys = sorted({lock_key(space, *p) for p in parts})
    timeout_ms = int(get_settings().lock_timeout_ms)
    # unnest() yields the array in order, so the locks are taken in the order of `keys`.
    statement = text(
        f"SET LOCAL lock_timeout = {timeout_ms}; SELECT count(pg_advisory_xact_lock(k)) FROM unnest(:keys) AS k"
    ).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))
    try:
        db.session().execute(statement, {"keys": keys})
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
