"""Access tokens (flask-jwt-extended), opaque refresh tokens and their cookie, and the loaders
that answer in our error envelope.

Access tokens are short-lived JWTs sent as `Authorization: Bearer`. Refresh tokens are random
opaque secrets: the client holds them in an HttpOnly cookie scoped to `/api/auth`, the database
holds only their SHA-256 (a leaked table cannot be replayed).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app
from flask_jwt_extended import create_access_token

from api.accounts.models import User
from api.errors import ErrorCode, error_response
from api.extensions import db, jwt


def issue_access_token(user: User) -> tuple[str, int]:
    """Mint a short-lived access token for `user`; return it and its lifetime in seconds."""
    minutes = current_app.config["SETTINGS"].jwt_access_minutes
    token = create_access_token(
        identity=str(user.id),
        additional_claims={"role": user.role},
        expires_delta=timedelta(minutes=minutes),
    )
    return token, minutes * 60


REFRESH_COOKIE = "refresh_token"
# Only the auth endpoints ever see the cookie; every other request leaves it at home.
REFRESH_COOKIE_PATH = "/api/auth"


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token (256 random bits, URL-safe) and the hash we store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    # A plain SHA-256 is enough: the token is random and long, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def set_refresh_cookie(response: Response, token: str, *, expires_at: datetime, now: datetime) -> None:
    """Hand the refresh token to the browser: HttpOnly, SameSite=Strict, Path=/api/auth, Secure per settings."""
    response.set_cookie(
        REFRESH_COOKIE,
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
        REFRESH_COOKIE,
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
        user = db.session.get(User, user_id)
        return user if user is not None and user.is_active else None

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
