"""The FoodTok client's way of calling the API, in real headless Chromium against gunicorn (issue 14).

1. Cross-origin: a static page on a second loopback origin (listed in CORS_ORIGINS) calls the API
   with `fetch` exactly as the client's `apiRequest` does (JSON content type, so preflighted;
   Bearer from `localStorage['auth_token']`, stored by the one line README gives). The same page
   from an origin not listed is blocked by the browser.
2. Same origin: the page and `/api` behind one local reverse proxy (as docs/app-frontend.md
   sets up with nginx), no token anywhere: the HttpOnly access cookie that login sets signs it in.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from api.db import atomic
from api.extensions import db
from api.restaurants.demo import ensure_cafe_fausse
from api.restaurants.models import ExternalId
from tests.booking.app_flow import future_day, live_env
from tests.support.live_server import free_port, gunicorn_server

YELP_ID = "cafe-fausse-washington"

# The client's `apiRequest` (src/lib/api), reduced to what it does on the wire, and its flow.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>FoodTok stand-in</title></head><body>
<script>
window.API = "%(api)s";
async function apiRequest(path, options = {}) {
  const token = localStorage.getItem('auth_token');
  const headers = {'Content-Type': 'application/json', ...(token ? {Authorization: `Bearer ${token}`} : {})};
  const response = await fetch(`${window.API}${path}`, {...options, headers});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || body.message || 'Request failed');
  return body;
}
async function bookAsTheAppDoes(email, storeToken) {
  const signup = await apiRequest('/auth/signup', {method: 'POST', body: JSON.stringify(
    {email, password: 'a long enough passphrase', firstName: 'Ada', lastName: 'Lovelace'})});
  if (storeToken) localStorage.setItem('auth_token', signup.accessToken);  // README's one added line
  const availability = await apiRequest('/reservations/availability', {method: 'POST', body: JSON.stringify(
    {restaurantId: '%(yelp)s', date: '%(day)s', partySize: 2})});
  const hold = await apiRequest('/reservations/hold', {method: 'POST', body: JSON.stringify(
    {userId: 'current_user', restaurantId: '%(yelp)s', date: '%(day)s', time: '19:00', partySize: 2})});
  const confirmed = await apiRequest('/reservations/confirm', {method: 'POST', body: JSON.stringify(
    {holdId: hold.hold.holdId, userId: 'current_user', paymentMethod: {type: 'credit-card', last4: '4242',
     cardholderName: 'Ada Lovelace', expiryMonth: 12, expiryYear: 2030}})});
  const upcoming = await apiRequest('/reservations/user/current_user?filter=upcoming');
  const favorite = await apiRequest('/favorites', {method: 'POST', body: JSON.stringify(
    {userId: 'current_user', restaurantId: '%(yelp)s', restaurantName: 'Café Fausse', matchScore: 88})});
  return {user: signup.user, slot: availability.slots.find(s => s.time === '19:00'),
          reservation: confirmed.reservation, upcoming, favorite: favorite.favorite,
          cuisines: upcoming[0].restaurantCuisine.join(', ')};
}
</script></body></html>
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the page at /app.html; with `upstream` set, proxies /api/* there (a same-origin reverse proxy)."""

    page = b""
    upstream: str | None = None

    def log_message(self, *args: object) -> None:
        pass

    def _proxy(self) -> None:
        target = urlsplit(self.upstream)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
        headers["Host"] = self.headers["Host"]  # as nginx's `proxy_set_header Host $http_host`
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        connection.request(self.command, self.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in {"connection", "transfer-encoding", "content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        connection.close()

    def _serve(self) -> None:
        if self.upstream and self.path.startswith("/api/"):
            self._proxy()
        elif self.path == "/app.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        else:
            self.send_error(404)

    do_GET = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _serve


@contextmanager
def static_server(port: int, page_html: str, upstream: str | None = None) -> Iterator[None]:
    handler = type("Handler", (_Handler,), {"page": page_html.encode(), "upstream": upstream})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def frontend_origin() -> tuple[int, str]:
    port = free_port()
    return port, f"http://127.0.0.1:{port}"


@pytest.fixture
def api_server(make_app, committing_database, frontend_origin):
    _, origin = frontend_origin
    app = make_app(database_url=committing_database)
    with app.app_context():
        with atomic():
            restaurant, _ = ensure_cafe_fausse()
            restaurant.external_id_rows.append(ExternalId(platform="yelp", external_id=YELP_ID))
        day = future_day(restaurant, 7)
        if day.weekday() == 6:  # Café Fausse closes at 21:00 on Sundays; any other day takes a 19:00 party of 2
            day = future_day(restaurant, 8)
        db.engine.dispose()
    env = live_env(CORS_ORIGINS=origin, REFRESH_COOKIE_SECURE="false")
    with gunicorn_server(committing_database, workers=2, env=env) as server:
        yield server, day


def _check_booking(result: dict, email: str) -> None:  # type: ignore[type-arg]
    assert result["user"]["email"] == email and result["user"]["firstName"] == "Ada"
    assert result["slot"]["remainingCapacity"] > 0
    reservation = result["reservation"]
    assert reservation["status"] == "confirmed" and reservation["restaurantId"] == YELP_ID
    assert reservation["paymentMethod"]["last4"] == "4242"
    assert result["upcoming"][0]["reservationId"] == reservation["reservationId"]
    assert result["cuisines"]  # restaurantCuisine.join works
    assert result["favorite"]["restaurantId"] == YELP_ID


def test_the_client_books_cross_origin_with_a_stored_bearer_token(api_server, frontend_origin, page):
    server, day = api_server
    port, origin = frontend_origin
    html = PAGE % {"api": server.url("/api"), "yelp": YELP_ID, "day": day.isoformat()}
    with static_server(port, html):
        page.goto(f"{origin}/app.html")
        result = page.evaluate("bookAsTheAppDoes('cors@example.com', true)")
        _check_booking(result, "cors@example.com")

        # The same page from an origin CORS_ORIGINS does not list: the browser blocks the call.
        page.goto(f"http://localhost:{port}/app.html")
        error = page.evaluate("bookAsTheAppDoes('blocked@example.com', true).then(() => null, e => e.message)")
        assert error is not None and "Failed to fetch" in error


def test_the_client_books_same_origin_with_the_access_cookie_alone(api_server, page):
    server, day = api_server
    port = free_port()
    html = PAGE % {"api": "/api", "yelp": YELP_ID, "day": day.isoformat()}
    with static_server(port, html, upstream=server.base_url):
        page.goto(f"http://127.0.0.1:{port}/app.html")
        result = page.evaluate("bookAsTheAppDoes('cookie@example.com', false)")  # no token is ever stored
        _check_booking(result, "cookie@example.com")
        assert page.evaluate("localStorage.getItem('auth_token')") is None
        assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts never see the token
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["access_token_cookie"]["httpOnly"] is True
        assert cookies["access_token_cookie"]["path"] == "/api"
        assert cookies["access_token_cookie"]["sameSite"] == "Lax"


def test_the_browsers_cookie_with_a_foreign_origin_cannot_write(api_server, page):
    """CSRF: the cookie Chromium holds after a same-origin sign-in, replayed with another Origin, is refused."""
    server, day = api_server
    port = free_port()
    html = PAGE % {"api": "/api", "yelp": YELP_ID, "day": day.isoformat()}
    with static_server(port, html, upstream=server.base_url):
        page.goto(f"http://127.0.0.1:{port}/app.html")
        page.evaluate("bookAsTheAppDoes('csrf@example.com', false)")
    cookie = next(c for c in page.context.cookies() if c["name"] == "access_token_cookie")["value"]
    connection = http.client.HTTPConnection(urlsplit(server.base_url).hostname, urlsplit(server.base_url).port)
    connection.request(
        "POST",
        "/api/favorites",
        body=json.dumps({"userId": "current_user", "restaurantId": YELP_ID}),
        headers={
            "Content-Type": "application/json",
            "Origin": "http://evil.example",
            "Cookie": f"access_token_cookie={cookie}",
        },
    )
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["code"]) == (403, "ORIGIN_NOT_ALLOWED")
