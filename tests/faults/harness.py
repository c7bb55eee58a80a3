"""What the fault tests share: the worker as its own process, load that records every answer, SQL checks."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from tests.support.live_server import ROOT, stop_process

CAFE_FAUSSE_ZONE = ZoneInfo("America/New_York")


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log: Path
    kept: str | None = None  # the log, kept when the process stopped (its folder is then removed)

    def output(self) -> str:
        return self.kept if self.kept is not None else self.log.read_text(errors="replace")


@contextmanager
def worker_process(database_url: str, env: Mapping[str, str]) -> Iterator[WorkerProcess]:
    """`flask --app wsgi worker` in its own process (as deployed), stopped with SIGTERM afterwards."""
    environ = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **env}
    with tempfile.TemporaryDirectory(prefix="sk-worker-") as tmp:
        log = Path(tmp) / "worker.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--poll", "0.2"],
                cwd=ROOT,
                env=environ,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
            worker = WorkerProcess(process=process, log=log)
            try:
                yield worker
            finally:
                stop_process(process)
                worker.kept = log.read_text(errors="replace")


def gunicorn_workers(master_pid: int) -> list[int]:
    """The pids of a gunicorn master's worker processes (its children)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


@dataclass
class Answer:
    at: float  # when it came, in seconds since the load started
    what: str
    status: int | None  # None: no HTTP answer (connection refused or reset)
    code: str | None = None
    began: float = 0.0  # when the step that asked began


@dataclass
class Load:
    """`threads` threads calling `step(rng_index)` until stopped; every answer is recorded."""

    step: Callable[[int], list[Answer]]
    threads: int
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _run(self, index: int) -> None:
        while not self._stop.is_set():
            began = self.elapsed()
            for answer in self.step(index):
                answer.at, answer.began = self.elapsed(), began
                with self._lock:
                    self.answers.append(answer)


def answer_of(what: str, response) -> Answer:
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    return Answer(at=0.0, what=what, status=response.status_code, code=body.get("code"))


def website_booking(n: int, *, days_ahead: int = 2) -> dict[str, object]:
    """The website's booking body for the n-th booking: spread over days and evening slots, a unique guest."""
    day = datetime.now(CAFE_FAUSSE_ZONE).date() + timedelta(days=days_ahead + n % 20)
    wall = datetime.combine(day, datetime.min.time(), tzinfo=CAFE_FAUSSE_ZONE) + timedelta(
        hours=17, minutes=30 * (n // 20 % 7)
    )
    return {
        "time": wall.isoformat(),
        "guests": 2,
        "name": f"Guest {n}",
        "email": f"guest-{n}-{uuid.uuid4().hex[:6]}@example.com",
    }


# Advisory locks anyone holds in this database (the server may be shared with other databases).
ADVISORY_LOCKS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def scalar(database_url: str, sql: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()
