"""SQLite engine: one writer thread with group commit, a small pool of reader threads.

Contract:

* :meth:`SQLiteEngine.write` runs ``fn(conn)`` on the single writer thread inside a
  transaction shared with other queued jobs (group commit). Each job runs in its own SAVEPOINT,
  so one failing job rolls back only itself. The awaiting coroutine resumes only **after the
  COMMIT**: a 2xx built on its result is durable (WAL, ``synchronous=NORMAL``).
* The write queue is bounded. When it is full, :meth:`write` raises :class:`WriteQueueFull` at
  once (the HTTP layer answers 429 with ``Retry-After``); it never blocks the event loop.
* :meth:`read` runs ``fn(conn)`` on a reader thread with its own connection; WAL lets readers
  proceed while the writer commits.
* :meth:`close` stops accepting writes, drains everything already queued, then closes.

The event loop never touches SQLite directly.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rundial_collector.store.errors import EngineClosed, WriteQueueFull

__all__ = ["EngineClosed", "SQLiteEngine", "WriteQueueFull"]

T = TypeVar("T")
_STOP = object()


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection tuned for WAL; autocommit mode (we issue BEGIN/COMMIT ourselves)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


class SQLiteEngine:
    """Owns the database file: schema creation, the writer thread and the reader pool."""

    def __init__(self, path: Path, schema: Sequence[str], *, write_queue_max_jobs: int = 256,
                 group_commit_max_jobs: int = 64, read_threads: int = 2) -> None:
        self.path = path
        self._schema = list(schema)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=write_queue_max_jobs)
        self._group_max = group_commit_max_jobs
        self._read_threads = read_threads
        self._writer: threading.Thread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Create the schema and start the writer thread and reader pool. Blocking; call once."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        conn = connect(self.path)
        for statement in self._schema:
            conn.executescript(statement)
        self._writer = threading.Thread(target=self._writer_loop, args=(conn,),
                                        name="rundial-sqlite-writer", daemon=True)
        self._writer.start()
        self._readers = ThreadPoolExecutor(self._read_threads,
                                           thread_name_prefix="rundial-sqlite-reader")

    async def close(self) -> None:
        """Stop accepting writes, drain queued jobs, then close every connection."""
        if self._closing:
            return
        self._closing = True
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._stop_writer)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()

    def _stop_writer(self) -> None:
        self._queue.put(_STOP)
        assert self._writer is not None
        self._writer.join()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # -- public API ------------------------------------------------------------------------
    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in the next group-committed transaction; resume after COMMIT.

        Raises :class:`WriteQueueFull` immediately when the queue is full, and whatever
        ``fn`` raised (its savepoint rolled back) otherwise.
        """
        if self._closing:
            raise EngineClosed("the collector is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(fn, loop.create_future(), loop)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise WriteQueueFull() from None
        result: T = await job.future
        return result

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` with a reader connection on the reader pool."""
        assert self._readers is not None, "engine not started"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    def read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking read for start-up code and tools (never call on the event loop)."""
        return self._run_read(fn)

    # -- reader side -----------------------------------------------------------------------
    def _run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    # -- writer side -----------------------------------------------------------------------
    def _writer_loop(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                jobs, stop = self._next_group()
                if jobs:
                    self._commit_group(conn, jobs)
                if stop:
                    return
        finally:
            conn.close()

    def _next_group(self) -> tuple[list[_Job], bool]:
        """Block for one job, then take whatever else is queued, up to the group bound."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        jobs = [first]
        while len(jobs) < self._group_max:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return jobs, True
            jobs.append(item)
        return jobs, False

    def _commit_group(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                outcomes.append(_run_in_savepoint(conn, job.fn))
            conn.execute("COMMIT")
        except BaseException as exc:  # commit failed: every job in the group failed
            _rollback_quietly(conn)
            outcomes = [(False, exc)] * len(jobs)
        for job, outcome in zip(jobs, outcomes):
            job.loop.call_soon_threadsafe(_settle, job.future, outcome)


def _run_in_savepoint(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], Any]
                      ) -> tuple[bool, Any]:
    conn.execute("SAVEPOINT job")
    try:
        result = fn(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO job")
        conn.execute("RELEASE job")
        return False, exc
    conn.execute("RELEASE job")
    return True, result


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
