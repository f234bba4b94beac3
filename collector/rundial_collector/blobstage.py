"""Building blocks of :mod:`rundial_collector.blobstore`: part plans, hashing, keyed locks.

:class:`PrefixHashes` keeps, per staged multipart upload, a sha256 of the contiguous prefix
of parts received so far. Each completed part advances it (reading the part back from the page
cache on an I/O thread), so finalizing a large upload only hashes what is left instead of the
whole file: finalize stays well inside the rc1 SDK's 5 s request timeout. The state is a cache:
when it is lost (restart, eviction, a part rewritten) :meth:`PrefixHashes.finish` hashes from
the start, so correctness never depends on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
READ_CHUNK_BYTES = MiB
MAX_PARTS = 10_000  # parts per blob at most: larger blobs get larger parts
PREFIX_ENTRIES_MAX = 1024  # staged uploads whose running hash we remember (~200 B each)


@dataclass(frozen=True)
class PartPlan:
    """Part ``number`` (1-based) covers bytes [offset, offset + size) of the blob."""

    number: int
    offset: int
    size: int


def part_size_for(size: int, base_bytes: int) -> int:
    """The part size of a ``size``-byte blob: ``base_bytes``, grown in MiB steps so that a blob
    never has more than :data:`MAX_PARTS` parts (S3's limit; it bounds every upload plan)."""
    needed = -(-size // MAX_PARTS)
    if needed <= base_bytes:
        return base_bytes
    return -(-needed // MiB) * MiB


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def part_at(size: int, part_size: int, number: int) -> PartPlan | None:
    """Part ``number`` (1-based) of the plan, or None when the blob has no such part."""
    if not 1 <= number <= part_count(size, part_size):
        return None
    offset = (number - 1) * part_size
    return PartPlan(number, offset, max(0, min(part_size, size - offset)))


def part_plan(size: int, part_size: int) -> list[PartPlan]:
    """The parts of a ``size``-byte blob cut into ``part_size`` pieces (at least one part)."""
    if size <= 0:
        return [PartPlan(1, 0, 0)]
    return [PartPlan(i + 1, off, min(part_size, size - off))
            for i, off in enumerate(range(0, size, part_size))]


def write_and_hash(fd: int, offset: int, chunks: list[bytes], hasher: Any) -> None:
    """Write ``chunks`` back to back at ``offset`` (one ``pwritev``, no joining copy) and feed
    them to ``hasher``. Both release the GIL."""
    total = sum(len(c) for c in chunks)
    done = os.pwritev(fd, chunks, offset)
    if done < total:  # short write (rare): finish the rest piece by piece
        rest = memoryview(b"".join(chunks))[done:]
        while rest:
            n = os.pwrite(fd, rest, offset + done)
            rest, done = rest[n:], done + n
    for chunk in chunks:
        hasher.update(chunk)


def hash_range(path: Path, offset: int, size: int, hasher: Any) -> None:
    """Feed bytes [offset, offset + size) of ``path`` to ``hasher`` in bounded reads."""
    with open(path, "rb", buffering=0) as fh:
        fh.seek(offset)
        left = size
        while left > 0:
            chunk = fh.read(min(READ_CHUNK_BYTES, left))
            if not chunk:
                return
            hasher.update(chunk)
            left -= len(chunk)


def hash_file(path: Path) -> str:
    """The sha256 hex of a whole file, read in bounded chunks."""
    hasher = hashlib.sha256()
    hash_range(path, 0, path.stat().st_size, hasher)
    return hasher.hexdigest()


@dataclass
class _Prefix:
    hasher: Any = field(default_factory=hashlib.sha256)
    next_part: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)


class PrefixHashes:
    """Running sha256 of each staged upload's contiguous prefix. Thread-safe."""

    def __init__(self, max_entries: int = PREFIX_ENTRIES_MAX) -> None:
        self._entries: OrderedDict[tuple[str, int], _Prefix] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def _entry(self, key: tuple[str, int]) -> _Prefix:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Prefix()
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(key)
            return entry

    def forget(self, sha256: str, part_size: int) -> None:
        with self._lock:
            self._entries.pop((sha256, part_size), None)

    def rewind(self, sha256: str, part_size: int, number: int) -> None:
        """Part ``number`` is being rewritten: drop the prefix if it already covers it."""
        with self._lock:
            entry = self._entries.get((sha256, part_size))
            if entry is not None and entry.next_part > number:
                del self._entries[(sha256, part_size)]

    def advance(self, data: Path, parts: Path, sha256: str, part_size: int, size: int) -> None:
        """Hash every newly contiguous received part (blocking; run on an I/O thread)."""
        entry = self._entry((sha256, part_size))
        with entry.lock:
            try:
                while (parts / str(entry.next_part)).exists():
                    part = part_at(size, part_size, entry.next_part)
                    if part is None:
                        return
                    hash_range(data, part.offset, part.size, entry.hasher)
                    entry.next_part += 1
            except FileNotFoundError:  # published or discarded meanwhile: nothing to track
                self.forget(sha256, part_size)

    def finish(self, data: Path, sha256: str, part_size: int, size: int) -> str:
        """The sha256 hex of the whole staged blob, hashing only what the prefix lacks."""
        entry = self._entry((sha256, part_size))
        with entry.lock:
            start = min(size, (entry.next_part - 1) * part_size)
            hash_range(data, start, size - start, entry.hasher)
            digest: str = entry.hasher.hexdigest()
        self.forget(sha256, part_size)
        return digest


class KeyedLocks:
    """One asyncio lock per key, created on demand and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
