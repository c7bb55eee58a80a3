"""Prometheus metrics, served at `/metrics` (docs/observability.md lists them).

Counters and histograms are prometheus-client's. Under gunicorn every worker is a process of
its own: with `PROMETHEUS_MULTIPROC_DIR` set (`gunicorn.conf.py` sets one when it is unset, drops
the files of gone processes at start and marks dead workers), each process writes its values to
files there and a scrape sums them across processes. The outbox gauges are read from the database at scrape time, so
every worker answers the same.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.extensions import db
from api.http import route_template

logger = logging.getLogger("api.metrics")

REQUEST_LATENCY = Histogram(
    "seatkeeper_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
)
BOOKINGS_CREATED = Counter(
    "seatkeeper_bookings_created_total",
    "Reservations committed, by source (web: the website's form; app: a confirmed hold).",
    ["source"],
)
APP_ERRORS = Counter(
    "seatkeeper_app_errors_total",
    "Error responses a client can act on, by code (RACE_LOST, FULLY_BOOKED, LOCK_TIMEOUT, ...).",
    ["code"],
)
RECONCILER_OUTCOMES = Counter(
    "seatkeeper_reconciler_outcomes_total",
    "Payments the deposit reconciler repaired, by outcome, and steps that failed (outcome=error).",
    ["outcome"],
)

# Pending messages (the worker's partial index), the oldest one's age, and dead letters
# (given up: processed with an error kept; a success clears the error).
_OUTBOX_SQL = text(
    """
    SELECT (SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL) AS depth,
           (SELECT extract(epoch FROM now() - min(created_at)) FROM outbox_messages
             WHERE processed_at IS NULL) AS oldest_age,
           (SELECT count(*) FROM outbox_messages
             WHERE processed_at IS NOT NULL AND last_error IS NOT NULL) AS dead_letters
    """
)


def record_reconciliation(outcomes: Mapping[str, int]) -> None:
    """Count one reconciler run's outcomes (`{"captured": 2, "error": 1, ...}`)."""
    for outcome, count in outcomes.items():
        if count:
            RECONCILER_OUTCOMES.labels(outcome=outcome).inc(count)


class _Scrape:
    """What one scrape exposes: this process's (or every worker's) metrics, then the outbox's."""

    def collect(self) -> Iterator[Metric]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        yield from _outbox_metrics()


def _outbox_metrics() -> Iterator[Metric]:
    try:
        row = db.session.execute(_OUTBOX_SQL).one()
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        logger.warning("outbox metrics unavailable: the database did not answer", exc_info=True)
        return
    yield GaugeMetricFamily("seatkeeper_outbox_depth", "Outbox messages not yet processed.", value=row.depth)
    yield GaugeMetricFamily(
        "seatkeeper_outbox_oldest_age_seconds",
        "Age of the oldest unprocessed outbox message (0 when none).",
        value=float(row.oldest_age or 0),
    )
    yield GaugeMetricFamily(
        "seatkeeper_outbox_dead_letters", "Outbox messages given up after their last attempt.", value=row.dead_letters
    )


def register_metrics(app: Flask) -> None:
    """Time every request and serve `/metrics` (outside the OpenAPI spec: it is for Prometheus)."""

    @app.after_request
    def observe_latency(response: Response) -> Response:
        started = getattr(g, "request_started", None)
        if started is not None:
            REQUEST_LATENCY.labels(request.method, route_template(), str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(_Scrape()), content_type=CONTENT_TYPE_LATEST)
