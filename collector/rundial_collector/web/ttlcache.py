"""A tiny bounded TTL cache for hot look-ups (API keys, project references).

Single-threaded use on the event loop only. Entries live ``ttl_seconds``; when the cache is full
expired entries are dropped first and, if that is not enough, everything is dropped (a cache
miss is only a store read, never a wrong answer).
"""

from __future__ import annotations

import time
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """``get`` returns ``None`` for missing or expired keys; ``put`` stores for the TTL."""

    def __init__(self, ttl_seconds: float, max_entries: int = 4096) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if time.monotonic() >= expires:
            del self._items[key]
            return None
        return value

    def put(self, key: K, value: V, ttl_seconds: float | None = None) -> None:
        if len(self._items) >= self.max_entries:
            self._evict()
        ttl = self.ttl_seconds if ttl_seconds is None else min(ttl_seconds, self.ttl_seconds)
        self._items[key] = (time.monotonic() + ttl, value)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._items.items() if expires <= now]:
            del self._items[key]
        if len(self._items) >= self.max_entries:
            self._items.clear()
