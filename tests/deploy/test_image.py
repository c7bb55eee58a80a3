"""The image: built in two stages from a wheel that carries its templates, run unprivileged, probed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from tests.support.databases import ROOT


def _instructions(stage: str) -> list[str]:
    return [line.split()[0] for line in stage.splitlines() if line and not line.startswith((" ", "#"))]


def test_the_dockerfile_builds_in_stages_and_runs_unprivileged_with_a_readiness_probe():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    final = stages[-1]

    assert len(stages) >= 2
    assert "COPY --from=build" in final
    user = next(line.split()[1] for line in final.splitlines() if line.startswith("USER "))
    assert user not in {"root", "0"}
    assert "HEALTHCHECK" in _instructions(final)
    assert "/health/ready" in final
    assert "alembic" not in final.split("CMD", 1)[1] and "seed" not in final.split("CMD", 1)[1]


def test_the_build_context_leaves_out_secrets_environments_and_history():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert {".env", ".venv/", ".pgdata/", ".git/"} <= ignored


def test_the_wheel_carries_every_template_and_static_file(tmp_path):
    # Build from exactly what the Dockerfile's build stage copies, away from the source tree.
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "api", source / "api", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), "."],
        cwd=source,
        check=True,
        timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("seatkeeper-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())

    data = [
        path.relative_to(ROOT).as_posix()
        for folder in ("templates", "static")
        for path in (ROOT / "api").rglob(f"{folder}/**/*")
        if path.is_file()
    ]
    website = {"api/templates/web/base.html", "api/static/site/css/site.css", "api/static/site/js/reservations.js"}
    assert website <= set(data)
    assert not [path for path in data if path not in shipped]
