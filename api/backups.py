"""Backups with PostgreSQL's own tools: `pg_dump` in custom format, `pg_restore` in one transaction.

`flask backup FILE` and `flask restore FILE` (api/cli.py) call these. A restore goes only into an
empty database (create one, point DATABASE_URL at it): it never merges into live data, and it runs
in a single transaction, so a failed restore leaves the target as empty as it was.

The tools must be at least as new as the server: we take the one whose major version matches it,
from the `pgserver` wheel (PostgreSQL 16, as in docker-compose.yml), the system's
`/usr/lib/postgresql/<major>/bin`, or `PATH`.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

# Relations anywhere but PostgreSQL's own schemas: a database with one is not empty.
_USER_RELATIONS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
"""


class BackupError(RuntimeError):
    """A backup or restore that cannot or must not run (its message says why)."""


def backup_database(*, database_url: str, path: Path) -> None:
    """Write the whole database to `path` in pg_dump's custom format. Raises BackupError."""
    uri, env = _libpq(database_url)
    tool = find_tool("pg_dump", server_major=_server_major(database_url))
    _run([tool, "--format=custom", "--file", str(path), "--dbname", uri], env)


def restore_database(*, database_url: str, path: Path) -> None:
    """Restore `path` into the empty database at `database_url`, all or nothing. Raises BackupError."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            relations = connection.execute(text(_USER_RELATIONS)).scalar_one()
            major = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    if relations:
        raise BackupError(f"the target database is not empty ({relations} relations): restore into a new database")
    uri, env = _libpq(database_url)
    tool = find_tool("pg_restore", server_major=major)
    # Ownership and grants belong to the source cluster's roles; the restoring role owns everything.
    _run([tool, "--single-transaction", "--no-owner", "--no-privileges", "--dbname", uri, str(path)], env)


def find_tool(name: str, *, server_major: int) -> str:
    """The `name` binary whose major version equals the server's, else the oldest newer one."""
    candidates = [*_pgserver_bin_dirs(), *sorted(glob.glob("/usr/lib/postgresql/*/bin"))]
    paths = [str(Path(d) / name) for d in candidates if (Path(d) / name).is_file()]
    on_path = shutil.which(name)
    if on_path:
        paths.append(on_path)
    versions = sorted((major, path) for path in paths if (major := _major_version(path)) >= server_major)
    exact = [path for major, path in versions if major == server_major]
    if exact:
        return exact[0]
    if versions:
        return versions[0][1]
    raise BackupError(f"no {name} for PostgreSQL {server_major} or newer (install postgresql-client-{server_major})")


def _pgserver_bin_dirs() -> list[str]:
    spec = importlib.util.find_spec("pgserver")  # located, not imported (its import warns and is slow)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [str(Path(location) / "pginstall" / "bin") for location in spec.submodule_search_locations]


def _major_version(path: str) -> int:
    result = subprocess.run([path, "--version"], capture_output=True, text=True)
    match = re.search(r"\s(\d+)[.\d]*", result.stdout)
    return int(match.group(1)) if result.returncode == 0 and match else 0


def _server_major(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools, with the password moved to PGPASSWORD (never on a command line)."""
    url = make_url(database_url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
