"""Access tokens (flask-jwt-extended) and the loaders that answer in our error envelope."""

from __future__ import annotations

import uuid
from datetime import timedelta
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
