"""Password reset by emailed link (and the invitation an admin-created account receives).

1. `POST /api/auth/password-reset {email}` queues one outbox message with the address and a fresh
   request id (`service.queue_password_email`), and answers 202, whatever the address. It reads
   no account, so known, unknown and deactivated addresses cost the same work and get the same
   answer; the per-email rate limit counts them alike.
2. The worker (`send_reset_email`) looks the account up. For an active one it stores the
   SHA-256 of the token, keyed by the request id, and mails `PUBLIC_BASE_URL/reset-password?token=`.
   For anything else it does nothing.
3. `POST /api/auth/password-reset/confirm {token, password}` consumes the token with one
   conditional UPDATE (single use, also under a race), applies the password policy, sets the
   password, ends every other reset link and revokes every refresh token (all sessions end).

The token is an HMAC of the request id under the server's secret (`JWT_SECRET_KEY`): the
database holds only its hash, and the worker can recompute it for a retried send without the
plaintext ever being written anywhere. That is also why this handler sends over SMTP itself
rather than queueing an `email.send` message: that message's payload (the rendered text with
the link) would stay in `outbox_messages`. Rotating the secret voids the links in flight.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from api.accounts.models import PasswordResetToken, User
from api.accounts.passwords import hash_password
from api.accounts.service import (
    PASSWORD_RESET_REQUESTED,
    _revoke_user_tokens,
    check_password_policy,
    end_password_resets,
    find_user_by_email,
    queue_password_email,
)
from api.db import atomic
from api.errors import BadRequest, ErrorCode, Gone
from api.extensions import db
from api.mail import send_email
from api.outbox import service as outbox_service

RESET_PATH = "/reset-password"
# Used and expired rows are kept this long after expiry (an answer of USED/EXPIRED, not INVALID), then pruned.
KEEP_AFTER_EXPIRY = timedelta(days=1)


def reset_token_for(request_id: uuid.UUID) -> str:
    """The link's token for a reset request: 256 bits, unguessable without the server's secret."""
    key = current_app.config["SETTINGS"].jwt_secret_key.encode()
    digest = hmac.new(key, b"password-reset\0" + request_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_reset_token(token: str) -> str:
    # A plain SHA-256 suffices: the token is random and long, there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def reset_link(token: str) -> str:
    return current_app.config["SETTINGS"].public_base_url.rstrip("/") + RESET_PATH + "?" + urlencode({"token": token})


def request_password_reset(*, email: str, now: datetime) -> None:
    """Queue a reset email for `email`, whether or not an account has it (the worker decides)."""
    with atomic():
        queue_password_email(email=email, now=now)


def send_reset_email(payload: dict[str, Any]) -> None:
    """The worker's handler for `password_reset.requested`: store the hashed token, mail the link.

    Idempotent: a second run for the same request finds the row (keyed by the request id) and
    mails the same token again, unless the link was used or has expired meanwhile.
    """
    settings = current_app.config["SETTINGS"]
    request_id = uuid.UUID(payload["request_id"])
    requested_at = datetime.fromisoformat(payload["requested_at"])
    token = reset_token_for(request_id)
    with atomic():
        user = find_user_by_email(email=payload["email"])
        if user is None or not user.is_active:
            return  # nothing to send; the requester got the same 202 anyway
        db.session.execute(
            insert(PasswordResetToken)
            .values(
                id=request_id,
                user_id=user.id,
                token_hash=hash_reset_token(token),
                created_at=requested_at,
                expires_at=requested_at + timedelta(minutes=settings.password_reset_minutes),
            )
            .on_conflict_do_nothing(index_elements=[PasswordResetToken.id])
        )
        row = db.session.get(PasswordResetToken, request_id)
        if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
            return
        to, name = user.email, user.name
    invited = bool(payload.get("invited"))
    context = {"name": name, "link": reset_link(token), "minutes": settings.password_reset_minutes, "invited": invited}
    send_email(
        settings=settings,
        to=to,
        subject="Choose your Seatkeeper password" if invited else "Reset your Seatkeeper password",
        text=render_template("email/password_reset.txt", **context),
        html=render_template("email/password_reset.html", **context),
        message_key=f"password-reset:{request_id}",
    )


def confirm_password_reset(*, token: str, password: str, now: datetime) -> User:
    """Set a new password with a reset link's token; every session of the user ends.

    The policy is checked before the token is consumed, so a weak password does not burn the
    link. Consuming is one conditional UPDATE: of two requests racing with one token, one wins
    and the other answers RESET_TOKEN_USED.

    :raise 400 RESET_TOKEN_INVALID: unknown token, or the account is gone or deactivated
    :raise 410 RESET_TOKEN_USED: :raise 410 RESET_TOKEN_EXPIRED: :raise 422 WEAK_PASSWORD:
    """
    token_hash = hash_reset_token(token)
    row = _check_usable(
        db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)), now=now
    )
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise BadRequest(ErrorCode.RESET_TOKEN_INVALID, "This reset link is not valid.")
    check_password_policy(password=password, email=user.email)
    # argon2 is deliberately slow: hash before the transaction opens.
    password_hash = hash_password(password)
    with atomic():
        consumed = db.session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.id == row.id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(PasswordResetToken.user_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if consumed is None:
            raise Gone(ErrorCode.RESET_TOKEN_USED, "This reset link was already used.")
        user = db.session.get(User, consumed.user_id, with_for_update=True)
        user.password_hash = password_hash
        user.updated_at = now
        end_password_resets(user_id=user.id, now=now)
        _revoke_user_tokens(user.id, now=now)
    return user


def _check_usable(row: PasswordResetToken | None, *, now: datetime) -> PasswordResetToken:
    if row is None:
        raise BadRequest(ErrorCode.RESET_TOKEN_INVALID, "This reset link is not valid.")
    if row.used_at is not None:
        raise Gone(ErrorCode.RESET_TOKEN_USED, "This reset link was already used.")
    if row.expires_at <= now:
        raise Gone(ErrorCode.RESET_TOKEN_EXPIRED, "This reset link has expired: ask for a new one.")
    return row


def prune_password_reset_tokens(*, now: datetime) -> int:
    """Delete reset tokens a day past their expiry; return how many."""
    with atomic():
        result = db.session.execute(
            delete(PasswordResetToken)
            .where(PasswordResetToken.expires_at <= now - KEEP_AFTER_EXPIRY)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def register() -> None:
    outbox_service.register_handler(PASSWORD_RESET_REQUESTED, send_reset_email)
    outbox_service.register_periodic(
        "prune-password-reset-tokens", 3600, lambda now: prune_password_reset_tokens(now=now)
    )
