"""The deployment files stay valid: .env.example covers every setting (compose: tests/deploy/)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from api.config import Settings

ROOT = Path(__file__).resolve().parents[1]


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
