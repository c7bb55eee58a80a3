"""Typed settings read once from the environment.

`Settings.from_env(os.environ)` is the only place that reads variables; every one of them is
listed in `.env.example`. Outside tests the app refuses to start with unsafe settings
(`Settings.check`), and `normalize_database_url` is the one place a `DATABASE_URL` is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy.engine import make_url

_DEV_JWT_SECRET = "dev-only-not-secret-change-me-0123456789abcdef"


# The schemes hosts hand out, all read as psycopg2 (SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3).
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg2"}


def normalize_database_url(url: str) -> str:
    """Return `url` with the `postgresql+psycopg2` driver; accepts postgres://, postgresql:// and that form.

    Used by the app (Settings), alembic's env.py, start.sh and the CLI, so they agree on one URL.
    """
    if not url:
        return url
    parsed = make_url(url)
    if parsed.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(
            f"DATABASE_URL must be postgres://, postgresql:// or postgresql+psycopg2://, not {parsed.drivername}://"
        )
    return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    port: int = 8000
    # Gunicorn worker processes (gunicorn reads the same variable); >1 needs shared rate-limit storage.
    web_concurrency: int = 1
    slot_minutes: int = 30
    hold_minutes: int = 10
    waitlist_offer_minutes: int = 15
    # Where an offer's email sends the guest to claim it: the frontend page that confirms the
    # offer's hold (POST /api/reservations/confirm). {public_base_url}, {hold_id}, {entry_id}.
    waitlist_claim_url: str = "{public_base_url}/checkout?holdId={hold_id}"
    lock_timeout_ms: int = 3000
    statement_timeout_ms: int = 15000
    max_content_length: int = 1024 * 1024
    log_level: str = "INFO"
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none, ProxyFix off).
    trusted_proxies: int = 0
    jwt_secret_key: str = _DEV_JWT_SECRET
    jwt_access_minutes: int = 15
    jwt_refresh_days: int = 14
    refresh_cookie_secure: bool = True
    # Browser origins allowed to call the API (CORS) and to send cookie-authenticated writes, comma-separated.
    cors_origins: str = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:3002"
    # Access tokens name who issued them and for whom; both are checked on every request.
    jwt_issuer: str = "seatkeeper"
    jwt_audience: str = "seatkeeper-api"
    ratelimit_enabled: bool = True
    ratelimit_storage_uri: str = "memory://"
    ratelimit_key_prefix: str = "seatkeeper"
    # Failed sign-ins per email: a growing back-off (each window a longer wait), reset by a success.
    ratelimit_login: str = "5 per minute; 10 per 10 minutes; 20 per hour"
    ratelimit_login_ip: str = "30 per minute"
    ratelimit_register: str = "10 per hour"
    ratelimit_refresh: str = "30 per minute"
    ratelimit_booking: str = "5 per minute; 20 per hour"
    ratelimit_booking_email: str = "3 per hour; 10 per day"
    ratelimit_hold: str = "10 per minute; 60 per hour"
    ratelimit_newsletter: str = "10 per minute"
    # Guest manage links (/api/manage/<token>), per client address: tokens cannot be guessed anyway.
    ratelimit_manage: str = "30 per minute; 300 per hour"
    # Password-reset requests per email (known or not, the same count) and per client address;
    # reset confirmations per client address.
    ratelimit_password_reset: str = "3 per 15 minutes; 10 per day"
    ratelimit_password_reset_ip: str = "20 per hour"
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_use_tls: bool = False
    mail_from: str = "Seatkeeper <reservations@seatkeeper.local>"
    admin_notify_email: str = ""
    public_base_url: str = "http://localhost:8000"
    # How long an emailed password-reset link works, in minutes.
    password_reset_minutes: int = 30
    seed_admin_email: str = "admin@seatkeeper.local"
    seed_admin_password: str = ""
    # `flask seed` adds the ~100-restaurant demo catalogue only when asked (start.sh asks in development).
    seed_demo: bool = False
    # Test-only switch for the negative-control race: the unique constraint must hold alone.
    disable_allocation_lock: bool = False
    # One booking per guest at a time: no two live bookings (holds count) of one guest, at any
    # restaurant, starting within this many minutes of each other. 0 turns the guard off.
    duplicate_guard_minutes: int = 120
    # Primetime approval: a pending booking not approved or rejected within this many hours of
    # being made is rejected by the worker (actor system) and its table freed.
    approval_timeout_hours: int = 24
    # Guests may change a booking (time, party, requests) until this many minutes before its start;
    # staff may change it until the start (api/booking/changes.py, docs/changes.md).
    modify_cutoff_minutes: int = 60
    # The restaurant the Café Fausse website (seed 003) books at: it sends no restaurant id.
    default_restaurant_slug: str = "cafe-fausse"
    # Bench-only: registers POST /api/_bench/insert, the baseline of bench/booking.py. Never in production.
    bench_endpoints_enabled: bool = False
    # Idempotency-Key: how long a key is remembered, and how long a first request may run
    # before a retry with the same key may take over (its worker died without answering).
    idempotency_ttl_hours: int = 24
    idempotency_lease_seconds: int = 90
    # Deposit checkout: a payment left pending/authorized without a reservation is repaired by
    # the reconciler only once it is this old (a live confirmation finishes well within it).
    checkout_grace_seconds: int = 120
    # The lifecycle (docs/lifecycle.md): a confirmed party not seated this many minutes after its
    # start is marked a no-show by the worker; staff may seat a party up to EARLY_SEATING_MINUTES
    # before its start; the guest's reminder is queued REMINDER_HOURS_BEFORE the start.
    no_show_after_minutes: int = 15
    early_seating_minutes: int = 60
    reminder_hours_before: int = 24
    # How often the worker runs the lifecycle jobs (completion, no-shows, reminders), across all workers.
    lifecycle_jobs_every_seconds: int = 60
    # Test-only (read only when ENV=test): the instant the worker's periodic jobs take as "now" (ISO 8601).
    worker_frozen_now: str = ""
    # Test-only (read only when ENV=test): make the deposit confirmation fail at a named step,
    # "<step>" raises, "<step>:exit" kills the process (see api/booking/checkout.py).
    fault_injection_point: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """`CORS_ORIGINS` as a tuple, without blanks or trailing slashes."""
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Build settings from variables named like the fields (upper-cased), apply `overrides`, check them."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get(f.name.upper())
            if raw is None or raw == "":
                continue
            if f.type == "int":
                values[f.name] = int(raw)
            elif f.type == "bool":
                values[f.name] = _bool(raw)
            else:
                values[f.name] = raw
        settings = cls(**values)
        if overrides:
            settings = settings.with_overrides(overrides)
        settings = replace(settings, database_url=normalize_database_url(settings.database_url))
        settings.check()
        return settings

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with the given fields replaced (tests pass these to `create_app`)."""
        known = {f.name for f in fields(self)}
        own = {k: v for k, v in overrides.items() if k in known}
        extra = {k: v for k, v in overrides.items() if k not in known}
        return replace(self, **own, extra={**self.extra, **extra})

    def check(self) -> None:
        """Fail fast on an unsafe configuration: anywhere but tests, and more strictly in production."""
        if self.env != "test":
            if self.jwt_secret_key == _DEV_JWT_SECRET or len(self.jwt_secret_key) < 32:
                raise RuntimeError("JWT_SECRET_KEY must be 32+ random characters (./start.sh writes one to .env)")
            if self.stripe_secret_key and not self.stripe_webhook_secret:
                raise RuntimeError("STRIPE_WEBHOOK_SECRET must be set with STRIPE_SECRET_KEY (webhooks are verified)")
            shared = not self.ratelimit_storage_uri.startswith("memory://")
            if self.ratelimit_enabled and not shared and self.web_concurrency > 1:
                raise RuntimeError(
                    "RATELIMIT_STORAGE_URI=memory:// counts per process: with WEB_CONCURRENCY > 1 use redis://"
                )
        if self.env == "production":
            if not self.database_url:
                raise RuntimeError("DATABASE_URL must be set in production")
            if not self.refresh_cookie_secure:
                raise RuntimeError("REFRESH_COOKIE_SECURE must stay true in production (the cookie is __Secure-)")
            if self.disable_allocation_lock or self.bench_endpoints_enabled:
                raise RuntimeError("DISABLE_ALLOCATION_LOCK and BENCH_ENDPOINTS_ENABLED are test/bench-only")
