"""Group commit for the one-statement metric ingest: the requests that arrive while this
collector's statements run are stored together by the next one.

Every statement costs a fixed part on both sides (on the collector a pooled connection, the
bind and its reply; on PostgreSQL the executor's start, the commit and its WAL flush), so under
load a statement that carries several requests stores more points per CPU second. An idle
collector still sends each request at once: nothing ever waits for a statement that is not
already running.

Contract of :meth:`AppendQueue.append` (for a batch that :func:`.fits_one_statement`):

* It resumes after the COMMIT of the statement that carried the request, with the outcome the
  request would have had alone: accepted, or ``duplicate`` with the count recorded with its key
  (a request's key row and chunk rows commit together, :mod:`.metrics_append`).
* At most ``max_statements`` statements of this collector run at once; a request arriving
  while they all run waits for the next one, which carries every request waiting then, in
  arrival order (at most :data:`MAX_REQUESTS_PER_STATEMENT` requests and
  :data:`MAX_POINTS_PER_STATEMENT` points, but always at least one request; two requests with
  the same key never share a statement).
* A statement that fails (database unavailable, a series row deleted from outside, the
  engine's queue full or closing) fails every request it carried with that exception; none of
  them was committed, and each caller handles it as it would alone.
* Bounded: at most ``max_waiting`` requests wait; one more raises :class:`WriteQueueFull`
  (429) at once.
* A request cancelled while it waits is never written; one cancelled while its statement runs
  may still commit (as any write already sent).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rundial_collector.store.data_base import IngestBatch, SeriesChunk, WriteOutcome
from rundial_collector.store.errors import EngineClosed, WriteQueueFull
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.ingest_notify import RunNotifier
from rundial_collector.store.postgres.ingest_tx import (IngestBookkeeping, RunTouches,
                                                        recorded_count)
from rundial_collector.store.postgres.metrics_append import (AppendRequest,
                                                             append_in_one_statement)
from rundial_collector.store.postgres.metrics_write import PreparedChunk, SeriesKey

__all__ = ["MAX_POINTS_PER_STATEMENT", "MAX_REQUESTS_PER_STATEMENT", "MAX_STATEMENTS",
           "AppendQueue"]

MAX_STATEMENTS = 1  # statements of one collector running at once (see docs/collector.md)
MAX_REQUESTS_PER_STATEMENT = 64
MAX_POINTS_PER_STATEMENT = 500_000  # about 4 MB of values, and the steps they need


@dataclass(eq=False)
class _Waiting:
    """A request waiting for (or carried by) a statement; ``stored`` resolves after it."""

    batch: IngestBatch[SeriesChunk]
    chunks: Sequence[PreparedChunk]
    ids: Mapping[SeriesKey, int]
    touches: RunTouches
    points: int
    stored: asyncio.Future[bool]

    def request(self, now_ms: int) -> AppendRequest:
        due = self.touches.due(now_ms)  # at most one run (fits_one_statement)
        return AppendRequest(self.batch.idempotency_key, self.batch.accepted, self.chunks,
                             self.ids, due[0] if due else None)


class AppendQueue:
    """This collector's one-statement appends (see the module contract)."""

    def __init__(self, engine: PgEngine, bookkeeping: IngestBookkeeping,
                 notifier: RunNotifier, max_waiting: int,
                 max_statements: int = MAX_STATEMENTS) -> None:
        self._engine = engine
        self._bookkeeping = bookkeeping
        self._notifier = notifier
        self._max_waiting = max_waiting
        self._max_statements = max_statements
        self._waiting: deque[_Waiting] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def append(self, batch: IngestBatch[SeriesChunk], chunks: Sequence[PreparedChunk],
                     ids: Mapping[SeriesKey, int]) -> WriteOutcome:
        """Store ``batch`` (its prepared ``chunks``, every key in ``ids``); see the contract."""
        if len(self._waiting) >= self._max_waiting:
            raise WriteQueueFull()
        item = _Waiting(batch, chunks, ids, RunTouches(self._bookkeeping, batch),
                        sum(len(c.points) for c in batch.items),
                        asyncio.get_running_loop().create_future())
        self._waiting.append(item)
        if self._running < self._max_statements:
            self._start_statements()
        try:
            stored = await item.stored
        except asyncio.CancelledError:
            if item in self._waiting:
                self._waiting.remove(item)  # not taken yet: never written
            raise
        if not stored:
            key = batch.idempotency_key
            assert key is not None
            count = await self._engine.read(lambda conn: recorded_count(conn, key))
            return WriteOutcome(count, duplicate=True)
        item.touches.committed()
        self._notifier.announce(item.touches.runs)
        return WriteOutcome(batch.accepted)

    def _start_statements(self) -> None:
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        """Send statements while requests wait."""
        try:
            while self._waiting:
                await self._store(self._take())
        except asyncio.CancelledError:  # the loop is stopping: nobody will send the rest
            _fail(list(self._waiting), EngineClosed("the collector is shutting down"))
            self._waiting.clear()
            raise
        finally:
            self._running -= 1

    def _take(self) -> list[_Waiting]:
        """The next statement's requests, in arrival order (see the contract's bounds)."""
        group: list[_Waiting] = []
        keys: set[str] = set()
        points = 0
        skipped: list[_Waiting] = []
        while self._waiting and len(group) < MAX_REQUESTS_PER_STATEMENT:
            item = self._waiting[0]
            if group and points + item.points > MAX_POINTS_PER_STATEMENT:
                break
            self._waiting.popleft()
            key = item.batch.idempotency_key
            if key is not None and key in keys:
                skipped.append(item)  # the same key twice: the next statement takes it
                continue
            if key is not None:
                keys.add(key)
            group.append(item)
            points += item.points
        self._waiting.extendleft(reversed(skipped))
        return group

    async def _store(self, group: list[_Waiting]) -> None:
        """One statement for ``group``; every request's future gets its outcome."""

        async def job(conn: Conn) -> list[bool]:
            now_ms = int(time.time() * 1000)
            return await append_in_one_statement(
                conn, [item.request(now_ms) for item in group], now_ms)

        try:
            stored = await self._engine.write_statement(job)
        except asyncio.CancelledError:
            _fail(group, EngineClosed("the collector is shutting down"))
            raise
        except Exception as exc:  # every request gets the error it would have got alone
            _fail(group, exc)
            return
        for item, ok in zip(group, stored):
            if not item.stored.done():
                item.stored.set_result(ok)


def _fail(group: list[_Waiting], exc: BaseException) -> None:
    for item in group:
        if not item.stored.done():
            item.stored.set_exception(exc)
