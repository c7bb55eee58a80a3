"""What the rate limits count and how much they allow: flask-limiter keys and limit callables.

Limits are callables reading the current app's `Settings`, so a test app built with other
limits reads its own. Keys never hold personal data: an email is a SHA-256 prefix of its
normalised form, a user is their id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, current_app, request
from flask_jwt_extended import get_jwt_identity
from flask_limiter.util import get_remote_address

from api.accounts.service import normalise_email
from api.extensions import limiter
from api.schemas import ErrorSchema

# For `@blp.alt_response(429, **RATE_LIMITED)`.
RATE_LIMITED = {"schema": ErrorSchema, "description": "RATE_LIMITED (with Retry-After and X-RateLimit-* headers)"}


def setting(name: str) -> Callable[[], str]:
    """The limit in the current app's setting `name` (flask-limiter notation, e.g. "5 per minute")."""
    return lambda: getattr(current_app.config["SETTINGS"], name)


def email_key() -> str:
    """The normalised email of the JSON body, hashed (the client's address when there is none)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return f"ip:{get_remote_address()}"
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
    return f"email:{digest}"


def user_key() -> str:
    """The signed-in user (the view's `auth_required` has verified the token before the limit runs)."""
    return f"user:{get_jwt_identity()}"


def failed(response: Response) -> bool:
    """`deduct_when` for limits that count failures only: a wrong password is 401."""
    return response.status_code == 401


def forget_failures(response: Response) -> Response:
    """After a success, clear the failure counters of this request's email key (`after_this_request`).

    Runs before flask-limiter's own after-request hook, so the headers show the budget restored.
    """
    key = email_key()
    for current in limiter.current_limits:
        if key in current.request_args:
            limiter.limiter.clear(current.limit, *current.request_args)
    return response
