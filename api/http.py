"""Request guards that apply to every endpoint."""

from __future__ import annotations

import json

from flask import Flask, request

from api.errors import AppError, BadRequest, ErrorCode

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Fewer opening brackets than this cannot nest deeply enough to exhaust Python's recursion limit.
_NESTING_CHECK_FROM = 500


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
        if has_body:
            _refuse_deep_nesting(request.get_data(cache=True))


def _refuse_deep_nesting(body: bytes) -> None:
    """A body nested thousands deep would exhaust the JSON parser's recursion (a 500): 400 instead."""
    if body.count(b"[") + body.count(b"{") < _NESTING_CHECK_FROM:
        return
    try:
        json.loads(body)
    except RecursionError as err:
        raise BadRequest(ErrorCode.MALFORMED_JSON, "The request body is nested too deeply.") from err
    except ValueError:
        return  # not JSON at all: the view's parser answers MALFORMED_JSON as for any broken body
