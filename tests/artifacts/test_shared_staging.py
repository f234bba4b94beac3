"""Multipart staging in a blob directory shared by several collectors (#16): two
:class:`LocalBlobStore` instances on one root stand for two collector processes (each keeps its
own in-process bookkeeping, as two processes would). A blob is published only with the bytes it
is named by, whichever collector received which part."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rundial_collector.artifacts import blobstage
from rundial_collector.artifacts.blobstore import (BlobBusy, BlobMismatch, LocalBlobStore,
                                                   StageKey)

PART_BYTES = 64 * 1024
WAIT_SECONDS = 10.0


async def body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def parts_of(content: bytes) -> list[bytes]:
    return [content[i:i + PART_BYTES] for i in range(0, len(content), PART_BYTES)]


def key_of(content: bytes) -> StageKey:
    return StageKey.of("prj_a", hashlib.sha256(content).hexdigest(), len(content), PART_BYTES)


async def eventually(probe: Callable[[], bool], what: str) -> None:
    """Wait (without blocking the loop) until ``probe()`` holds; fail at the deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def prefix_covers(blobs: LocalBlobStore, key: StageKey, parts: int) -> bool:
    """Whether ``blobs``' running hash of ``key`` has caught up with ``parts`` parts."""
    prefix = blobs._staged._prefixes.get(key)
    return prefix is not None and prefix.next_part == parts + 1


def published_ok(blobs: LocalBlobStore, sha256: str) -> bool:
    """Nothing is published under ``sha256``, or exactly the content it names."""
    path = blobs.local_path(sha256)
    return path is None or hashlib.sha256(path.read_bytes()).hexdigest() == sha256


class FirstHashGate:
    """Wraps ``blobstage.hash_range``: the first call after installation blocks after reading
    until released (the completing collector is then between its hash and its publish)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()
        self._fired = False
        self._lock = threading.Lock()

    def __call__(self, path: Path, offset: int, size: int, hasher: Any) -> None:
        self.real(path, offset, size, hasher)
        with self._lock:
            fire, self._fired = not self._fired, True
        if fire:
            self.entered.set()
            assert self.release.wait(WAIT_SECONDS), "the test never released the hash"


@pytest.fixture
def collectors(tmp_path: Path) -> Iterator[tuple[LocalBlobStore, LocalBlobStore]]:
    made = (LocalBlobStore(tmp_path / "blobs"), LocalBlobStore(tmp_path / "blobs"))
    for blobs in made:
        blobs.start()
    try:
        yield made
    finally:
        for blobs in made:
            blobs.close()


async def test_a_part_rewritten_through_another_collector_is_never_published_stale(
        collectors: tuple[LocalBlobStore, LocalBlobStore]) -> None:
    """Collector A received every part and hashed them ahead; a client re-sends part 1 with
    other bytes through B. Completing on A must not trust its running hash of the old bytes."""
    a, b = collectors
    content = os.urandom(3 * PART_BYTES + 10)
    key = key_of(content)
    for number, part in enumerate(parts_of(content), start=1):
        await a.put_part(key, number, body(part))
    await eventually(lambda: prefix_covers(a, key, 4), "A's running hash")
    await b.put_part(key, 1, body(os.urandom(PART_BYTES)))
    with pytest.raises(BlobMismatch):
        await a.complete(key)
    assert a.local_path(key.sha256) is None


async def test_no_part_is_written_through_another_collector_while_one_completes(
        collectors: tuple[LocalBlobStore, LocalBlobStore],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A is completing (hashed, not yet published) when a part with other bytes arrives
    through B: B's write is refused (409 busy), so it can never land in the published file."""
    a, b = collectors
    content = os.urandom(2 * PART_BYTES)
    key = key_of(content)
    for number, part in enumerate(parts_of(content), start=1):
        await b.put_part(key, number, body(part))
    await eventually(lambda: prefix_covers(b, key, 2), "B's running hash")
    gate = FirstHashGate(blobstage.hash_range)
    monkeypatch.setattr(blobstage, "hash_range", gate)
    completing = asyncio.create_task(a.complete(key))
    try:
        assert await asyncio.to_thread(gate.entered.wait, WAIT_SECONDS), "A never hashed"
        with pytest.raises(BlobBusy):
            await b.put_part(key, 2, body(os.urandom(PART_BYTES)))
    finally:
        gate.release.set()
        await asyncio.gather(completing, return_exceptions=True)
    assert completing.exception() is None
    assert a.local_path(key.sha256) is not None
    assert published_ok(a, key.sha256)


async def test_parts_spread_over_collectors_complete_on_either(
        collectors: tuple[LocalBlobStore, LocalBlobStore]) -> None:
    """The ordinary case: parts arrive through both collectors, finalize through one."""
    a, b = collectors
    content = os.urandom(4 * PART_BYTES + 1)
    key = key_of(content)
    for number, part in enumerate(parts_of(content), start=1):
        await (a if number % 2 else b).put_part(key, number, body(part))
    assert a.missing_parts(key) == [] == b.missing_parts(key)
    await b.complete(key)
    assert published_ok(a, key.sha256) and a.local_path(key.sha256) is not None
