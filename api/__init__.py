"""Seatkeeper: restaurant table reservations that never sell a table twice.

`create_app(config)` is the only factory. The environment is applied first and the
caller's mapping (tests) second; `.env` is loaded by `wsgi.py` and the CLI, never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from api.config import Settings
from api.errors import register_error_handlers
from api.extensions import api, cors, db, jwt, limiter
from api.http import register_request_guards, register_security_headers, trust_proxies
from api.logging import configure_logging, register_request_logging
from api.metrics import register_metrics
from api.schemas import exclusive_ranges, strict_nullable_nested

API_VERSION = "1.0.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, then `config` on top."""
    settings = Settings.from_env(overrides=config)
    configure_logging(settings.log_level)

    app = Flask(__name__)
    app.config.update(_flask_config(settings))
    app.config["SETTINGS"] = settings

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_logging(app)
    register_request_guards(app)
    register_security_headers(app, production=settings.env == "production")
    register_metrics(app)
    trust_proxies(app, settings.trusted_proxies)
    register_cli(app)
    register_domain_hooks()
    register_background_work(settings)
    return app


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": settings.database_url or "postgresql+psycopg2:///seatkeeper",
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            # Bound values (password hashes, token hashes) never reach a log line or an error message.
            "hide_parameters": True,
            "connect_args": {"options": f"-c statement_timeout={settings.statement_timeout_ms}"},
        },
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "JSON_SORT_KEYS": False,
        "API_TITLE": "Seatkeeper",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
        "JWT_SECRET_KEY": settings.jwt_secret_key,
        # The Bearer header first; else the HttpOnly access cookie that sign-in sets for same-origin
        # frontends. Cookie-authenticated writes are guarded by an Origin check (accounts/authz.py),
        # not by the double-submit token, which a client that never reads cookies cannot send.
        "JWT_TOKEN_LOCATION": ["headers", "cookies"],
        "JWT_ACCESS_COOKIE_PATH": "/api",
        "JWT_COOKIE_SAMESITE": "Lax",
        "JWT_COOKIE_SECURE": settings.refresh_cookie_secure,  # production refuses false (config.py)
        "JWT_ENCODE_ISSUER": settings.jwt_issuer,
        "JWT_DECODE_ISSUER": settings.jwt_issuer,
        "JWT_ENCODE_AUDIENCE": settings.jwt_audience,
        "JWT_DECODE_AUDIENCE": settings.jwt_audience,
        "JWT_COOKIE_CSRF_PROTECT": False,
        "RATELIMIT_ENABLED": settings.ratelimit_enabled,
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri,
        "RATELIMIT_KEY_PREFIX": settings.ratelimit_key_prefix,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Check every window, so Retry-After names the longest breached one (back-off), not the first.
        "RATELIMIT_FAIL_ON_FIRST_BREACH": False,
        **dict(settings.extra),
    }


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    api.init_app(app)
    jwt.init_app(app)
    limiter.init_app(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": list(app.config["SETTINGS"].allowed_origins)}},
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        supports_credentials=True,
        max_age=600,
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.ma_plugin.converter.add_attribute_function(strict_nullable_nested)
    api.ma_plugin.converter.add_attribute_function(exclusive_ranges)

    from api.accounts.tokens import register_jwt_handlers

    register_jwt_handlers(app)

    from api.payments.gateway import create_gateway

    create_gateway(app)  # Stripe when STRIPE_SECRET_KEY is set, else the local fake

    # Swagger UI from the wheel's own files, so /docs works offline.
    @app.route("/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str) -> Any:
        return send_from_directory(str(swagger_ui_path), filename)


def register_blueprints(app: Flask) -> None:
    from api.accounts.routes import admin_blp as admin_users_blp
    from api.accounts.routes import blp as auth_blp
    from api.accounts.routes import users_blp
    from api.health.routes import blp as health_blp
    from api.newsletter.routes import blp as newsletter_blp

    for blueprint in (health_blp, auth_blp, admin_users_blp, users_blp):
        api.register_blueprint(blueprint)

    # The reservations blueprint: the website's routes (booking/routes.py). The app frontend's
    # routes attach to the same `blp` from booking/app_routes.py, imported before this line.
    from api.booking import app_routes  # noqa: F401  (attaches the app frontend's routes to `blp`)
    from api.booking.routes import blp as reservations_blp
    from api.booking.staff_booking_routes import blp as staff_bookings_blp  # also attaches approvals to `blp`
    from api.booking.staff_routes import blp as lifecycle_blp

    api.register_blueprint(reservations_blp)
    api.register_blueprint(lifecycle_blp)  # history and the staff's status actions (docs/lifecycle.md)
    api.register_blueprint(newsletter_blp)

    from api.booking.manage_routes import blp as manage_blp

    api.register_blueprint(manage_blp)  # guest manage links: /api/manage/<token>

    # Catalogue and discovery; werkzeug matches /api/restaurants/discovery before /<restaurant_id>.
    from api.discovery.routes import blp as discovery_blp
    from api.discovery.routes import favorites_blp, profile_blp
    from api.insight.routes import blp as stats_blp
    from api.insight.routes import insight_blp, reports_blp
    from api.restaurants.routes import blp as restaurants_blp

    api.register_blueprint(restaurants_blp)
    api.register_blueprint(staff_bookings_blp)  # /api/restaurants/<id>/reservations and table blocks
    api.register_blueprint(discovery_blp)
    # The app frontend's profile, preferences, favourites and stats (issue 14). Its `User` carries
    # discovery preferences, which accounts (a floor below) reads through this registration.
    for blueprint in (profile_blp, favorites_blp, stats_blp, reports_blp):
        api.register_blueprint(blueprint)
    api.register_blueprint(insight_blp)  # calendar, dashboards, statistics, live floor plan (reads only)
    from api.guests.routes import blp as guests_blp

    api.register_blueprint(guests_blp)
    from api.accounts import service as accounts_service
    from api.discovery import service as discovery_service

    accounts_service.register_profile_preferences(discovery_service.app_preferences)

    from api.booking.waitlist_routes import blp as waitlist_blp
    from api.payments.routes import blp as payments_blp
    from api.trades.routes import blp as trades_blp

    api.register_blueprint(payments_blp)
    api.register_blueprint(trades_blp)
    api.register_blueprint(waitlist_blp)
    if app.config["SETTINGS"].bench_endpoints_enabled:
        from api.benchmark.routes import blp as bench_blp  # bench/booking.py's baseline; never in production

        api.register_blueprint(bench_blp)

    from api.console.routes import blp as console_blp
    from api.web.routes import blp as web_blp

    # HTML, not part of the JSON API or its spec.
    app.register_blueprint(web_blp)
    app.register_blueprint(console_blp)


def register_domain_hooks() -> None:
    """Questions a lower domain asks a higher one, answered through hooks so imports still point down."""
    from api.booking import schedule_guard

    schedule_guard.register()  # staff changes to hours, closures and time zone must not strand bookings
    from api.guests import service as guests_service

    guests_service.register()  # the staff day listing shows each guest's tags and visits


def register_background_work(settings: Settings) -> None:
    """Each domain registers its outbox handlers and periodic jobs (the worker imports no domain)."""
    from api import mail
    from api.accounts import recovery
    from api.accounts import service as accounts_service
    from api.booking import lifecycle, notifications
    from api.newsletter import service as newsletter_service
    from api.outbox.service import register_periodic

    mail.register()
    recovery.register()  # password-reset and invitation emails, and pruning their tokens
    notifications.register()
    # The status automation (docs/lifecycle.md), each job once per interval across all workers.
    every = settings.lifecycle_jobs_every_seconds
    register_periodic("complete-finished-reservations", every, lifecycle.complete_finished_reservations)
    register_periodic("mark-no-shows", every, lifecycle.mark_no_shows)
    register_periodic("queue-reminders", every, lifecycle.queue_reminders)
    newsletter_service.register()  # the welcome email with its unsubscribe link

    from api.booking import approvals

    register_periodic("expire-pending-approvals", 60, approvals.expire_pending_approvals)
    register_periodic("prune-refresh-tokens", 3600, lambda now: accounts_service.prune_refresh_tokens(now=now))

    from api.booking import checkout, holds
    from api.idempotency import service as idempotency_service

    checkout.register()  # payment webhooks drive the deposit reconciler
    register_periodic("purge-expired-holds", 60, holds.purge_expired_holds_everywhere)
    register_periodic("reconcile-payments", 60, checkout.reconcile_payments)
    register_periodic("purge-idempotency-keys", 3600, idempotency_service.purge_expired_keys)

    from api.trades import notifications as trade_notifications
    from api.trades import service as trades_service

    trade_notifications.register()

    from api.booking import waitlist

    waitlist.register()
    register_periodic("expire-trades", 300, trades_service.expire_trades)


def register_cli(app: Flask) -> None:
    from api.cli import register_commands

    register_commands(app)
