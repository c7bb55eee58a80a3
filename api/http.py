"""Request guards that apply to every endpoint."""

from __future__ import annotations

from flask import Flask, request

from api.errors import AppError, ErrorCode

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class UnsupportedMediaType(AppError):
    status = 415


def register_request_guards(app: Flask) -> None:
    """Every request body is JSON: anything else is 415 before a view parses it."""

    @app.before_request
    def require_json_bodies() -> None:
        if request.method not in _BODY_METHODS:
            return
        has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
        if has_body and not request.is_json:
            raise UnsupportedMediaType(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "Send the body as application/json.",
                details={"contentType": request.mimetype or None},
            )
