"""docker-compose.yml fails closed: ENV=production, every secret required, none defaulted."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.databases import ROOT
from tests.support.tools import compose_command

SECRETS = ("POSTGRES_PASSWORD", "JWT_SECRET_KEY", "SEED_ADMIN_PASSWORD", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
APP_SERVICES = ("migrate", "api", "worker")


def compose_config(tmp_path: Path, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`compose config` with only `secrets` set: neither the shell's variables nor a local .env count."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    environ = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("SEED_", "SMTP_"))}
    return subprocess.run(
        [*compose_command(), "--env-file", str(empty_env_file), "config"],
        cwd=ROOT,
        env={**environ, **secrets},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def secrets() -> dict[str, str]:
    return {name: f"secret-{name.lower()}-0123456789abcdef0123456789" for name in SECRETS}


def test_compose_runs_the_app_in_production_with_the_given_secrets(tmp_path, secrets):
    result = compose_config(tmp_path, secrets)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]

    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["ENV"] == "production", name
        assert environment["RATELIMIT_STORAGE_URI"].startswith("redis://"), name
        assert environment["JWT_SECRET_KEY"] == secrets["JWT_SECRET_KEY"]
        assert environment["STRIPE_WEBHOOK_SECRET"] == secrets["STRIPE_WEBHOOK_SECRET"]
        assert secrets["POSTGRES_PASSWORD"] in environment["DATABASE_URL"]
        assert str(environment["SEED_DEMO"]).lower() == "false"
        assert "env_file" not in services[name]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == secrets["POSTGRES_PASSWORD"]


def test_the_image_is_built_once_and_migrations_run_before_the_app(tmp_path, secrets):
    services = yaml.safe_load(compose_config(tmp_path, secrets).stdout)["services"]

    assert [name for name, service in services.items() if "build" in service] == ["migrate"]
    assert "alembic upgrade head" in " ".join(services["migrate"]["command"])
    for name in ("api", "worker"):
        assert services[name]["image"] == services["migrate"]["image"]
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_start_without_each_secret(tmp_path, secrets, missing):
    result = compose_config(tmp_path, {k: v for k, v in secrets.items() if k != missing})

    assert result.returncode != 0
    assert missing in result.stderr


def test_no_secret_has_a_default_in_the_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(use.startswith(":?") for use in uses), f"{name} must be required (${{{name}:?...}}): {uses}"
    assert "env_file" not in text
