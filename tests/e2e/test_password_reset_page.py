"""A forgotten password in real headless Chromium: the request over HTTP to gunicorn, the email
through the worker to a real SMTP server, the link opened in the browser, the new password set on
the page, then a sign-in with it."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from api.extensions import db
from api.outbox import worker
from tests.accounts.test_password_reset import link_token
from tests.support.live_server import gunicorn_server
from tests.support.smtp import smtp_server

PUBLIC = "https://book.example.test"


def test_a_guest_follows_the_emailed_link_and_signs_in_with_the_new_password(page, make_app, committing_database):
    with smtp_server() as (inbox, port):
        mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "PUBLIC_BASE_URL": PUBLIC}
        with gunicorn_server(committing_database, workers=1, env=mail) as server:
            api = server.url("/api/auth")
            body = {"email": "ada@example.com", "password": "correct horse battery staple"}
            assert requests.post(f"{api}/register", json=body, timeout=10).status_code == 201
            assert requests.post(f"{api}/password-reset", json={"email": body["email"]}, timeout=10).status_code == 202

            app = make_app(
                database_url=committing_database, smtp_host="127.0.0.1", smtp_port=port, public_base_url=PUBLIC
            )
            with app.app_context():
                assert worker.run_once() == 1
                db.engine.dispose()
            [message] = inbox.to("ada@example.com")
            token = link_token(message)  # checks the link is PUBLIC_BASE_URL/reset-password?token=...

            page.goto(server.url(f"/reset-password?token={token}"))
            assert urlsplit(page.url).query == "", "the token is dropped from the address bar and history"
            page.fill("#password", "a brand new passphrase")
            page.fill("#again", "a brand new passphrase")
            page.click("#reset-form button")
            page.wait_for_selector("#reset-status.ok")

            signed_in = requests.post(
                f"{api}/login", json={"email": body["email"], "password": "a brand new passphrase"}, timeout=10
            )
            assert signed_in.status_code == 200
            assert requests.post(f"{api}/login", json=body, timeout=10).status_code == 401

            # the same link a second time: the page says so
            page.goto(server.url(f"/reset-password?token={token}"))
            page.fill("#password", "yet another passphrase")
            page.fill("#again", "yet another passphrase")
            page.click("#reset-form button")
            page.wait_for_selector("#reset-status.error")
            assert "already used" in page.inner_text("#reset-status")
