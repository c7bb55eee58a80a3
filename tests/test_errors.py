"""Every error status answers the one JSON envelope, including werkzeug's own."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask_smorest import Blueprint
from marshmallow import fields

from api.errors import Conflict, ErrorCode, Gone, TooManyRequests
from api.schemas import CamelCaseSchema


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.data
    assert response.is_json, response.data
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert b"Traceback" not in response.data
    return body


class EchoSchema(CamelCaseSchema):
    guest_count = fields.Integer(required=True)


@pytest.fixture
def probe_app(make_app) -> Flask:
    """An app with a few extra routes that raise on purpose."""
    from api.extensions import api as smorest_api

    app = make_app(max_content_length=1024)
    blp = Blueprint("probe", __name__, url_prefix="/_probe")

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(EchoSchema)
    @blp.response(200, EchoSchema)
    def echo(body):
        return body

    @blp.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @blp.route("/conflict")
    def conflict():
        raise Conflict(ErrorCode.RACE_LOST, "Someone else got it.")

    @blp.route("/gone")
    def gone():
        raise Gone(ErrorCode.HOLD_EXPIRED, "Too late.")

    @blp.route("/limited")
    def limited():
        raise TooManyRequests(ErrorCode.RATE_LIMITED, "Slow down.", headers={"Retry-After": "7"})

    with app.app_context():
        smorest_api.register_blueprint(blp)
    return app


@pytest.fixture
def probe(probe_app):
    return probe_app.test_client()


def test_unknown_route_is_404_envelope(client):
    assert_envelope(client.get("/no/such/thing"), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope_with_allow_header(client):
    response = client.delete("/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400_envelope(probe):
    response = probe.post("/_probe/echo", data="{not json", content_type="application/json")
    assert_envelope(response, 400, "MALFORMED_JSON")


def test_oversized_body_is_413_envelope(probe):
    response = probe.post(
        "/_probe/echo", data='{"guestCount": 1, "pad": "' + "x" * 4096 + '"}', content_type="application/json"
    )
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_non_json_body_is_415_envelope(probe):
    response = probe.post("/_probe/echo", data="guestCount=2", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_validation_error_is_422_with_field_details(probe):
    response = probe.post("/_probe/echo", json={"guestCount": "many", "extra": 1})
    body = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert "guestCount" in body["details"]["fields"]
    assert "extra" in body["details"]["fields"]


def test_valid_body_round_trips_in_camel_case(probe):
    response = probe.post("/_probe/echo", json={"guestCount": 3})
    assert response.status_code == 200
    assert response.get_json() == {"guestCount": 3}


def test_app_errors_keep_their_status_and_code(probe):
    assert_envelope(probe.get("/_probe/conflict"), 409, "RACE_LOST")
    assert_envelope(probe.get("/_probe/gone"), 410, "HOLD_EXPIRED")
    response = probe.get("/_probe/limited")
    assert_envelope(response, 429, "RATE_LIMITED")
    assert response.headers["Retry-After"] == "7"


def test_unhandled_exception_is_500_with_request_id_and_logged_traceback(probe, caplog):
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = probe.get("/_probe/boom", headers={"X-Request-ID": "req-123"})
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert body["details"]["requestId"] == "req-123"
    assert b"hunter2" not in response.data
    assert any(record.exc_info for record in caplog.records), "traceback must be logged server-side"


def test_request_id_is_generated_and_echoed(client):
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) >= 16
    assert client.get("/health", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == "abc-1"
    assert (
        client.get("/health", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"] != "bad id <script>"
    )
