"""Security headers on every response, and ProxyFix configured by TRUSTED_PROXIES."""

from __future__ import annotations

import re

import pytest
from flask import request

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@pytest.mark.parametrize("path", ["/health", "/api/restaurants", "/openapi.json", "/no/such/thing", "/metrics"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == JSON_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # not in production: may be plain http


def test_error_responses_carry_them_too(client):
    response = client.post("/api/reservations", data="x", content_type="text/plain")
    assert response.status_code == 415
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == JSON_CSP


def test_hsts_only_in_production(make_app):
    app = make_app(env="production", refresh_cookie_secure=True)
    response = app.test_client().get("/health")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


WEBSITE_PAGES = [
    "/", "/menu", "/reservations", "/about", "/gallery", "/newsletter/unsubscribe?token=abc", "/manage/abc",
    "/reset-password?token=abc",
]  # fmt: skip


@pytest.mark.parametrize("path", WEBSITE_PAGES)
def test_website_pages_allow_only_their_own_files_and_nothing_inline(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(directive.split(" ", 1) for directive in response.headers["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert policy[directive] == "'self'", directive  # no 'unsafe-inline', no nonce, no other origin
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    page = response.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []  # every script is a file
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"\son[a-z]+=", page) == []  # no inline event handlers either
    for url in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert url.startswith(("/", "#", "tel:", "mailto:")) and not url.startswith("//"), url  # no other host


@pytest.mark.parametrize("path", ["/docs"])
def test_html_pages_allow_only_their_own_files_and_inline_blocks_with_this_responses_nonce(client, path):
    first, second = client.get(path), client.get(path)
    assert first.status_code == 200
    policy = first.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    page = first.get_data(as_text=True)
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline_scripts and all(f'nonce="{nonce}"' in attributes for attributes in inline_scripts)
    assert f"style-src 'self' 'nonce-{nonce}'" in policy
    assert "'unsafe-inline'" not in policy.replace("style-src-attr 'unsafe-inline'", "")
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert nonce not in second.headers["Content-Security-Policy"]  # a fresh nonce per response


def _echo_app(make_app, trusted_proxies: int):
    app = make_app(trusted_proxies=trusted_proxies)

    @app.get("/_test/client")
    def client_as_seen() -> dict:
        return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app.test_client()


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "book.example.com"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(make_app):
    seen = _echo_app(make_app, 0).get("/_test/client", headers=FORWARDED).get_json()
    assert seen == {"addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


def test_with_one_trusted_proxy_the_client_address_scheme_and_host_come_from_it(make_app):
    seen = _echo_app(make_app, 1).get("/_test/client", headers=FORWARDED).get_json()
    assert seen == {"addr": "203.0.113.9", "scheme": "https", "host": "book.example.com"}


def test_a_client_cannot_spoof_its_address_past_the_trusted_proxies(make_app):
    # The proxy appends the address it saw; whatever the client put before it is not trusted.
    headers = {**FORWARDED, "X-Forwarded-For": "10.6.6.6, 203.0.113.9"}
    seen = _echo_app(make_app, 1).get("/_test/client", headers=headers).get_json()
    assert seen["addr"] == "203.0.113.9"
