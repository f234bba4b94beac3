"""The bounded disk spool: one gzip file per batch, FIFO per writer, deleted only after a 2xx.

Layout: ``<spool>/<run_id>/<writer_id>/<seq:016d>-<batch_id>.json.gz`` holds the exact HTTP body;
``<spool>/<run_id>/run.json`` the run's registration data; ``<spool>/rejected/`` dead letters and
``<spool>/corrupt/`` quarantined files. A live writer holds ``fcntl.flock`` on
``<writer dir>/.lock``, so another process only adopts (replays) writers whose owner is gone
(one writer directory, its file names and its lock: :mod:`rundial._spool.writer_queue`).

Files are written to a tmp name and renamed (``spool_fsync`` adds an fsync). The spool tracks its
files and bytes in memory — it never lists a directory per batch. Bounds (``max_bytes``,
``max_age_s``) are enforced when the process writes its own batches; beyond either, the oldest
files are deleted and their step ranges recorded in diagnostics. Adopted orphans (another
writer's data, already on disk under that writer's own bounds) are never evicted at adoption
nor for their age: only under this process's own space pressure (its write finds the bytes it
holds, orphans included, over ``max_bytes``), oldest first, and only once a send from that
queue was tried (the pump marks it). They are counted against the run that wrote them (drop reason
``adopted_spool_eviction`` and a lost step range of that run), not as this run's eviction.
Until then the spool may hold ``max_bytes`` plus the untried orphans' bytes. When a write fails
(disk full, permissions) or the spool is disabled, batches are kept in memory instead, bounded
by ``memory_max_records`` (oldest evicted and counted). Owned by the worker thread.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from rundial._diagnostics import REASON_ADOPTED_EVICTION, REASON_SPOOL_EVICTION, Counters
from rundial._spool.layout import entry_name, quarantine_name
from rundial._spool.runfile import run_file_path
from rundial._spool.writer_queue import SpoolEntry, WriterQueue, try_lock, unlink_quietly
from rundial._wire.batch import Batch, gunzip_bytes
from rundial._wire.body import body_meta
BODY_CACHE_BYTES = 8 * 1024 * 1024  # keep recent bodies in memory so a healthy run never reads back


class CorruptSpoolFile(Exception):
    """A spool file failed its gzip CRC/length check or could not be read."""


class DiskSpool:
    """The process's pending batches: its own writer queue plus adopted orphan queues.

    ``on_own_dir(writer_dir)`` is called when this writer's directory is created, and again
    before a write only if ``run.json`` has gone missing (not once per batch).
    """

    def __init__(self, root: Path | None, run_id: str, writer_id: str, counters: Counters, *,
                 max_bytes: int, max_age_s: float, memory_max_records: int, fsync: bool = False,
                 clock: Callable[[], float] = time.time,
                 on_own_dir: Callable[[Path], None] | None = None) -> None:
        self.root = root
        self.counters = counters
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.memory_max_records = memory_max_records
        self.fsync = fsync
        self._clock = clock
        self._on_own_dir = on_own_dir
        self.own = WriterQueue(None, run_id, writer_id, None, own=True)
        self.adopted: deque[WriterQueue] = deque()
        self.total_bytes = 0
        self.adopted_bytes = 0  # the part of total_bytes held by adopted queues
        self.total_files = 0
        self.memory_records = 0
        self.cache_bytes = 0
        self.disk_error: str | None = None

    @property
    def own_dir(self) -> Path | None:
        """``<root>/<run_id>/<writer_id>`` (None when the spool is disabled)."""
        return None if self.root is None else self.root / self.own.run_id / self.own.writer_id

    def __len__(self) -> int:
        return len(self.own.entries) + sum(len(q.entries) for q in self.adopted)

    def queues(self) -> Iterator[WriterQueue]:
        """Send order: adopted writers of our own run first (an older writer's batches must
        reach the server before ours, which supersede them at the same steps), then our own
        queue (the live run's data goes before other runs'), then other runs' orphans. Adopted
        queues keep their adoption order, oldest writer first within a run (``orphans``)."""
        run_id = self.own.run_id
        yield from (q for q in self.adopted if q.run_id == run_id)
        yield self.own
        yield from (q for q in self.adopted if q.run_id != run_id)

    def append(self, batch: Batch) -> SpoolEntry:
        """Persist ``batch`` (or keep it in memory when the disk fails); then enforce the bounds."""
        now = self._clock()
        entry = self._write_disk(batch, now)
        if entry is None:
            entry = SpoolEntry(batch.seq, batch.batch_id, len(batch.body), now, None, batch.body,
                               batch.records, batch.points, batch.first_step, batch.last_step)
            self.memory_records += batch.records
        self.own.entries.append(entry)
        self._account(entry, +1)
        self.enforce_bounds()
        return entry

    def _write_disk(self, batch: Batch, now: float) -> SpoolEntry | None:
        if self.root is None:
            return None
        try:
            if self.own.directory is None:
                self._open_own_dir()
            elif (not self.own.entries and self._on_own_dir is not None
                  and not run_file_path(self.own.directory.parent).exists()):
                self._on_own_dir(self.own.directory)  # run.json went missing: write it back
            entry = self.own.write(batch, self.fsync, now)
        except OSError as exc:
            self.disk_error = f"spool write failed: {exc}"
            self.counters.error(self.disk_error)
            return None
        self.counters.batches_spooled += 1
        return entry

    def _open_own_dir(self) -> None:
        directory = self.own_dir
        assert directory is not None
        directory.mkdir(parents=True, exist_ok=True)
        fd = try_lock(directory)
        if fd is None:
            raise OSError(f"cannot lock {directory}")
        self.own.directory, self.own.lock_fd = directory, fd
        if self._on_own_dir is not None:
            self._on_own_dir(directory)

    def _account(self, entry: SpoolEntry, sign: int) -> None:
        self.total_bytes += sign * entry.nbytes
        self.total_files += sign
        if entry.body is not None and entry.path is not None:
            if sign > 0 and self.cache_bytes + entry.nbytes > BODY_CACHE_BYTES:
                entry.body = None
            else:
                self.cache_bytes += sign * entry.nbytes

    def head(self, skip_own: bool = False) -> tuple[WriterQueue, SpoolEntry] | None:
        """The next batch to send (FIFO within each writer), or None. ``skip_own`` (our run's
        registration was refused) skips our queue and the adopted writers of our run."""
        for queue in self.queues():
            if queue.entries and not (skip_own and queue.run_id == self.own.run_id):
                return queue, queue.entries[0]
        return None

    def read(self, entry: SpoolEntry) -> bytes:
        """The body of ``entry``, verified (gzip CRC + length) when read back from disk."""
        if entry.body is not None:
            return entry.body
        assert entry.path is not None
        try:
            body = entry.path.read_bytes()
            gunzip_bytes(body)
        except Exception as exc:  # zlib.error, OSError, EOFError
            raise CorruptSpoolFile(f"{entry.path}: {exc}") from exc
        return body

    def remove(self, queue: WriterQueue, entry: SpoolEntry) -> None:
        """Forget ``entry`` (delivered or moved away) and delete its file if it still exists."""
        if queue.entries[0] is entry:
            queue.entries.popleft()
        else:
            queue.entries.remove(entry)
        self._account(entry, -1)
        if not queue.own:
            self.adopted_bytes -= entry.nbytes
        if entry.path is None:
            self.memory_records -= entry.records
        else:
            unlink_quietly(entry.path)

    def move_to(self, folder: str, queue: WriterQueue, entry: SpoolEntry, note: str) -> None:
        """Move ``entry`` to ``<root>/<folder>/`` (dead letters, quarantine) with a ``.reason`` note."""
        if entry.path is not None:
            dest = self._quarantine_path(folder, queue, entry.seq, entry.batch_id)
            try:
                if dest is not None:
                    os.replace(entry.path, dest)
                    dest.with_name(dest.name + ".reason").write_text(note + "\n")
            except OSError as exc:
                self.counters.error(f"could not move {entry.path.name} to {folder}/: {exc}")
        elif entry.body is not None:
            self.write_quarantine(folder, queue, entry.seq, entry.batch_id, entry.body, note)
        self.remove(queue, entry)

    def write_quarantine(self, folder: str, queue: WriterQueue, seq: int, batch_id: str,
                         body: bytes, note: str) -> None:
        """Write ``body`` as ``<root>/<folder>/<run>-<writer>-<seq>-<batch_id>.json.gz`` + ``.reason``."""
        try:
            dest = self._quarantine_path(folder, queue, seq, batch_id)
            if dest is not None:
                dest.write_bytes(body)
                dest.with_name(dest.name + ".reason").write_text(note + "\n")
        except OSError as exc:
            self.counters.error(f"could not write batch {batch_id} to {folder}/: {exc}")

    def _quarantine_path(self, folder: str, queue: WriterQueue, seq: int, batch_id: str) -> Path | None:
        if self.root is None:
            return None
        (self.root / folder).mkdir(parents=True, exist_ok=True)
        return self.root / folder / quarantine_name(queue.run_id, queue.writer_id,
                                                     entry_name(seq, batch_id))

    def enforce_bounds(self) -> None:
        """Evict the oldest batches beyond ``max_bytes``/``max_age_s``/``memory_max_records``
        (adopted orphans only as the module docstring says)."""
        cutoff = self._clock() - self.max_age_s
        while (victim := self._victim(cutoff)) is not None:
            self._evict(*victim)

    def _victim(self, cutoff: float) -> tuple[WriterQueue, SpoolEntry] | None:
        if self.total_bytes > self.max_bytes:
            for queue in self.adopted:  # orphans hold the oldest data: evicted first, once tried
                if queue.entries and queue.send_tried:
                    return queue, queue.entries[0]
        own = self.own.entries
        if own and (self._own_bytes() > self.max_bytes or own[0].created_s < cutoff):
            return self.own, own[0]
        if self.memory_records > self.memory_max_records:
            for entry in self.own.entries:
                if entry.path is None:
                    return self.own, entry
        return None

    def _evict(self, queue: WriterQueue, entry: SpoolEntry) -> None:
        if entry.points is None and entry.path is not None:
            try:
                _run, entry.points, entry.first_step, entry.last_step = body_meta(self.read(entry))
            except Exception:
                entry.points = 0
        reason = REASON_SPOOL_EVICTION if queue.own else REASON_ADOPTED_EVICTION
        self.counters.drop(reason, entry.points or 0)
        if entry.first_step is not None and entry.last_step is not None:
            self.counters.lost_range(queue.run_id, entry.first_step, entry.last_step)
        self.remove(queue, entry)

    def _own_bytes(self) -> int:
        return self.total_bytes - self.adopted_bytes

    def adopt(self, queue: WriterQueue) -> None:
        """Take over an orphan queue; nothing is evicted here (see the module docstring)."""
        self.adopted.append(queue)
        for entry in queue.entries:
            self._account(entry, +1)
            self.adopted_bytes += entry.nbytes

    def release(self, queue: WriterQueue, remove_if_empty: bool = True) -> None:
        """Stop tracking an adopted queue and release its lock; files still pending stay on disk
        for a later process, an empty directory is removed when ``remove_if_empty``."""
        self.adopted.remove(queue)
        for entry in queue.entries:
            self._account(entry, -1)
            self.adopted_bytes -= entry.nbytes
        queue.close(remove_if_empty=remove_if_empty)

    def pending_points(self) -> int:
        """Points in batches still pending (unknown for adopted files: counted as 0)."""
        return sum(e.points or 0 for q in self.queues() for e in q.entries)

