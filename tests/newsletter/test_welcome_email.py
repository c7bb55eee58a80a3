"""A new subscription gets one welcome email, through the outbox, whose link unsubscribes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from api.extensions import db
from api.outbox import worker
from tests.support.smtp import smtp_server

BASE = "https://book.cafefausse.example"


@pytest.fixture
def mail_app(make_app, committing_database):
    with smtp_server() as (inbox, port):
        app = make_app(
            database_url=committing_database, smtp_host="127.0.0.1", smtp_port=port, public_base_url=BASE + "/"
        )
        yield app, inbox
        with app.app_context():
            db.engine.dispose()


def drain(app) -> None:
    with app.app_context():
        while worker.run_once():
            pass


def parts(message) -> dict[str, str]:
    return {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk() if not p.is_multipart()}


def unsubscribe_link(message) -> str:
    [link] = set(re.findall(re.escape(BASE) + r"/newsletter/unsubscribe\?token=[\w\-%]+", parts(message)["text/plain"]))
    assert f'href="{link}"' in parts(message)["text/html"]
    return link


def test_a_signup_gets_one_welcome_whose_link_unsubscribes(mail_app):
    app, inbox = mail_app
    client = app.test_client()

    assert client.post("/api/newsletter", json={"email": "Fan@Example.com"}).status_code == 200
    drain(app)
    client.post("/api/newsletter", json={"email": "fan@example.com", "name": "Fan"})  # a repeat: no second welcome
    drain(app)

    [welcome] = inbox.to("fan@example.com")
    assert "Welcome" in welcome["Subject"]
    token = parse_qs(urlsplit(unsubscribe_link(welcome)).query)["token"][0]
    page = client.get(urlsplit(unsubscribe_link(welcome)).path + "?" + urlsplit(unsubscribe_link(welcome)).query)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    response = client.post("/api/newsletter/unsubscribe", json={"token": token})
    assert (response.status_code, response.get_json()) == (200, {"success": True})


def test_subscribing_again_after_leaving_is_welcomed_again_and_leaving_first_sends_nothing(mail_app):
    app, inbox = mail_app
    client = app.test_client()
    client.post("/api/newsletter", json={"email": "back@example.com"})
    drain(app)
    token = parse_qs(urlsplit(unsubscribe_link(inbox.to("back@example.com")[0])).query)["token"][0]
    client.post("/api/newsletter/unsubscribe", json={"token": token})

    client.post("/api/newsletter", json={"email": "back@example.com"})
    drain(app)
    assert len(inbox.to("back@example.com")) == 2

    client.post("/api/newsletter", json={"email": "gone@example.com"})
    with app.app_context():
        from api.newsletter.models import Subscriber

        gone = db.session.query(Subscriber).filter_by(email="gone@example.com").one()
        gone_token = gone.unsubscribe_token
        db.session.rollback()
    client.post("/api/newsletter/unsubscribe", json={"token": gone_token})  # before the worker ran
    drain(app)
    assert inbox.to("gone@example.com") == []
