"""Request guards and response headers that apply to every endpoint."""

from __future__ import annotations

import json
import secrets

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from api.errors import AppError, BadRequest, ErrorCode

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Fewer opening brackets than this cannot nest deeply enough to exhaust Python's recursion limit.
_NESTING_CHECK_FROM = 500
UNMATCHED_ROUTE = "<unmatched>"

# JSON and everything else: nothing may load, run or frame it.
_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The Café Fausse website (the `web` blueprint): nothing inline at all, no nonce, no other origin;
# scripts, styles, images and API calls from this origin only.
_SITE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)
# Other HTML (Swagger UI at /docs): own files, plus inline blocks carrying this response's nonce.
# Swagger UI sets inline style attributes, hence style-src-attr.
_HTML_CSP = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self'{nonce}; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Our own pages (the website and the staff console): nothing inline at all.
_STRICT_BLUEPRINTS = frozenset({"web", "console"})
_HSTS = "max-age=31536000; includeSubDomains"
_NONCE_KEY = "seatkeeper.csp_nonce"


class UnsupportedMediaType(AppError):
    status = 415


def route_template() -> str:
    """The matched URL rule (`/api/reservations/<reservation_id>`), never the path with its ids."""
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE


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


def csp_nonce() -> str:
    """This response's Content-Security-Policy nonce (templates: `<script nonce="{{ csp_nonce() }}">`)."""
    # Kept in the request's environ, not `g`: an app context (and its `g`) may outlive one request.
    return request.environ.setdefault(_NONCE_KEY, secrets.token_urlsafe(16))


def register_security_headers(app: Flask, *, production: bool) -> None:
    """CSP, nosniff and Referrer-Policy on every response; HSTS in production (served over https)."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if response.mimetype == "text/html" and request.blueprint in _STRICT_BLUEPRINTS:
            policy = _SITE_CSP
        elif response.mimetype == "text/html":
            nonce = f" 'nonce-{request.environ[_NONCE_KEY]}'" if _NONCE_KEY in request.environ else ""
            policy = _HTML_CSP.format(nonce=nonce)
        else:
            policy = _API_CSP
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if production:
            response.headers.setdefault("Strict-Transport-Security", _HSTS)
        return response


def trust_proxies(app: Flask, count: int) -> None:
    """Read the client's address, scheme, host and prefix from `count` reverse proxies' X-Forwarded-* headers."""
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=count)
