"""One JSON access line per request, from the app (gunicorn's plain one is off), without personal data."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import requests

from tests.support.live_server import gunicorn_server

USER_ID = str(uuid.uuid4())
EMAIL = "bob.guest@example.com"
QUERY = {"filter": "past", "email": EMAIL, "userId": USER_ID, "guestName": "Bob Guest", "token": "s3cr3t-t0ken"}


@pytest.mark.committing
def test_gunicorn_writes_one_json_access_line_per_request_without_personal_data(committing_database, tmp_path):
    output = tmp_path / "gunicorn.log"
    request_id = f"access-log-{uuid.uuid4().hex}"
    with gunicorn_server(committing_database, workers=2, env={"LOG_LEVEL": "INFO"}, output=output) as server:
        response = requests.get(
            server.url(f"/api/reservations/user/{USER_ID}"),
            params=QUERY,
            headers={"X-Request-ID": request_id},
            timeout=10,
        )
        assert response.status_code == 401
    log = output.read_text()

    ours = [line for line in log.splitlines() if request_id in line]
    assert len(ours) == 1, ours
    entry = json.loads(ours[0])
    assert entry["logger"] == "api.access"
    assert entry["method"] == "GET"
    assert entry["route"] == "/api/reservations/user/<user_id>"
    assert entry["status"] == 401
    assert entry["query"] == {"filter": "past", "email": "***", "userId": "***", "guestName": "***", "token": "***"}
    # Nowhere in the whole output: not the email, the user's id or the token, and no plain access line.
    for secret in (EMAIL, USER_ID, "s3cr3t-t0ken", "Bob"):
        assert secret not in log
    assert not [line for line in log.splitlines() if "/api/reservations/user" in line and not line.startswith("{")]


def test_any_query_value_that_looks_like_an_email_is_masked(client, caplog):
    caplog.set_level(logging.INFO, logger="api.access")
    client.get("/api/restaurants", query_string={"q": "someone@example.com", "page": "2"})
    (record,) = [r for r in caplog.records if r.name == "api.access"]
    assert record.query == {"q": "***", "page": "2"}
    assert record.route == "/api/restaurants"
