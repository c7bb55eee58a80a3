"""Fault injection for the crash tests: fail at a named step, armed only when ENV=test.

`FAULT_INJECTION_POINT=<step>` raises `InjectedFault` there; `<step>:exit` kills the process
at once (`os._exit`), as a crash or an OOM kill would, so a test can prove what a retry or the
reconciler finds afterwards. Outside ENV=test the setting is ignored.
"""

from __future__ import annotations

import os

from api.db import get_settings


class InjectedFault(RuntimeError):
    """Raised at a fault-injection point (tests only)."""


def inject(point: str) -> None:
    """Fail here if a test asked for it."""
    settings = get_settings()
    if settings.env != "test" or not settings.fault_injection_point:
        return
    name, _, mode = settings.fault_injection_point.partition(":")
    if name != point:
        return
    if mode == "exit":
        os._exit(70)
    raise InjectedFault(point)
