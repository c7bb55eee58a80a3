"""Liveness never touches the database; readiness does and says 503 when it is down."""

from __future__ import annotations

from tests.support.databases import url_for_database
from tests.test_errors import assert_envelope


def test_liveness_is_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_checks_the_database(client):
    assert client.get("/health/ready").get_json() == {"status": "ok"}


def test_readiness_is_503_when_the_database_is_unreachable(make_app, postgres_server_url):
    app = make_app(database_url=url_for_database(postgres_server_url, "no_such_database_here"))
    assert app.test_client().get("/health").status_code == 200
    assert_envelope(app.test_client().get("/health/ready"), 503, "DB_UNAVAILABLE")


def test_openapi_spec_and_offline_swagger_ui(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "Seatkeeper"
    assert "/health" in spec["paths"]
    docs = client.get("/docs").get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in docs
    assert "http" not in docs.split("<script>")[0].split("<head>")[1], "no CDN assets"
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
