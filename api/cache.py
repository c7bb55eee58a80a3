"""A small per-process cache with a time to live, for data that changes rarely and is read on every booking.

Settings such as a restaurant's hours and party limits are read on every request; caching them
for a few seconds (`SETTINGS_CACHE_SECONDS`) saves round trips on the hot path. A change made by
staff applies within that many seconds; 0 turns caching off (tests run that way).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, maxsize: int = 512) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, ttl_seconds: float, load: Callable[[], V]) -> V:
        """The cached value for `key`, or `load()` when it is missing or older than `ttl_seconds`."""
        if ttl_seconds <= 0:
            return load()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (now + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
