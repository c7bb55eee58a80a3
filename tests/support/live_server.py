"""Run the app under gunicorn on a free loopback port, for concurrency and fault tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Ask a process to stop, and kill it if it has not within `timeout` seconds."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@contextmanager
def gunicorn_server(
    database_url: str,
    *,
    workers: int = 4,
    threads: int = 1,
    env: Mapping[str, str] | None = None,
    output: Path | None = None,
) -> Iterator[LiveServer]:
    """Start `gunicorn wsgi:app` against `database_url`, wait for /health, stop it afterwards.

    `output`: a file that receives gunicorn's stdout and stderr (the logs); else they are inherited.
    """
    port = free_port()
    environ = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    cmd = [
        sys.executable, "-m", "gunicorn", "wsgi:app",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--timeout", "60",
        "--graceful-timeout", "5",
    ]  # fmt: skip
    log_file = open(output, "w") if output else None  # noqa: SIM115  (closed in `finally`)
    process = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=log_file, stderr=log_file)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a busy 2-core machine boots 4 workers slowly
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                if requests.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /health within 180 s")
            time.sleep(0.1)
        yield LiveServer(base_url=base_url, process=process)
    finally:
        stop_process(process)
        if log_file:
            log_file.close()
