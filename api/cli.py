"""Flask CLI commands: `flask --app wsgi <command>`.

- `seed`: Café Fausse, the admin, and the demo catalogue when asked (idempotent).
- `backup FILE` / `restore FILE`: pg_dump custom format; restore only into an empty database.
- `create-admin EMAIL`: an admin account (password prompted, or from --password-env).
- `prune-tokens`: delete expired refresh tokens.
- `send-test-email ADDRESS`: send one email now with the SMTP settings, to check them.
- worker commands are registered by the domains that own them (see `register_commands`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app

from api.db import atomic


@click.command("seed")
@click.option("--demo/--no-demo", default=None, help="Also load the demo catalogue (default: SEED_DEMO).")
def seed_command(demo: bool | None) -> None:
    """Load Café Fausse, the admin from SEED_ADMIN_EMAIL/SEED_ADMIN_PASSWORD and, if asked, ~100 demo restaurants."""
    from api.accounts import service as accounts_service
    from api.restaurants.demo import ensure_cafe_fausse, ensure_demo_catalogue

    settings = current_app.config["SETTINGS"]
    with atomic():
        _, created = ensure_cafe_fausse()
        click.echo("Café Fausse: created" if created else "Café Fausse: already there")
        if settings.seed_demo if demo is None else demo:
            added, present = ensure_demo_catalogue()
            click.echo(f"demo catalogue: {added} restaurants created, {present} already there")
        if settings.seed_admin_password:
            _, created = accounts_service.ensure_admin(
                email=settings.seed_admin_email, password=settings.seed_admin_password
            )
            click.echo(f"admin {settings.seed_admin_email}: {'created' if created else 'already there'}")


@click.command("create-admin")
@click.argument("email")
@click.option("--password-env", default=None, help="Read the password from this environment variable.")
def create_admin_command(email: str, password_env: str | None) -> None:
    """Create an admin account (the password is prompted unless --password-env names a variable)."""
    from api.accounts import service as accounts_service

    password = os.environ.get(password_env, "") if password_env else ""
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with atomic():
        _, created = accounts_service.ensure_admin(email=email, password=password)
    click.echo("admin created" if created else "an account with this email already exists")


@click.command("worker")
@click.option("--once", is_flag=True, help="Handle one batch of due messages and due periodic jobs, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds to sleep when there is nothing to do.")
def worker_command(once: bool, poll: float) -> None:
    """Drain the outbox (emails) and run periodic jobs (hold purge, status automation, reconciliation)."""
    import signal
    from datetime import UTC, datetime

    from api.outbox import worker

    if once:
        worker.run_periodic(now=datetime.now(UTC))
        click.echo(f"handled {worker.run_once()} message(s)")
        return
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("worker started; Ctrl-C to stop")
    settings = current_app.config["SETTINGS"]
    if settings.env == "test" and settings.worker_frozen_now:
        frozen = datetime.fromisoformat(settings.worker_frozen_now)  # test-only: the jobs' clock stands still
        worker.run_forever(poll_seconds=poll, should_stop=lambda: stopping, clock=lambda: frozen)
        return
    worker.run_forever(poll_seconds=poll, should_stop=lambda: stopping)


@click.command("prune-tokens")
def prune_tokens_command() -> None:
    """Delete expired refresh tokens (the worker also does this hourly)."""
    from datetime import UTC, datetime

    from api.accounts import service as accounts_service

    click.echo(f"deleted {accounts_service.prune_refresh_tokens(now=datetime.now(UTC))} expired refresh token(s)")


@click.command("purge-holds")
def purge_holds_command() -> None:
    """Delete expired holds (they stopped counting when they expired; the worker also does this)."""
    from datetime import UTC, datetime

    from api.booking import holds

    click.echo(f"deleted {holds.purge_expired_holds_everywhere(datetime.now(UTC))} expired hold(s)")


@click.command("reconcile-payments")
def reconcile_payments_command() -> None:
    """Finish, void or refund deposits a crash left half done (the worker also does this)."""
    from datetime import UTC, datetime

    from api.booking import checkout

    report = checkout.reconcile_payments(datetime.now(UTC))
    click.echo(
        f"captured {report.captured}, voided {report.voided}, refunded {report.refunded}, "
        f"marked paid {report.marked_paid}, waiting {report.waiting}, errors {report.errors}"
    )


@click.command("purge-idempotency-keys")
def purge_idempotency_keys_command() -> None:
    """Delete Idempotency-Key records older than their 24 h lifetime (the worker also does this)."""
    from datetime import UTC, datetime

    from api.idempotency import service as idempotency_service

    click.echo(f"deleted {idempotency_service.purge_expired_keys(datetime.now(UTC))} expired key(s)")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write the database at DATABASE_URL to PATH (pg_dump custom format)."""
    from api.backups import BackupError, backup_database

    try:
        backup_database(database_url=current_app.config["SETTINGS"].database_url, path=path)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"backup written to {path} ({path.stat().st_size} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore PATH into the empty database at DATABASE_URL, in one transaction (a non-empty one is refused)."""
    from api.backups import BackupError, restore_database

    try:
        restore_database(database_url=current_app.config["SETTINGS"].database_url, path=path)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"restored {path}")


@click.command("send-test-email")
@click.argument("address")
def send_test_email_command(address: str) -> None:
    """Send one email to ADDRESS now, straight through SMTP_* (not the outbox), to check the settings."""
    import smtplib
    import uuid

    from api.mail import send_email

    settings = current_app.config["SETTINGS"]
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        send_email(
            settings=settings,
            to=address,
            subject="Seatkeeper test email",
            text=f"This is a test email from Seatkeeper, sent through {where}. Your SMTP settings work.",
            html=f"<p>This is a test email from Seatkeeper, sent through {where}. Your SMTP settings work.</p>",
            message_key=f"test:{uuid.uuid4().hex}",
        )
    except (OSError, smtplib.SMTPException) as err:
        raise click.ClickException(f"could not send through {where}: {err}") from err
    click.echo(f"test email sent to {address} through {where}")


def register_commands(app: Flask) -> None:
    """Attach every command to the app."""
    for command in (
        seed_command,
        create_admin_command,
        worker_command,
        prune_tokens_command,
        purge_holds_command,
        reconcile_payments_command,
        purge_idempotency_keys_command,
        backup_command,
        restore_command,
        send_test_email_command,
    ):
        app.cli.add_command(command)
