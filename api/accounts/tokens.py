"""Access tokens (flask-jwt-extended), opaque refresh tokens and their cookie, and the loaders
that answer in our error envelope.

Access tokens are short-lived JWTs sent as `Authorization: Bearer`, with `iss`, `aud` and `exp`
required and checked. Each one belongs to the refresh token it was issued with (its `jti` is
that row's id), and lives only while that row is not revoked: logout, reuse detection and
deactivation end the access tokens of the session at once.

Refresh tokens are opaque secrets: the client holds them in an HttpOnly cookie scoped to
`/api/auth`, the database holds only their SHA-256 (a leaked table cannot be replayed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from api.accounts.models import RefreshToken, User
from api.errors import ErrorCode, Forbidden, error_response
from api.extensions import db, jwt


def issue_access_token(user: User, *, session: RefreshToken, now: datetime) -> tuple[str, int]:
    """The access token of `session` (a refresh-token row) and the seconds it has left.

    Deterministic: its `jti` is the row's id and its times derive from `session.issued_at`, so a
    refresh replayed within the grace window hands out the very same token again.
    """
    expires_at = session.issued_at + timedelta(minutes=current_app.config["SETTINGS"].jwt_access_minutes)
    token = create_access_token(
        identity=str(user.id),
        additional_claims={
            "role": user.role,
            "jti": str(session.id),
            "iat": session.issued_at,
            "nbf": session.issued_at,
            "exp": expires_at,
        },
    )
    return token, max(0, int((expires_at - now).total_seconds()))


# Without Secure (plain-http development) browsers refuse the __Secure- prefix, so the name follows.
REFRESH_COOKIE = "refresh_token"
SECURE_REFRESH_COOKIE = "__Secure-refresh_token"
# Only the auth endpoints ever see the cookie; every other request leaves it at home.
REFRESH_COOKIE_PATH = "/api/auth"


def refresh_cookie_name() -> str:
    """`__Secure-refresh_token` when the cookie is Secure (production), else `refresh_token`.

    The prefix makes browsers refuse the cookie unless it was set Secure over https, so a
    network attacker or a sibling subdomain cannot plant one. (`__Host-` would also forbid our
    `Path=/api/auth`.)
    """
    return SECURE_REFRESH_COOKIE if current_app.config["SETTINGS"].refresh_cookie_secure else REFRESH_COOKIE


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token (256 random bits, URL-safe) and the hash we store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def successor_refresh_token(token: str, *, client: str) -> tuple[str, str]:
    """The token that rotation hands `client` for `token`, and its hash.

    An HMAC of both under the server's secret: unpredictable without the old token, and the same
    every time the same client presents it, so a replay within the grace window can be answered
    with the pair already issued (the database keeps no plaintext to hand out again). Another
    client gets another successor, which does not exist: that is reuse.
    """
    key = current_app.config["SETTINGS"].jwt_secret_key.encode()
    digest = hmac.new(key, b"refresh-successor\0" + token.encode() + b"\0" + client.encode(), hashlib.sha256)
    successor = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
    return successor, hash_refresh_token(successor)


def hash_refresh_token(token: str) -> str:
    # A plain SHA-256 is enough: the token is random and long, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_trusted_origin(origin: str | None) -> None:
    """CSRF check of the cookie-authenticated endpoints: a browser's `Origin` must be one of ours.

    PUBLIC_BASE_URL's origin and CORS_ORIGINS (the frontends allowed to call the API) are trusted.
    Requests without `Origin` (native apps, curl) pass: browsers always send it on a cross-site
    POST. :raise 403 ORIGIN_NOT_ALLOWED:
    """
    if origin is None:
        return
    settings = current_app.config["SETTINGS"]
    allowed = {_origin_of(settings.public_base_url)}
    allowed.update(_origin_of(o) for o in settings.allowed_origins)
    if _origin_of(origin) not in allowed:
        raise Forbidden(ErrorCode.ORIGIN_NOT_ALLOWED, "This origin may not use the session cookie.")


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def set_refresh_cookie(response: Response, token: str, *, expires_at: datetime, now: datetime) -> None:
    """Hand the refresh token to the browser: HttpOnly, SameSite=Strict, Path=/api/auth, Secure per settings."""
    response.set_cookie(
        refresh_cookie_name(),
        token,
        max_age=max(0, int((expires_at - now).total_seconds())),
        expires=expires_at,
        path=REFRESH_COOKIE_PATH,
        secure=current_app.config["SETTINGS"].refresh_cookie_secure,
        httponly=True,
        samesite="Strict",
    )


def clear_refresh_cookie(response: Response) -> None:
    response.delete_cookie(
        refresh_cookie_name(),
        path=REFRESH_COOKIE_PATH,
        secure=current_app.config["SETTINGS"].refresh_cookie_secure,
        httponly=True,
        samesite="Strict",
    )


def register_jwt_handlers(app: Flask) -> None:
    """Look the user up on every request (a deactivated user stops at once) and answer 401s our way."""

    @jwt.user_lookup_loader
    def load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        try:
            user_id = uuid.UUID(payload["sub"])
        except (KeyError, ValueError):
            return None
        user = g.pop("_session_user", None)  # read with the session check just before
        if user is None or user.id != user_id:
            user = db.session.get(User, user_id)
        return user if user is not None and user.is_active else None

    @jwt.token_in_blocklist_loader
    def session_ended(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # One primary-key read: the refresh token this access token was issued with must be live.
        # It reads the session's user too, for `load_user` (which flask-jwt-extended calls next),
        # so an authenticated request costs one round trip here instead of two (docs/benchmarks.md).
        try:
            session_id = uuid.UUID(str(payload.get("jti")))
        except ValueError:
            return True
        live = (
            select(User)
            .join(RefreshToken, RefreshToken.user_id == User.id)
            .where(RefreshToken.id == session_id, RefreshToken.revoked_at.is_(None))
        )
        user = db.session.scalar(live)
        g._session_user = user
        return user is None

    @jwt.token_verification_loader
    def has_expiry(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # PyJWT checks `exp` only when present (`iss` and `aud` it requires, as configured).
        return "exp" in payload

    @jwt.token_verification_failed_loader
    def failed_verification(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, ErrorCode.TOKEN_INVALID, "The access token is invalid.")

    @jwt.user_lookup_error_loader
    def user_lookup_error(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, ErrorCode.TOKEN_REVOKED, "This account is no longer active.")

    @jwt.unauthorized_loader
    def missing_token(reason: str) -> Response:
        return error_response(401, ErrorCode.UNAUTHORIZED, "Sign in: send 'Authorization: Bearer <token>'.")

    @jwt.invalid_token_loader
    def invalid_token(reason: str) -> Response:
        return error_response(401, ErrorCode.TOKEN_INVALID, "The access token is invalid.")

    @jwt.expired_token_loader
    def expired_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, ErrorCode.TOKEN_EXPIRED, "The access token has expired; refresh it.")

    @jwt.revoked_token_loader
    def revoked_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, ErrorCode.TOKEN_REVOKED, "The access token has been revoked.")

    @jwt.needs_fresh_token_loader
    def needs_fresh(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, ErrorCode.UNAUTHORIZED, "Sign in again to do this.")
