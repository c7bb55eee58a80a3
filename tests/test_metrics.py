"""`/metrics`: Prometheus counters summed across gunicorn workers, and gauges read from the database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from api import metrics
from api.extensions import db
from api.outbox.models import OutboxMessage
from tests.booking.helpers import local, upcoming_service_day
from tests.concurrency.test_no_double_booking import body, make_restaurant, race, rows
from tests.support.live_server import gunicorn_server

DAY = upcoming_service_day(days_ahead=12)


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, keyed by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.committing
def test_metrics_after_a_booking_race_sum_the_counts_of_every_worker(make_app, committing_database, tmp_path):
    make_restaurant(make_app, committing_database, tables=[(5, 2)])
    seen: Counter = Counter()
    # Without the service-day lock the race is real, so both RACE_LOST and FULLY_BOOKED appear
    # (tests/concurrency/test_no_double_booking.py's negative control); each round is its own day.
    env = {"DISABLE_ALLOCATION_LOCK": "true", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with gunicorn_server(committing_database, workers=4, env=env) as server:
        for round_number in range(10):
            when = local(DAY + timedelta(days=round_number), 19)
            seen.update(
                status if status == 201 else code
                for status, code in race(server.base_url, [body(when) for _ in range(60)])
            )
            if seen["RACE_LOST"] and seen["FULLY_BOOKED"]:
                break
        scrapes = [requests.get(server.url("/metrics"), timeout=10) for _ in range(8)]
    assert seen["RACE_LOST"] and seen["FULLY_BOOKED"], seen
    assert scrapes[0].headers["Content-Type"].startswith("text/plain")
    # Whichever worker answers the scrape, it reports the sum over all of them.
    counts = {
        (
            value(scraped, "seatkeeper_bookings_created_total", source="web"),
            value(scraped, "seatkeeper_app_errors_total", code="RACE_LOST"),
        )
        for scraped in map(samples, (scrape.text for scrape in scrapes))
    }
    assert len(counts) == 1, counts
    counter_pids = {path.stem.rsplit("_", 1)[-1] for path in tmp_path.glob("counter_*.db")}
    assert len(counter_pids) > 1, "the race should have been served by more than one worker"

    scraped = samples(scrapes[-1].text)
    assert value(scraped, "seatkeeper_bookings_created_total", source="web") == seen[201]
    assert value(scraped, "seatkeeper_app_errors_total", code="RACE_LOST") == seen["RACE_LOST"]
    assert value(scraped, "seatkeeper_app_errors_total", code="FULLY_BOOKED") == seen["FULLY_BOOKED"]
    assert value(scraped, "seatkeeper_app_errors_total", code="LOCK_TIMEOUT") == seen["LOCK_TIMEOUT"]
    latency = {"method": "POST", "route": "/api/reservations"}
    assert value(scraped, "seatkeeper_http_request_duration_seconds_count", **latency, status="201") == seen[201]
    assert value(scraped, "seatkeeper_http_request_duration_seconds_count", **latency, status="409") == (
        seen["RACE_LOST"] + seen["FULLY_BOOKED"]
    )
    # Every booking enqueued its confirmation email, and no worker has sent them yet.
    pending = rows(committing_database, "SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL")[0][0]
    assert pending >= seen[201] > 0
    assert value(scraped, "seatkeeper_outbox_depth") == pending
    assert value(scraped, "seatkeeper_outbox_oldest_age_seconds") >= 0
    assert value(scraped, "seatkeeper_outbox_dead_letters") == 0


def test_outbox_gauges_are_read_from_the_database_at_scrape_time(client):
    now = datetime.now(UTC)
    db.session.add_all(
        [
            OutboxMessage(kind="email", payload={}, created_at=now - timedelta(minutes=5)),
            OutboxMessage(kind="email", payload={}, processed_at=now),
            OutboxMessage(kind="email", payload={}, processed_at=now, attempts=8, last_error="gave up after 8"),
        ]
    )
    db.session.commit()
    scraped = samples(client.get("/metrics").get_data(as_text=True))
    assert value(scraped, "seatkeeper_outbox_depth") == 1
    assert value(scraped, "seatkeeper_outbox_oldest_age_seconds") >= 300
    assert value(scraped, "seatkeeper_outbox_dead_letters") == 1


def test_latency_is_labelled_by_route_template_not_by_path(client):
    def count(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        return REGISTRY.get_sample_value("seatkeeper_http_request_duration_seconds_count", labels) or 0.0

    template = "/api/restaurants/<restaurant_id:restaurant_id>"
    before = count(template, "404"), count("<unmatched>", "404")
    client.get("/api/restaurants/7d3c1a52-0000-4000-8000-000000000001")
    client.get("/no/such/page/bob@example.com")
    assert (count(template, "404"), count("<unmatched>", "404")) == (before[0] + 1, before[1] + 1)
    assert "bob@example.com" not in client.get("/metrics").get_data(as_text=True)


def test_reconciler_outcomes_are_counted_by_outcome():
    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("seatkeeper_reconciler_outcomes_total", {"outcome": outcome}) or 0.0

    before = count("captured"), count("error"), count("voided")
    metrics.record_reconciliation({"captured": 2, "error": 1, "voided": 0})
    assert (count("captured"), count("error"), count("voided")) == (before[0] + 2, before[1] + 1, before[2])


def test_metrics_endpoint_is_not_part_of_the_api_spec(client):
    assert "/metrics" not in client.get("/openapi.json").get_json()["paths"]
