"""The races run twice: straight to PostgreSQL, and through PgBouncer in transaction pooling mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import pgbouncer
from tests.support.tools import require_tool


@pytest.fixture(scope="session")
def bouncer(postgres_server_url: str) -> Iterator[pgbouncer.Bouncer]:
    executable = pgbouncer.find_executable()
    require_tool("pgbouncer", found=executable is not None, how_to_get_it=".ci/run installs Debian's pgbouncer")
    assert executable is not None
    with pgbouncer.pgbouncer(postgres_server_url, executable) as running:
        yield running


@pytest.fixture(params=["direct", "pgbouncer"])
def served_database(request: pytest.FixtureRequest, committing_database: str) -> str:
    """The URL the gunicorn under test uses: the database itself, or the same one through PgBouncer."""
    if request.param == "direct":
        return committing_database
    return request.getfixturevalue("bouncer").url_for(committing_database)
