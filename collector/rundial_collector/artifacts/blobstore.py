"""Content-addressed blob storage in a local directory: the default :class:`BlobStore`.

The interface, its contract and its errors live in :mod:`rundial_collector.artifacts.blobstore_base`
(re-exported here). Blobs are addressed by sha256 only; no user-supplied name or path ever
reaches the filesystem. Layout under ``root`` (``<data_dir>/blobs``)::

    sha256/ab/cd/<hex>              published blobs (content verified before publishing)
    tmp/<random>.tmp                single uploads being received (same filesystem: os.replace)
    staging/<stem>.data             multipart uploads: parts are written at their offsets
    staging/<stem>.parts/<n>        the ETag of part n, written once its bytes are in

where ``<stem>`` is :attr:`StageKey.stem` (project tag, sha256, size, part size).

Bodies are streamed to disk while hashing; memory per stream is bounded by
:data:`WRITE_BATCH_BYTES` (two batches at most). Too long a body raises :class:`BlobTooLarge`,
a size or sha256 other than announced :class:`BlobMismatch` (the bytes are discarded), and
completing a multipart upload with parts missing :class:`BlobIncomplete`. Work submitted to the
I/O pool in the background (prefix hashing) only logs its failures.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from rundial_collector.artifacts.blobshare import read_etag, stage_lock
from rundial_collector.artifacts.blobstage import (KeyedLocks, PartPlan, StagedUploads, hash_file,
                                                   part_at, part_plan, write_and_hash)
from rundial_collector.artifacts.blobstore_base import (BlobBusy, BlobError, BlobIncomplete,
                                                        BlobMismatch, BlobStore, BlobTooLarge,
                                                        Chunks, StageKey)
from rundial_collector.artifacts.blobsweep import sweep_staging_dir

T = TypeVar("T")
log = logging.getLogger("rundial.collector.blobs")
WRITE_BATCH_BYTES = 1024 * 1024  # bytes buffered per stream before one write+hash call
WRITE_BATCH_CHUNKS = 512  # stay well under IOV_MAX (1024) for one pwritev
IO_THREADS = 4  # disk writes and hashing run here; both release the GIL


class LocalBlobStore:
    """The default backend: a directory on the collector's disk (see the module docstring)."""

    def __init__(self, root: Path, io_threads: int = IO_THREADS) -> None:
        self.root = root
        self._io_threads = io_threads
        self._pool: ThreadPoolExecutor | None = None
        self._locks = KeyedLocks()
        self._staged = StagedUploads()
        self._background: set[asyncio.Future[Any]] = set()

    def start(self) -> None:
        """Create the directories and the I/O pool; delete stray temp files of a crash."""
        for name in ("sha256", "tmp", "staging"):
            (self.root / name).mkdir(mode=0o700, parents=True, exist_ok=True)
        for stray in (self.root / "tmp").iterdir():
            stray.unlink(missing_ok=True)
        self._pool = ThreadPoolExecutor(self._io_threads, thread_name_prefix="rundial-blob-io")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- reads -------------------------------------------------------------------------------
    def blob_path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.blob_path(sha256).is_file()

    def local_path(self, sha256: str) -> Path | None:
        """The published file of ``sha256`` (served with sendfile), or None."""
        path = self.blob_path(sha256)
        return path if path.is_file() else None

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        """Every published blob as (sha256, mtime)."""
        for path in (self.root / "sha256").glob("*/*/*"):
            try:
                yield path.name, path.stat().st_mtime
            except FileNotFoundError:  # deleted while listing
                continue

    # -- single uploads ----------------------------------------------------------------------
    async def put(self, sha256: str, size: int, chunks: Chunks) -> None:
        """Receive a whole blob; publish it when size and sha256 match, else discard it."""
        tmp = self.root / "tmp" / f"{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            written, digest = await self._stream(fd, 0, size, chunks)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        if written != size or digest != sha256:
            tmp.unlink(missing_ok=True)
            raise BlobMismatch(f"received {written} bytes with sha256 {digest}; "
                               f"expected {size} bytes with sha256 {sha256}")
        async with self._locks.hold(sha256):
            self._publish(tmp, sha256)

    def _publish(self, source: Path, sha256: str) -> None:
        """Move the verified ``source`` into place. An existing copy is replaced, not kept: the
        new one was just verified, so a blob stored wrong (by a collector before #14) heals at
        the next upload of its true content. Readers of the old file keep reading it."""
        target = self.blob_path(sha256)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(source, target)

    # -- multipart uploads -------------------------------------------------------------------
    def _staging(self, key: StageKey) -> tuple[Path, Path]:
        base = self.root / "staging" / key.stem
        return base.with_name(base.name + ".data"), base.with_name(base.name + ".parts")

    async def put_part(self, key: StageKey, number: int, chunks: Chunks) -> str:
        """Receive part ``number`` into the staging file; return its ETag (quoted sha256).

        :class:`BlobBusy` when the same part is being received or the upload is being completed.
        """
        part = part_at(key.size, key.part_size, number)
        if part is None:
            raise BlobMismatch(f"a {key.size}-byte blob has no part {number}")
        data, parts = self._staging(key)
        self._staged.begin_write(key, number)
        try:
            parts.mkdir(mode=0o700, parents=True, exist_ok=True)
            with stage_lock(parts, exclusive=False,  # no other process completes it meanwhile
                            missing=lambda: BlobBusy("the upload was just finalized; retry")):
                (parts / str(number)).unlink(missing_ok=True)  # untrusted until rewritten
                fd = os.open(data, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    written, digest = await self._stream(fd, part.offset, part.size, chunks)
                finally:
                    os.close(fd)
                if written != part.size:
                    raise BlobMismatch(f"part {number} has {written} bytes; "
                                       f"expected {part.size}")
                etag = f'"{digest}"'
                _write_atomic(parts / str(number), etag)
        finally:
            self._staged.end_write(key, number)
        self._in_background(self._staged.advance, key, data, parts)
        return etag

    def missing_parts(self, key: StageKey) -> list[int]:
        """Numbers of the parts of ``key`` not yet received (all of them when none are)."""
        _, parts = self._staging(key)
        have = set(os.listdir(parts)) if parts.is_dir() else set()
        return [p.number for p in part_plan(key.size, key.part_size) if str(p.number) not in have]

    def part_etag(self, key: StageKey, number: int) -> str | None:
        return read_etag(self._staging(key)[1], number)

    async def complete(self, key: StageKey) -> None:
        """Hash the staged bytes; publish them (or drop them when the blob is already stored)
        when they match, discard them otherwise.

        :class:`BlobIncomplete` with parts missing, :class:`BlobBusy` while a part is still being
        received, :class:`BlobMismatch` when the bytes are not the announced content.
        """
        data, parts = self._staging(key)
        async with self._locks.hold(key.sha256):
            self._staged.begin_complete(key)
            try:
                with stage_lock(parts, exclusive=True,  # no process writes a part meanwhile
                                missing=lambda: BlobIncomplete(self.missing_parts(key))):
                    await self._complete_locked(key, data, parts)
            finally:
                self._staged.end_complete(key)

    async def _complete_locked(self, key: StageKey, data: Path, parts: Path) -> None:
        missing = self.missing_parts(key)
        if missing:
            raise BlobIncomplete(missing)
        digest = await self._run(self._staged.finish, key, data)
        if digest != key.sha256 or data.stat().st_size != key.size:
            await self._run(self._discard, key)
            raise BlobMismatch(f"the parts assemble to sha256 {digest}, not {key.sha256}")
        self._publish(data, key.sha256)
        await self._run(shutil.rmtree, parts, True)

    def _discard(self, key: StageKey) -> None:
        data, parts = self._staging(key)
        self._staged.forget(key)
        data.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)

    # -- deletion ----------------------------------------------------------------------------
    async def delete(self, sha256: str) -> int:
        """Delete a published blob; return the bytes reclaimed (0 when absent)."""
        async with self._locks.hold(sha256):
            path = self.blob_path(sha256)
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                return 0
            return size

    async def sweep_staging(self, older_than_s: float) -> int:
        """Drop staged uploads untouched for ``older_than_s``; return the bytes reclaimed."""
        return await self._run(sweep_staging_dir, self.root / "staging", self._staged,
                               time.time() - older_than_s)

    # -- plumbing ----------------------------------------------------------------------------
    async def _stream(self, fd: int, offset: int, limit: int,
                      chunks: Chunks) -> tuple[int, str]:
        """Write ``chunks`` at ``offset`` in batches; (bytes written, sha256 hex).

        One batch is written and hashed on an I/O thread while the next one is received, so the
        socket keeps flowing; at most two batches per stream are in memory.
        """
        hasher = hashlib.sha256()
        written = buffered = 0
        batch: list[bytes] = []
        writing: asyncio.Future[None] | None = None
        try:
            async for chunk in chunks:
                if written + buffered + len(chunk) > limit:
                    raise BlobTooLarge(f"the body is longer than the announced {limit} bytes")
                batch.append(chunk)
                buffered += len(chunk)
                if buffered >= WRITE_BATCH_BYTES or len(batch) >= WRITE_BATCH_CHUNKS:
                    if writing is not None:
                        await _settled(writing)
                    writing = self._submit(write_and_hash, fd, offset + written, batch, hasher)
                    written, buffered, batch = written + buffered, 0, []
        finally:
            if writing is not None:
                await _settled(writing)
        if batch:
            await self._run(write_and_hash, fd, offset + written, batch, hasher)
            written += buffered
        return written, hasher.hexdigest()

    def _in_background(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the I/O pool without waiting; failures are logged, never raised."""
        future = self._submit(fn, *args)
        self._background.add(future)
        future.add_done_callback(self._background_done)

    def _background_done(self, future: asyncio.Future[Any]) -> None:
        self._background.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("background blob work failed: %r", future.exception())

    def _submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        assert self._pool is not None, "blob store not started"
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await _settled(self._submit(fn, *args))


async def _settled(future: asyncio.Future[T]) -> T:
    """The result of ``future`` (work on the I/O pool), awaited to its end even when this task
    is cancelled meanwhile: a write must never outlive the file descriptor it writes to, nor a
    hash the state it describes. The cancellation is re-raised once the work is done."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not future.cancelled():
            future.exception()  # retrieved: the cancellation is what the caller gets
        raise asyncio.CancelledError
    return future.result()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text)
    os.replace(tmp, path)


__all__ = ["BlobBusy", "BlobError", "BlobIncomplete", "BlobMismatch", "BlobStore", "BlobTooLarge",
           "LocalBlobStore", "PartPlan", "StageKey", "hash_file", "part_plan"]
