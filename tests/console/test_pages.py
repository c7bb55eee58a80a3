"""The console's pages are shells under a strict CSP: no inline script or style, every asset served by the app."""

from __future__ import annotations

import re

import pytest

from api.console.routes import PAGES

PATHS = ["/staff/login", *(f"/staff{path}" for path, _name, _title in PAGES)]


@pytest.mark.parametrize("path", PATHS)
def test_each_page_is_served_with_its_assets_and_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    policy = dict(directive.split(" ", 1) for directive in response.headers["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert policy[directive] == "'self'", directive  # the website's strict policy: no inline, no nonce
    for asset in re.findall(r'(?:src|href)="(/staff/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200


def test_navigation_marks_the_current_page(client):
    html = client.get("/staff/floor").get_data(as_text=True)
    assert re.search(r'<a href="/staff/floor" aria-current="page">Floor</a>', html)
