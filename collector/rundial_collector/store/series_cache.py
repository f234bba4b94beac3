"""A small, byte-bounded LRU of resolved series, shared by the reader threads.

Chunks are append-only, so a resolved series is described exactly by its *stamp*: the newest
chunk id and the chunk count at the time it was resolved. Entries are keyed by
``(series_id, rank)``; the reader compares stamps itself (equal: reuse; the series only grew:
resolve just the new chunks on top, see :mod:`rundial_collector.store.sqlite.metrics`). The
cache only ever saves work, it never changes an answer. Series larger than half of the budget
are not cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Hashable, NamedTuple

from rundial_collector.store.series_math import Points, concat, resolve

SERIES_CACHE_BYTES = 96 * 1024 * 1024  # ~4M resolved points (24 B each); bounded RSS
POINT_BYTES = 24  # a resolved point: int64 step, float64 value, int64 timestamp


class Stamp(NamedTuple):
    """What a resolved series was built from: newest chunk id and number of chunks."""

    last_chunk_id: int
    chunks: int


class Entry(NamedTuple):
    stamp: Stamp
    points: Points  # resolved: one point per step, ascending
    raw_count: int  # stored raw points behind it (superseded ones included)


class SeriesCache:
    """Thread-safe LRU of ``key -> Entry`` bounded by the bytes of the cached arrays."""

    def __init__(self, max_bytes: int = SERIES_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Entry | None:
        """The cached entry of ``key`` (whatever its stamp), marking it recently used."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        """Store ``entry`` (replacing the old one), evicting least recently used entries."""
        size = entry.points.nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.points.nbytes
            if size > self.max_bytes // 2:
                return
            self._items[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.points.nbytes


def extendable(entry: Entry | None, stamp: Stamp) -> bool:
    """Whether ``entry`` may be extended to ``stamp`` by the chunks after its newest one."""
    return entry is not None and entry.stamp.last_chunk_id < stamp.last_chunk_id


def extended(entry: Entry, stamp: Stamp, raw: Points, chunks: int) -> Entry | None:
    """``entry`` plus ``raw``, the points of the ``chunks`` chunks after its newest one; None
    unless those and the entry's chunks are all the stamp's (else start over).

    Resolving (cached resolved points + newer raw points) equals resolving everything: the
    newer points come later, so they win their steps exactly as they would in a full pass.
    """
    if entry.stamp.chunks + chunks != stamp.chunks:
        return None
    return Entry(stamp, resolve(concat(entry.points, raw)), entry.raw_count + len(raw))


def pages_by_range(cache: SeriesCache, cached: bool, raw_points: int) -> bool:
    """Whether a page of a series of ``raw_points`` stored points is read by step range
    rather than whole (and cached): when it is not cached and too big to be."""
    return not cached and raw_points * POINT_BYTES > cache.max_bytes // 2
