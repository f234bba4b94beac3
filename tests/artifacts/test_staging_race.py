"""Multipart staging under racing writes: a blob is published only with the bytes it is named by
(#14.1). These tests drive :class:`LocalBlobStore` directly so that the interleaving is exact."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from rundial_collector.artifacts import blobstage
from rundial_collector.artifacts import blobstore
from rundial_collector.artifacts.blobstore import BlobBusy, BlobMismatch, LocalBlobStore, StageKey

PART_BYTES = 64 * 1024
WAIT_SECONDS = 10.0


def key_of(content: bytes, owner: str = "prj_a") -> StageKey:
    return StageKey.of(owner, hashlib.sha256(content).hexdigest(), len(content), PART_BYTES)


async def body(data: bytes) -> AsyncIterator[bytes]:
    yield data


class HashGate:
    """Wraps ``blobstage.hash_range``: the first hash of part 1 blocks *after* reading it,
    until released, so a test can rewrite part 1 while the running hash still holds the old
    bytes (the window of the issue's race)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.hashed = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._armed = True

    def __call__(self, path: Path, offset: int, size: int, hasher: Any) -> None:
        self.real(path, offset, size, hasher)
        with self._lock:
            fire, self._armed = self._armed and offset == 0, self._armed and offset != 0
        if fire:
            self.hashed.set()
            assert self.release.wait(WAIT_SECONDS), "the test never released the hash"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalBlobStore]:
    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.start()
    try:
        yield blobs
    finally:
        blobs.close()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[HashGate]:
    gated = HashGate(blobstage.hash_range)
    monkeypatch.setattr(blobstage, "hash_range", gated)
    yield gated
    gated.release.set()


async def wait_event(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, WAIT_SECONDS), "timed out waiting for the hash"


async def test_a_part_rewritten_while_it_is_hashed_never_publishes_wrong_bytes(
        store: LocalBlobStore, gate: HashGate) -> None:
    """Part 1 re-sent with other bytes while the first copy is being hashed: the parts no longer
    assemble to the sha256, so completing refuses, and nothing is published."""
    content = os.urandom(2 * PART_BYTES + 100)
    key = key_of(content)
    await store.put_part(key, 1, body(content[:PART_BYTES]))
    await wait_event(gate.hashed)  # the running hash now holds the true part 1
    await store.put_part(key, 1, body(os.urandom(PART_BYTES)))
    gate.release.set()
    await store.put_part(key, 2, body(content[PART_BYTES:2 * PART_BYTES]))
    await store.put_part(key, 3, body(content[2 * PART_BYTES:]))
    with pytest.raises(BlobMismatch):
        await store.complete(key)
    published = store.local_path(key.sha256)
    assert published is None, "a blob was published whose bytes hash to " + (
        blobstage.hash_file(published) if published else "")


async def test_honest_upload_after_a_refused_one_publishes_the_true_bytes(
        store: LocalBlobStore, gate: HashGate) -> None:
    """After the race above was refused, the honest upload of the content publishes exactly it:
    no bad blob is left behind to be the dedup target of later uploads."""
    content = os.urandom(2 * PART_BYTES)
    key = key_of(content)
    await store.put_part(key, 1, body(content[:PART_BYTES]))
    await wait_event(gate.hashed)
    await store.put_part(key, 1, body(b"\0" * PART_BYTES))
    gate.release.set()
    await store.put_part(key, 2, body(content[PART_BYTES:]))
    with pytest.raises(BlobMismatch):
        await store.complete(key)
    for number, offset in ((1, 0), (2, PART_BYTES)):
        await store.put_part(key, number, body(content[offset:offset + PART_BYTES]))
    await store.complete(key)
    published = store.local_path(key.sha256)
    assert published is not None and published.read_bytes() == content


async def held_body(first: bytes, rest: bytes, started: asyncio.Event,
                    go: asyncio.Event) -> AsyncIterator[bytes]:
    """``first``, then (once ``go`` is set) ``rest``: a part upload caught mid-body."""
    yield first
    started.set()
    await go.wait()
    yield rest


async def test_a_part_being_received_cannot_be_rewritten_or_completed(
        store: LocalBlobStore) -> None:
    """While part 1 is arriving, a second write of part 1 and completing the upload are refused
    (BlobBusy: a 409); writes of other parts go on; once part 1 is in, the upload completes."""
    content = os.urandom(2 * PART_BYTES)
    key = key_of(content)
    started, go = asyncio.Event(), asyncio.Event()
    slow = asyncio.create_task(store.put_part(
        key, 1, held_body(content[:100], content[100:PART_BYTES], started, go)))
    await asyncio.wait_for(started.wait(), WAIT_SECONDS)
    with pytest.raises(BlobBusy):
        await store.put_part(key, 1, body(os.urandom(PART_BYTES)))
    await store.put_part(key, 2, body(content[PART_BYTES:]))
    with pytest.raises(BlobBusy):
        await store.complete(key)
    go.set()
    assert await slow == f'"{hashlib.sha256(content[:PART_BYTES]).hexdigest()}"'
    await store.complete(key)
    published = store.local_path(key.sha256)
    assert published is not None and published.read_bytes() == content


async def test_a_cancelled_part_upload_never_leaves_a_write_behind(
        store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A part upload cancelled while a batch is being written waits for that write before it
    closes its file: a write never outlives its descriptor (it could land in another file)."""
    real = blobstore.write_and_hash
    entered, release = threading.Event(), threading.Event()
    failures: list[OSError] = []

    def gated(fd: int, offset: int, chunks: list[bytes], hasher: Any) -> None:
        if not entered.is_set():
            entered.set()
            assert release.wait(WAIT_SECONDS)
        try:
            os.fstat(fd)
        except OSError as exc:
            failures.append(exc)
            raise
        real(fd, offset, chunks, hasher)

    monkeypatch.setattr(blobstore, "write_and_hash", gated)
    batch = blobstore.WRITE_BATCH_BYTES
    content = os.urandom(3 * batch)
    key = StageKey.of("prj_a", hashlib.sha256(content).hexdigest(), len(content), len(content))

    async def two_batches() -> AsyncIterator[bytes]:
        yield content[:batch]
        yield content[batch:2 * batch]  # the upload now waits for the first batch's write
        await asyncio.Event().wait()

    task = asyncio.create_task(store.put_part(key, 1, two_batches()))
    await wait_event(entered)
    task.cancel()
    for _ in range(5):  # let the cancellation run its course (no time passes)
        await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert failures == []


async def test_the_sweep_drops_stale_staging_of_either_naming(store: LocalBlobStore) -> None:
    """Stale staged uploads are reclaimed, named as now (per project) or as before (content
    and part size only); one whose part is being received is left alone."""
    content = os.urandom(PART_BYTES)
    await store.put_part(key_of(content), 1, body(content))
    legacy = store.root / "staging" / f"{key_of(content).sha256}.{PART_BYTES}.data"
    legacy.write_bytes(content)
    (legacy.parent / f"{key_of(content).sha256}.{PART_BYTES}.parts").mkdir()
    started, go = asyncio.Event(), asyncio.Event()
    busy_key = key_of(content, owner="prj_busy")
    busy = asyncio.create_task(store.put_part(busy_key, 1, held_body(
        content[:10], content[10:], started, go)))
    await asyncio.wait_for(started.wait(), WAIT_SECONDS)
    an_hour_ago = time.time() - 3600
    for path in (store.root / "staging").iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert await store.sweep_staging(0) == 2 * PART_BYTES
    assert sorted(p.name for p in (store.root / "staging").iterdir()) == [
        busy_key.stem + ".data", busy_key.stem + ".parts"]
    go.set()
    await busy
