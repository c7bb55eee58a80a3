"""Flask CLI commands: `flask --app wsgi <command>`.

- `seed`: demo data (idempotent).
- `create-admin EMAIL`: an admin account (password prompted, or from --password-env).
- worker commands are registered by the domains that own them (see `register_commands`).
"""

from __future__ import annotations

import os

import click
from flask import Flask, current_app

from api.db import atomic


@click.command("seed")
def seed_command() -> None:
    """Load demo data: Café Fausse and the admin from SEED_ADMIN_EMAIL/SEED_ADMIN_PASSWORD."""
    from api.accounts import service as accounts_service
    from api.restaurants.demo import ensure_cafe_fausse

    settings = current_app.config["SETTINGS"]
    with atomic():
        _, created = ensure_cafe_fausse()
        click.echo("Café Fausse: created" if created else "Café Fausse: already there")
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
        now = datetime.now(UTC)
        worker.run_periodic(now=now, last_runs={})
        click.echo(f"handled {worker.run_once(now=now)} message(s)")
        return
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("worker started; Ctrl-C to stop")
    worker.run_forever(poll_seconds=poll, should_stop=lambda: stopping)


def register_commands(app: Flask) -> None:
    """Attach every command to the app."""
    for command in (seed_command, create_admin_command, worker_command):
        app.cli.add_command(command)
