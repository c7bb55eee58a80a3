"""One error envelope for the whole service: `{"code", "message", "details"}`.

Services raise an `AppError` subclass with a stable `ErrorCode`; `register_error_handlers`
turns it, werkzeug's own HTTP errors, webargs' validation errors and anything unexpected
into that envelope. Clients match on `code`, never on `message`.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger("api.errors")


class ErrorCode(enum.StrEnum):
    # generic
    BAD_REQUEST = "BAD_REQUEST"
    MALFORMED_JSON = "MALFORMED_JSON"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
    GONE = "GONE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    DB_UNAVAILABLE = "DB_UNAVAILABLE"
    LOCK_TIMEOUT = "LOCK_TIMEOUT"
    # auth
    UNAUTHORIZED = "UNAUTHORIZED"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    TOKEN_REUSED = "TOKEN_REUSED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    FORBIDDEN = "FORBIDDEN"
    USER_MISMATCH = "USER_MISMATCH"
    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    RESET_TOKEN_INVALID = "RESET_TOKEN_INVALID"
    RESET_TOKEN_USED = "RESET_TOKEN_USED"
    RESET_TOKEN_EXPIRED = "RESET_TOKEN_EXPIRED"
    # restaurants
    RESTAURANT_NOT_FOUND = "RESTAURANT_NOT_FOUND"
    TABLE_NOT_FOUND = "TABLE_NOT_FOUND"
    RESTAURANT_SLUG_TAKEN = "RESTAURANT_SLUG_TAKEN"
    EXTERNAL_ID_TAKEN = "EXTERNAL_ID_TAKEN"
    TABLE_NUMBER_TAKEN = "TABLE_NUMBER_TAKEN"
    CLOSURE_EXISTS = "CLOSURE_EXISTS"
    CLOSURE_NOT_FOUND = "CLOSURE_NOT_FOUND"
    GUEST_NOT_FOUND = "GUEST_NOT_FOUND"
    BOOKINGS_AFFECTED = "BOOKINGS_AFFECTED"
    PRIMETIME_WINDOW_NOT_FOUND = "PRIMETIME_WINDOW_NOT_FOUND"
    BLOCK_NOT_FOUND = "BLOCK_NOT_FOUND"
    TABLE_BLOCKED = "TABLE_BLOCKED"
    TABLE_TAKEN = "TABLE_TAKEN"
    # booking (seed 003 and 000)
    BAD_TIME = "BAD_TIME"
    BAD_GUESTS = "BAD_GUESTS"
    BAD_EMAIL = "BAD_EMAIL"
    BAD_DATE = "BAD_DATE"
    BAD_DATE_RANGE = "BAD_DATE_RANGE"
    FULLY_BOOKED = "FULLY_BOOKED"
    RACE_LOST = "RACE_LOST"
    DUPLICATE_BOOKING = "DUPLICATE_BOOKING"
    RESERVATION_NOT_FOUND = "RESERVATION_NOT_FOUND"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # guest manage links
    MANAGE_LINK_NOT_FOUND = "MANAGE_LINK_NOT_FOUND"
    MANAGE_LINK_EXPIRED = "MANAGE_LINK_EXPIRED"
    # waitlist
    WAITLIST_EXISTS = "WAITLIST_EXISTS"
    WAITLIST_ENTRY_NOT_FOUND = "WAITLIST_ENTRY_NOT_FOUND"
    OUTSIDE_TIME_WINDOW = "OUTSIDE_TIME_WINDOW"
    # trades (seed 002)
    TRADE_NOT_FOUND = "TRADE_NOT_FOUND"
    TRADE_EXISTS = "TRADE_EXISTS"
    TRADE_NOT_POSSIBLE = "TRADE_NOT_POSSIBLE"
    TRADE_CLOSED = "TRADE_CLOSED"
    TRADE_STALE = "TRADE_STALE"
    TRADE_CONFLICT = "TRADE_CONFLICT"
    TOO_LATE_TO_CHANGE = "TOO_LATE_TO_CHANGE"
    PAYMENT_METHOD_REQUIRED = "PAYMENT_METHOD_REQUIRED"
    # holds and deposits (seed 000)
    ACTIVE_HOLD_EXISTS = "ACTIVE_HOLD_EXISTS"
    NO_ACTIVE_HOLD = "NO_ACTIVE_HOLD"
    HOLD_NOT_FOUND = "HOLD_NOT_FOUND"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    PAYMENT_GATEWAY_ERROR = "PAYMENT_GATEWAY_ERROR"
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    PAYMENT_STATE_CONFLICT = "PAYMENT_STATE_CONFLICT"
    RAW_CARD_REJECTED = "RAW_CARD_REJECTED"
    PAYMENT_TOKEN_REQUIRED = "PAYMENT_TOKEN_REQUIRED"
    WEBHOOK_SIGNATURE_INVALID = "WEBHOOK_SIGNATURE_INVALID"
    WEBHOOK_IN_PROGRESS = "WEBHOOK_IN_PROGRESS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
    # newsletter
    SUBSCRIPTION_NOT_FOUND = "SUBSCRIPTION_NOT_FOUND"


class AppError(Exception):
    """An error a client can act on: a status, a stable code, a message and details."""

    status = 400

    def __init__(
        self,
        code: ErrorCode = ErrorCode.BAD_REQUEST,
        message: str = "The request could not be processed.",
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class PaymentRequired(AppError):
    status = 402


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class Gone(AppError):
    status = 410


class Unprocessable(AppError):
    status = 422


class TooManyRequests(AppError):
    status = 429


class ServiceUnavailable(AppError):
    status = 503


class LockTimeout(ServiceUnavailable):
    """The allocation queue did not move within `LOCK_TIMEOUT_MS`; the client may retry."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.LOCK_TIMEOUT,
            "The restaurant is busy taking other bookings right now; please retry.",
            headers={"Retry-After": "1"},
        )


_DEFAULT_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    410: ErrorCode.GONE,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}

_DEFAULT_MESSAGES = {
    404: "No such resource.",
    405: "This method is not allowed on this resource.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    429: "Too many requests; slow down.",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the one JSON error envelope."""
    response = jsonify({"code": str(code), "message": message, "details": details or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_exception_response(err: HTTPException) -> Response:
    """Map a werkzeug/flask-smorest HTTP error (including webargs' 422) to the envelope."""
    status = err.code or 500
    data = getattr(err, "data", None) or {}
    if status == 422 and "messages" in data:
        details = {"fields": _flatten_messages(data["messages"])}
        return error_response(422, ErrorCode.VALIDATION_ERROR, "Some fields are invalid.", details)
    if status == 400 and _is_json_decode_error(err, data):
        return error_response(400, ErrorCode.MALFORMED_JSON, "The request body is not valid JSON.")
    if status == 429:
        retry_after = _retry_after(err)
        return error_response(
            429,
            ErrorCode.RATE_LIMITED,
            _DEFAULT_MESSAGES[429],
            {"limit": str(getattr(err, "description", ""))},
            {"Retry-After": retry_after} if retry_after else None,
        )
    code = _DEFAULT_CODES.get(status, ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.BAD_REQUEST)
    message = _DEFAULT_MESSAGES.get(status) or (err.description if status < 500 else "Internal error.")
    headers = {}
    if status == 405 and err.get_response().headers.get("Allow"):
        headers["Allow"] = err.get_response().headers["Allow"]
    return error_response(status, code, str(message), headers=headers)


def _flatten_messages(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location (`{"json": {"guests": [...]}}`); clients want fields."""
    locations = {"json", "query", "form", "headers", "files", "view_args"}
    if isinstance(messages, dict) and set(messages) <= locations:
        merged: dict[str, Any] = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                merged.update(location_errors)
            else:
                merged["_schema"] = location_errors
        return merged
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _is_json_decode_error(err: HTTPException, data: dict[str, Any]) -> bool:
    # webargs aborts with {"json": ["Invalid JSON body."]}; Flask's own get_json says "Failed to decode JSON".
    if "json" in (data.get("messages") or {}):
        return True
    return "JSON" in str(getattr(err, "description", "") or "")


def _retry_after(err: HTTPException) -> str | None:
    response = getattr(err, "response", None)
    if response is not None and response.headers.get("Retry-After"):
        return response.headers["Retry-After"]
    return None


def register_error_handlers(app: Flask) -> None:
    """Make every error, everywhere, the JSON envelope."""
    from api.extensions import db
    from api.metrics import APP_ERRORS

    @app.errorhandler(AppError)
    def handle_app_error(err: AppError) -> Response:
        APP_ERRORS.labels(code=str(err.code)).inc()
        return error_response(err.status, err.code, err.message, err.details, err.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(err: HTTPException) -> Response:
        return http_exception_response(err)

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception) -> Response:
        request_id = getattr(g, "request_id", None)
        logger.exception("unhandled error", extra={"request_id": request_id})
        try:
            db.session.rollback()
        except Exception:  # the database may be the thing that failed
            logger.warning("rollback after unhandled error failed")
        return error_response(
            500,
            ErrorCode.INTERNAL_ERROR,
            "Something went wrong on our side; it has been logged.",
            {"requestId": request_id},
        )
