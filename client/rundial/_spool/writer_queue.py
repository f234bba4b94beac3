"""One writer directory of the disk spool: its batch file names, its lock and its FIFO.

A writer directory ``<spool>/<run_id>/<writer_id>/`` holds one gzip file per batch, named
``<seq:016d>-<batch_id>.json.gz`` (:func:`entry_name`), plus the ``.lock`` file its live
owner holds an exclusive ``fcntl.flock`` on (:func:`try_lock`); another process adopts
(:meth:`WriterQueue.adopt`) only a directory whose lock it can take. A batch is written to a
dot-prefixed ``*.tmp`` name and renamed, so a crash leaves either the whole file or a stray
tmp file, deleted on adoption.

Failure behaviour: :meth:`WriterQueue.write` raises ``OSError`` (the caller falls back to
memory); :func:`try_lock` and :meth:`WriterQueue.adopt` return None when the lock is held
elsewhere or the directory cannot be opened or listed; ``close``, ``forget_after_fork`` and
:func:`unlink_quietly` ignore ``OSError``. :class:`rundial._spool.disk.DiskSpool` owns the queues.
"""

from __future__ import annotations

import fcntl
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial._spool.layout import LOCK_NAME, entry_name, parse_entry_name
from rundial._wire.batch import Batch



@dataclass(slots=True, eq=False)
class SpoolEntry:
    """One pending batch. ``path`` is None for memory-only entries; ``points`` may be unknown
    (None) for files adopted from another process until they are evicted or sent."""

    seq: int
    batch_id: str
    nbytes: int
    created_s: float
    path: Path | None = None
    body: bytes | None = None
    records: int = 0
    points: int | None = None
    first_step: int | None = None
    last_step: int | None = None


def try_lock(directory: Path) -> int | None:
    """An fd holding an exclusive flock on ``<directory>/.lock``, or None if another process holds it."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _list_entries(directory: Path) -> Iterator[SpoolEntry]:
    """The batch files of a writer directory (any order); stray ``*.tmp`` files are deleted."""
    for name in os.listdir(directory):
        if name.endswith(".tmp"):
            unlink_quietly(directory / name)
        elif (parsed := parse_entry_name(name)) is not None:
            path = directory / name
            stat = path.stat()
            yield SpoolEntry(parsed[0], parsed[1], stat.st_size, stat.st_mtime, path)


class WriterQueue:
    """The FIFO of one writer directory (ours, or an orphan we adopted and hold the lock of)."""

    def __init__(self, directory: Path | None, run_id: str, writer_id: str, lock_fd: int | None,
                 *, own: bool, run_info: dict[str, Any] | None = None) -> None:
        self.directory = directory
        self.run_id = run_id
        self.writer_id = writer_id
        self.lock_fd = lock_fd
        self.own = own
        self.run_info = run_info
        self.entries: deque[SpoolEntry] = deque()
        self.send_tried = False  # an adopted queue may be evicted only after a send was tried

    @classmethod
    def adopt(cls, directory: Path, run_info: dict[str, Any]) -> WriterQueue | None:
        """Lock an orphan writer directory, delete its tmp files and list its batches (by seq)."""
        fd = try_lock(directory)
        if fd is None:
            return None
        queue = cls(directory, directory.parent.name, directory.name, fd, own=False, run_info=run_info)
        try:
            found = list(_list_entries(directory))
        except OSError:
            queue.close(remove_if_empty=False)
            return None
        queue.entries.extend(sorted(found, key=lambda e: (e.seq, e.batch_id)))
        return queue

    def write(self, batch: Batch, fsync: bool, now: float) -> SpoolEntry:
        """Write ``batch`` to ``<seq>-<batch_id>.json.gz`` via a tmp file; raises OSError."""
        assert self.directory is not None
        path = self.directory / entry_name(batch.seq, batch.batch_id)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(batch.body)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        return SpoolEntry(batch.seq, batch.batch_id, len(batch.body), now, path, batch.body,
                          batch.records, batch.points, batch.first_step, batch.last_step)

    def close(self, remove_if_empty: bool) -> None:
        """Release the lock; with ``remove_if_empty``, delete the directory when nothing is pending."""
        if remove_if_empty and not self.entries and self.directory is not None:
            try:
                for name in os.listdir(self.directory):
                    if name.endswith(".tmp") or name == LOCK_NAME:
                        unlink_quietly(self.directory / name)
                os.rmdir(self.directory)
            except OSError:
                pass
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # closing releases the flock
            self.lock_fd = None

    def forget_after_fork(self) -> None:
        """In a forked child: drop the inherited fd without unlocking (the parent keeps its lock)."""
        if self.lock_fd is not None:
            try:
                os.close(self.lock_fd)
            except OSError:
                pass
            self.lock_fd = None


def unlink_quietly(path: Path) -> None:
    """Delete ``path``; a missing file or any other ``OSError`` is ignored."""
    try:
        os.unlink(path)
    except OSError:
        pass
