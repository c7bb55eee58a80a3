"""`@idempotent`: honour the `Idempotency-Key` header on a POST route.

Apply it under the route (and under `auth_required`, so the caller is known) and above the
flask-smorest argument/response decorators, so it sees the finished response:

    @blp.route("/hold", methods=["POST"])
    @auth_required()
    @idempotent
    @blp.arguments(HoldCreateSchema)
    @blp.response(201, HoldCreatedSchema)
    def create_hold(args): ...

Without the header the route behaves as before. With it, keys are scoped by caller (the
token's user, else the client IP) and by method and path; see `api.idempotency.service` for
the replay / 422 IDEMPOTENCY_KEY_REUSED / 409 IDEMPOTENCY_KEY_IN_USE rules. Client errors
(4xx) are stored and replayed like successes, because the same request would get the same
answer; 5xx answers are not stored, so a retry runs again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Response, jsonify, make_response, request
from flask_jwt_extended import get_jwt
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from api import faults
from api.db import commit_deferred, defer_next_commit, discard_deferred, take_deferred_commit
from api.errors import AppError, ErrorCode, Unprocessable, error_response, http_exception_response
from api.idempotency import service

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# Answers that must not be kept: a request refused for carrying card data is not stored,
# not even as a hash of its body.
_NEVER_STORED = {ErrorCode.RAW_CARD_REJECTED.value}

_HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": service.MAX_KEY_LENGTH},
    "description": (
        "Client-chosen key (e.g. a UUID) that makes retries safe for 24 h: the same key and body replay the "
        "first answer; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; while the first request "
        "runs, a duplicate gets 409 IDEMPOTENCY_KEY_IN_USE."
    ),
}


def idempotent(view: F | None = None, *, answer_in_transaction: bool = False) -> Any:
    """Replay the stored answer for a repeated `Idempotency-Key` instead of running the view again.

    `answer_in_transaction=True` is for views whose use case is one transaction (`atomic()` once):
    the answer is stored in that transaction, so the change and its answer commit together.
    Views that commit several times (the deposit checkout: its payment row must commit before
    the gateway is called) store the answer afterwards, and rely on their own uniqueness.
    """
    if view is None:
        return functools.partial(idempotent, answer_in_transaction=answer_in_transaction)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > service.MAX_KEY_LENGTH or not key.isprintable():
            raise Unprocessable(
                ErrorCode.VALIDATION_ERROR,
                f"{HEADER} must be 1 to {service.MAX_KEY_LENGTH} printable characters.",
                details={"fields": {HEADER: ["Invalid value."]}},
            )
        now = datetime.now(UTC)
        outcome = service.claim_key(
            scope=service.scope_for(caller=_caller(), method=request.method, path=request.path),
            key=key,
            request_hash=service.request_fingerprint(
                body=request.get_json(silent=True), query=request.query_string.decode("latin-1")
            ),
            now=now,
        )
        if isinstance(outcome, service.StoredResponse):
            replay = jsonify(outcome.body)
            replay.status_code = outcome.status
            replay.headers[REPLAYED_HEADER] = "true"
            return replay
        if answer_in_transaction:
            defer_next_commit()
        try:
            response = _run(view, args, kwargs)
        except BaseException:
            discard_deferred()  # nothing the view changed survives an answer we cannot give
            service.release_key(key_id=outcome.key_id)
            raise
        change_open = take_deferred_commit()
        body = response.get_json(silent=True) if response.is_json else None
        code = body.get("code") if isinstance(body, dict) else None
        if response.status_code >= 500 or body is None or code in _NEVER_STORED:
            if change_open:
                commit_deferred()
            service.release_key(key_id=outcome.key_id)
        else:
            service.record_response(
                key_id=outcome.key_id, status=response.status_code, body=body, with_open_change=change_open
            )
        faults.inject("after_idempotent_commit")
        return response

    doc = getattr(wrapper, "_apidoc", {})
    manual = doc.get("manual_doc", {})
    wrapper._apidoc = {  # type: ignore[attr-defined]
        **doc,
        "manual_doc": {**manual, "parameters": [*manual.get("parameters", []), _HEADER_DOC]},
    }
    return wrapper  # type: ignore[return-value]


def _run(view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
    """Call the view and turn its client errors into the envelope here, so they can be stored."""
    try:
        return make_response(view(*args, **kwargs))
    except AppError as err:
        return error_response(err.status, err.code, err.message, err.details, err.headers)
    except HTTPException as err:
        if (err.code or 500) >= 500:
            raise
        return http_exception_response(err)


def _caller() -> str:
    """The signed-in user when the route verified a token, else the client address."""
    try:
        subject = get_jwt().get("sub")
    except RuntimeError:  # the route verified no token (a public route)
        subject = None
    return f"user:{subject}" if subject else f"ip:{get_remote_address()}"
