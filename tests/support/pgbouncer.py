"""Debian's PgBouncer in transaction pooling mode, in front of the test PostgreSQL.

Transaction pooling hands each transaction whatever server connection is free, so anything that
relies on session state (session-level advisory locks, a `SET` outside a transaction, server-side
prepared statements across transactions) breaks behind it. The booking races run through it to
prove Seatkeeper relies on none of that (DESIGN.md, "Scale").
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from tests.support.live_server import free_port, stop_process

# Few server connections for many clients: every app process shares them, transaction by transaction.
POOL_SIZE = 6


@dataclass(frozen=True)
class Bouncer:
    port: int

    def url_for(self, database_url: str) -> str:
        """The same database, reached through the pooler."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port, query={})
        return url.render_as_string(hide_password=False)


@contextmanager
def pgbouncer(server_url: str, executable: str) -> Iterator[Bouncer]:
    """Start PgBouncer (pool_mode = transaction) for every database of `server_url`'s server."""
    url = make_url(server_url)
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, tuple):
        socket_dir = socket_dir[0]
    if socket_dir:  # the embedded server: a Unix socket in a folder only its own user may enter
        target = f"host={socket_dir}"
        run_as = Path(socket_dir).owner()
    else:
        target = f"host={url.host or '127.0.0.1'} port={url.port or 5432}"
        run_as = "nobody"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sk-bouncer-") as folder:
        work = Path(folder)
        user = url.username or "postgres"
        (work / "users.txt").write_text(f'"{user}" ""\n')
        (work / "pgbouncer.ini").write_text(
            f"""
[databases]
* = {target} connect_query='SET statement_timeout = 15000'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {work / "users.txt"}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
logfile = {work / "pgbouncer.log"}
pidfile = {work / "pgbouncer.pid"}
"""
        )
        uid = pwd.getpwnam(run_as).pw_uid
        os.chown(work, uid, -1)
        for path in work.iterdir():
            os.chown(path, uid, -1)
        process = subprocess.Popen([executable, "-u", run_as, str(work / "pgbouncer.ini")])
        try:
            _wait_for_port(port, process, work / "pgbouncer.log")
            yield Bouncer(port=port)
        finally:
            stop_process(process, sig=signal.SIGINT, timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {_tail(log)}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen within 20 s: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-2000:] if log.exists() else "(no log)"


def find_executable() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )
