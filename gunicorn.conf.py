"""Gunicorn settings, read from ./gunicorn.conf.py by every `gunicorn` started in this folder.

Prometheus multiprocess mode (docs/observability.md): every worker writes its metric values to
files in PROMETHEUS_MULTIPROC_DIR and `/metrics` sums them. Without the variable this run gets a
fresh temporary folder, removed when gunicorn exits. The access log is the app's own JSON line
(api/logging.py), so gunicorn writes none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

accesslog = None

_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="seatkeeper-metrics-")


def on_starting(server: object) -> None:
    """Drop the values of processes that are gone (an earlier run): a fresh run counts from zero.

    Files of live processes stay, so a `flask worker` sharing the folder keeps its counts.
    """
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if not pid.isdigit() or not _alive(int(pid)):
            path.unlink(missing_ok=True)


def child_exit(server: object, worker: object) -> None:
    """A worker is gone: its live gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
