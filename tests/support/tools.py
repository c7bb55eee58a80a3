"""System tools some tests drive for real (Chromium, docker compose, pgbouncer, ...).

Where one is missing the test is skipped with a loud reason, so `./start.sh test` passes on a
machine with only Python and git; where `CI` is set the same test fails instead: CI (`.ci/run`)
installs the tools, and a test it silently skipped would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def require_tool(tool: str, *, found: bool, how_to_get_it: str) -> None:
    """Return if `found`; else fail under CI, skip loudly elsewhere."""
    if found:
        return
    message = f"{tool} is not installed ({how_to_get_it})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI is set, so this test is required", pytrace=False)
    pytest.skip(f"NOT RUN: {message}; with CI set this is a failure")


def require_executable(name: str, *, how_to_get_it: str) -> str:
    """The path of executable `name` (see `require_tool`)."""
    path = shutil.which(name)
    require_tool(name, found=path is not None, how_to_get_it=how_to_get_it)
    assert path is not None
    return path


def compose_command() -> list[str]:
    """`docker compose` (v2) or `docker-compose` (v1) (see `require_tool`)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    require_tool("docker compose", found=legacy is not None, how_to_get_it=".ci/run installs Debian's docker-compose")
    assert legacy is not None
    return [legacy]
