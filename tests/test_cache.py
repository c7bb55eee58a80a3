"""The per-process settings cache: reuse within the TTL, reload after it, never with TTL 0."""

from __future__ import annotations

from api.cache import TTLCache


def test_values_are_reused_within_the_ttl_and_reloaded_without_one(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("api.cache.time.monotonic", lambda: clock[0])
    cache: TTLCache[int] = TTLCache(maxsize=2)
    loads = []

    def load(value):
        def loader():
            loads.append(value)
            return value

        return loader

    assert cache.get_or_load("a", 5, load(1)) == 1
    assert cache.get_or_load("a", 5, load(2)) == 1, "cached within the TTL"
    clock[0] += 5.1
    assert cache.get_or_load("a", 5, load(3)) == 3, "reloaded after the TTL"
    assert cache.get_or_load("a", 0, load(4)) == 4, "TTL 0 never caches"
    cache.get_or_load("b", 5, load(5))
    cache.get_or_load("c", 5, load(6))
    assert cache.get_or_load("a", 5, load(7)) == 7, "least recently used entry evicted beyond maxsize"
    assert loads == [1, 3, 4, 5, 6, 7]
