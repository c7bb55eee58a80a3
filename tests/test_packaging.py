"""The deployment files stay valid: docker-compose.yml, .env.example covering every setting."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from api.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_file_is_accepted():
    command = compose_command()
    if command is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed here")
    result = subprocess.run([*command, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_setting_is_documented_in_env_example():
    documented = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].isupper()
    }
    internal = {"extra", "disable_allocation_lock"}
    missing = {f.name.upper() for f in fields(Settings) if f.name not in internal} - documented
    assert not missing, f"add these to .env.example with a comment: {sorted(missing)}"


def test_production_refuses_the_development_jwt_secret():
    with pytest.raises(RuntimeError):
        Settings.from_env({"ENV": "production", "DATABASE_URL": "postgresql://x/y"})
    Settings.from_env({"ENV": "production", "DATABASE_URL": "postgresql://x/y", "JWT_SECRET_KEY": "k" * 40})
