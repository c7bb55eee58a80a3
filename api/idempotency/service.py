"""The `Idempotency-Key` bookkeeping: claim a key, replay its stored answer, or refuse a reuse.

A key lives per caller and endpoint (`scope`) for `IDEMPOTENCY_TTL_HOURS` (24 h):

- first use: the row is inserted with a lease (`locked_until`) and the request runs;
- same key, same request, answered: the stored status and body are replayed;
- same key, another request (body, query): 422 IDEMPOTENCY_KEY_REUSED;
- same key while the first request still runs: 409 IDEMPOTENCY_KEY_IN_USE (retry shortly);
- a first attempt that died without an answer leaves a lease that runs out after
  `IDEMPOTENCY_LEASE_SECONDS`; a retry after that runs the request again.

Each step is its own short transaction, so the view's own use case keeps its one transaction;
for single-transaction use cases the answer is stored inside that transaction instead
(`record_response(with_open_change=True)`), so a crash between the change and the answer is
impossible: both commit, or neither.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from api import faults
from api.db import atomic, commit_deferred
from api.errors import Conflict, ErrorCode, Unprocessable
from api.extensions import db
from api.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 255
_SCOPE_LENGTH = 300


@dataclass(frozen=True)
class Claimed:
    """This request owns the key and must run; `key_id` is where its answer will be stored."""

    key_id: int


@dataclass(frozen=True)
class StoredResponse:
    """The answer given to the first request with this key."""

    status: int
    body: Any


def scope_for(*, caller: str, method: str, path: str) -> str:
    """`<caller>|<METHOD> <path>`, hashed when it would not fit the column."""
    scope = f"{caller}|{method.upper()} {path}"
    if len(scope) <= _SCOPE_LENGTH:
        return scope
    return f"sha256:{hashlib.sha256(scope.encode()).hexdigest()}"


def request_fingerprint(*, body: Any, query: str = "") -> str:
    """A stable hash of what the request asks for (JSON body with sorted keys, and the query string)."""
    canonical = json.dumps({"body": body, "query": query}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_key(*, scope: str, key: str, request_hash: str, now: datetime) -> Claimed | StoredResponse:
    """Claim `key` for this request, or return the answer stored for it.

    :raise 422 IDEMPOTENCY_KEY_REUSED: the key was used for a different request.
    :raise 409 IDEMPOTENCY_KEY_IN_USE: the first request with this key is still running.
    """
    settings = current_app.config["SETTINGS"]
    expires_at = now + timedelta(hours=settings.idempotency_ttl_hours)
    locked_until = now + timedelta(seconds=settings.idempotency_lease_seconds)
    with atomic():
        # ON CONFLICT DO NOTHING waits for a concurrent inserter of the same key to finish,
        # so the SELECT below always sees the winner's committed row.
        new_id = db.session.scalar(
            insert(IdempotencyKey)
            .values(scope=scope, key=key, request_hash=request_hash, expires_at=expires_at, locked_until=locked_until)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(IdempotencyKey.id)
        )
        if new_id is not None:
            return Claimed(new_id)
        row = db.session.scalars(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key).with_for_update()
        ).one()
        if row.expires_at <= now:
            # An expired key is a new key (the purge may simply not have run yet).
            row.request_hash = request_hash
            row.response_status = None
            row.response_body = None
            row.expires_at = expires_at
            row.locked_until = locked_until
            return Claimed(row.id)
        if row.request_hash != request_hash:
            raise Unprocessable(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was already used for a different request.",
            )
        if row.response_status is not None:
            return StoredResponse(status=row.response_status, body=row.response_body)
        if row.locked_until is not None and row.locked_until > now:
            raise Conflict(
                ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                headers={"Retry-After": "1"},
            )
        # The first attempt died without answering and its lease ran out: this retry takes over.
        row.locked_until = locked_until
        return Claimed(row.id)


def record_response(*, key_id: int, status: int, body: Any, with_open_change: bool = False) -> None:
    """Store the answer so that retries with the same key replay it.

    With `with_open_change`, the request's use case left its transaction open (`db.atomic`):
    the answer joins it and both commit together, so a crash can never keep the change and lose
    the answer (a retry would then run the request again: a second booking).
    """
    statement = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id)
        .values(response_status=status, response_body=body, locked_until=None)
    )
    if with_open_change:
        db.session.execute(statement)
        faults.inject("before_idempotent_commit")
        commit_deferred()
        return
    with atomic():
        db.session.execute(statement)


def release_key(*, key_id: int) -> None:
    """Forget a key whose request produced no storable answer (5xx), so a retry runs again."""
    with atomic():
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))


def purge_expired_keys(now: datetime) -> int:
    """Delete keys past their 24 h lifetime (the worker runs this). Returns how many went."""
    with atomic():
        result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return result.rowcount or 0
