"""Building blocks of :mod:`rundial_collector.artifacts.blobstore`: part plans, hashing, keyed
locks.

:class:`StagedUploads` keeps, per staged multipart upload, a sha256 of the contiguous prefix
of parts received so far. Each completed part advances it (reading the part back from the page
cache on an I/O thread), so finalizing a large upload only hashes what is left instead of the
whole file: finalize stays well inside the rc1 SDK's 5 s request timeout. The prefix is a
cache: when it is lost (restart, eviction, a part rewritten) :meth:`StagedUploads.finish`
hashes from the start. It also tracks the parts being written, so that the prefix provably
covers the bytes on disk (see the class docstring). That tracking is in-process; collectors
sharing the directory are kept apart by :mod:`rundial_collector.artifacts.blobshare`.
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

from rundial_collector.artifacts.blobshare import etag_fingerprint, read_etag
from rundial_collector.artifacts.blobstore_base import BlobBusy, StageKey

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
    """sha256 of parts 1..``next_part``-1 as they are on disk. ``hashing`` is the part being
    read now (0: none); once ``stale``, a part it covers was rewritten and it is worthless."""

    hasher: Any = field(default_factory=hashlib.sha256)
    etags: Any = field(default_factory=hashlib.sha256)  # fingerprint of the hashed parts' ETags
    next_part: int = 1
    hashing: int = 0
    stale: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)  # held while feeding hasher


@dataclass
class _Activity:
    writing: set[int] = field(default_factory=set)  # parts being received now
    completing: bool = False


class StagedUploads:
    """Which parts of each staged upload are being written, whether it is being completed, and
    its running prefix hash. Thread-safe; it guards one process's staging directory.

    Why the prefix hash always equals the sha256 of the bytes that get published: the bytes of
    part n change only inside a write of part n, between :meth:`begin_write` and
    :meth:`end_write` (the caller closes its file before ``end_write``). ``begin_write`` refuses
    a part already being written, and drops a prefix that covers part n or is reading it; the
    prefix never starts reading a part that is being written. :meth:`begin_complete` refuses
    while any part is being written, and no write begins until :meth:`end_complete`, so
    :meth:`finish` hashes (what the prefix lacks of) the very bytes that are then published.
    """

    def __init__(self, max_prefixes: int = PREFIX_ENTRIES_MAX) -> None:
        self._lock = threading.Lock()
        self._prefixes: OrderedDict[StageKey, _Prefix] = OrderedDict()
        self._activity: dict[StageKey, _Activity] = {}
        self._max = max_prefixes

    def begin_write(self, key: StageKey, number: int) -> None:
        """Claim part ``number`` for one write; :class:`BlobBusy` when that cannot be now."""
        with self._lock:
            activity = self._activity.setdefault(key, _Activity())
            if activity.completing or number in activity.writing:
                self._tidy(key, activity)
                raise BlobBusy(f"part {number} is already being uploaded, or the upload is being "
                               "finalized; retry when that request is done")
            activity.writing.add(number)
            prefix = self._prefixes.get(key)
            if prefix is not None and (prefix.next_part > number or prefix.hashing == number):
                self._drop(key, prefix)

    def end_write(self, key: StageKey, number: int) -> None:
        with self._lock:
            activity = self._activity.get(key)
            if activity is not None:
                activity.writing.discard(number)
                self._tidy(key, activity)

    def begin_complete(self, key: StageKey) -> None:
        """Freeze the staged bytes for :meth:`finish`; :class:`BlobBusy` while parts arrive."""
        with self._lock:
            activity = self._activity.setdefault(key, _Activity())
            if activity.writing or activity.completing:
                busy = sorted(activity.writing)
                self._tidy(key, activity)
                raise BlobBusy(f"parts {busy[:10]} are still being uploaded" if busy else
                               "the upload is already being finalized")
            activity.completing = True

    def end_complete(self, key: StageKey) -> None:
        with self._lock:
            activity = self._activity.get(key)
            if activity is not None:
                activity.completing = False
                self._tidy(key, activity)

    def busy(self, key: StageKey) -> bool:
        """Whether a part of ``key`` is being written or the upload is being completed."""
        with self._lock:
            return key in self._activity

    def forget(self, key: StageKey) -> None:
        with self._lock:
            self._drop(key, self._prefixes.get(key))

    def advance(self, key: StageKey, data: Path, parts: Path) -> None:
        """Hash every newly contiguous received part (blocking; run on an I/O thread)."""
        with self._lock:
            prefix = self._prefix(key)
        with prefix.lock:
            while (part := self._claim_next(key, prefix, parts)) is not None:
                try:
                    before = read_etag(parts, part.number)
                    hash_range(data, part.offset, part.size, prefix.hasher)
                    after = read_etag(parts, part.number)
                except OSError:  # published or discarded meanwhile: nothing to track
                    after = before = None
                with self._lock:
                    prefix.hashing = 0
                    if before is None or before != after:  # gone, or rewritten by another
                        self._drop(key, prefix)            # process while it was read
                        return
                    if prefix.stale:
                        return
                    prefix.etags.update(before.encode())
                    prefix.next_part = part.number + 1

    def _claim_next(self, key: StageKey, prefix: _Prefix, parts: Path) -> PartPlan | None:
        """The next part for ``prefix`` to read (marked as being read), or None: none is ready."""
        with self._lock:
            activity = self._activity.get(key)
            number = prefix.next_part
            if prefix.stale or (activity is not None
                                and (activity.completing or number in activity.writing)):
                return None
            part = part_at(key.size, key.part_size, number)
            if part is None or not (parts / str(number)).exists():
                return None
            prefix.hashing = number
            return part

    def finish(self, key: StageKey, data: Path) -> str:
        """The sha256 hex of the staged blob, hashing only what the prefix lacks (blocking).

        Call between :meth:`begin_complete` and :meth:`end_complete` only.
        """
        with self._lock:
            prefix = self._prefixes.pop(key, None) or _Prefix()
        with prefix.lock:  # waits for a part being read to be fed in
            with self._lock:
                usable, prefix.stale = not prefix.stale, True
            done_parts = prefix.next_part - 1
            if usable and done_parts and etag_fingerprint(
                    data.with_suffix(".parts"), done_parts) != prefix.etags.hexdigest():
                usable = False  # a part it covers was re-sent through another process
            hasher = prefix.hasher if usable else hashlib.sha256()
            done_parts = done_parts if usable else 0
            start = min(key.size, done_parts * key.part_size)
            hash_range(data, start, key.size - start, hasher)
            digest: str = hasher.hexdigest()
            return digest

    def _prefix(self, key: StageKey) -> _Prefix:
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = self._prefixes[key] = _Prefix()
            while len(self._prefixes) > self._max:
                self._prefixes.popitem(last=False)[1].stale = True
        self._prefixes.move_to_end(key)
        return prefix

    def _drop(self, key: StageKey, prefix: _Prefix | None) -> None:
        if prefix is None:
            return
        prefix.stale = True
        prefix.hashing = 0
        if self._prefixes.get(key) is prefix:
            del self._prefixes[key]

    def _tidy(self, key: StageKey, activity: _Activity) -> None:
        if not activity.writing and not activity.completing:
            self._activity.pop(key, None)


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
