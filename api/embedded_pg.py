"""The embedded PostgreSQL (from the `pgserver` wheel) that start.sh uses when nothing else is there.

    python -m api.embedded_pg start [DIR]   # start (or reuse) and print the SQLAlchemy URL
    python -m api.embedded_pg stop [DIR]    # stop it cleanly

The data directory is kept between runs (`.pgdata/` by default, git-ignored).
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
DATABASE = "seatkeeper"


def sqlalchemy_url(libpq_uri: str, database: str) -> str:
    """Turn pgserver's `postgresql://postgres:@/postgres?host=/sock` into our driver URL."""
    rest = libpq_uri.split("://", 1)[1]
    credentials, _, after = rest.partition("@")
    _, _, query = after.partition("?")
    user = credentials.split(":", 1)[0]
    return f"postgresql+psycopg2://{user}@/{database}?{query}"


def start(pgdata: Path = DEFAULT_DIR, database: str = DATABASE) -> str:
    """Start the server if needed, create the database if missing, return its URL."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return sqlalchemy_url(server.get_uri(), database)


def stop(pgdata: Path = DEFAULT_DIR) -> None:
    """Stop the server cleanly (a fast shutdown: sessions are closed, data is kept)."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver
    from pgserver._commands import pg_ctl

    if not (pgdata / "postmaster.pid").exists():
        return
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=server.system_user)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"start", "stop"}:
        print(__doc__, file=sys.stderr)
        return 2
    pgdata = Path(argv[2]).resolve() if len(argv) > 2 else DEFAULT_DIR
    if argv[1] == "start":
        print(start(pgdata))
    else:
        stop(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
