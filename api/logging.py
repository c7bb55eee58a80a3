"""Structured JSON logs, each line carrying the request id (`X-Request-ID`)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

from api.http import route_template

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Query parameters whose values are personal or secret: logged as "***" (so is any value with an "@").
_PERSONAL_PARAM = re.compile(r"mail|name|phone|user_?id|token|secret|password|key|code|sig", re.IGNORECASE)
_MASK = "***"
_MAX_VALUE = 64
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" not in record.__dict__:
            entry["request_id"] = getattr(g, "request_id", None)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())


def safe_query() -> dict[str, str] | None:
    """The query string for a log line: values of personal or secret parameters masked."""
    if not request.args:
        return None
    return {
        name: _MASK if _PERSONAL_PARAM.search(name) or "@" in value else value[:_MAX_VALUE]
        for name, value in request.args.items()
    }


def register_request_logging(app: Flask) -> None:
    """Accept or mint a request id, echo it back, and log one JSON line per request.

    The line names the route template (`/api/reservations/<reservation_id>`), not the path, and
    masks personal query values (see `safe_query`): ids and emails stay out of the access log.
    """
    access_log = logging.getLogger("api.access")

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        request_id = getattr(g, "request_id", None)
        if request_id:
            response.headers["X-Request-ID"] = request_id
            started = getattr(g, "request_started", None)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route_template(),
                    "query": safe_query(),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                },
            )
        return response
