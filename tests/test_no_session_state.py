"""Nothing in Seatkeeper relies on session state, so it runs behind PgBouncer in transaction mode.

Session-level advisory locks (`pg_advisory_lock`, `pg_try_advisory_lock`) and a `SET` without
`LOCAL` would stick to whichever server connection the pooler lent, and leak to another client.
The races in tests/concurrency run through a real PgBouncer; this check keeps the code honest.
"""

from __future__ import annotations

import re
from pathlib import Path

API = Path(__file__).resolve().parents[1] / "api"

SESSION_LOCK = re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(")
# A SET that opens a statement (after a quote or a semicolon), not an UPDATE's SET clause.
SESSION_SET = re.compile(r"""["';][ \t]*SET\s+(?!LOCAL\b)(?!TRANSACTION\b)\w+\s*(=|TO\b)""", re.IGNORECASE)
SESSION_SET_CONFIG = re.compile(r"set_config\([^)]*,\s*false\s*\)", re.IGNORECASE)


def test_no_session_level_advisory_lock_or_set_in_the_code():
    offenders = []
    for path in API.rglob("*.py"):
        source = path.read_text()
        for pattern in (SESSION_LOCK, SESSION_SET, SESSION_SET_CONFIG):
            offenders += [f"{path.relative_to(API.parent)}: {m.group(0)}" for m in pattern.finditer(source)]
    assert offenders == []
