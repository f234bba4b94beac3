"""Commit notifications of ingest, sent after the ingest transaction commits, coalesced.

Why not inside the ingest transaction: a PostgreSQL transaction that ran ``NOTIFY`` takes one
database-wide lock at COMMIT and holds it until its commit record is flushed to disk, so that
notifications queue in commit order. Every ingest transaction notifying would therefore commit
one at a time, each waiting for its own WAL flush: no group commit, and latency that grows with
the number of concurrent writers. Ingest is the hot path, so it announces its runs here instead:

* :meth:`RunNotifier.announce` (called after COMMIT returned, so a notification still always
  follows the commit it announces) adds the runs to a pending set and makes sure one sender
  task runs. The sender sends every pending run in one statement, its own implicit
  transaction (:data:`NOTIFY_SQL`: ``pg_notify`` per run, with ``synchronous_commit`` off for
  that transaction only, by ``set_config(..., is_local => true)``: it writes no data, so
  nothing durable depends on its flush; one round trip instead of ``BEGIN``, ``SET LOCAL``,
  the notify and ``COMMIT``), then repeats while runs are pending. So at most one notifying
  transaction per collector is in flight, whatever the ingest rate, and consecutive ones
  start at least :data:`MIN_INTERVAL_SECONDS` apart: a run's first notification goes out at
  once, but under a steady ingest load the runs written meanwhile wait up to that long and go
  out together (one statement, and one wake-up of every listening collector, per interval
  rather than per request).
* A failed send (database away, pool closing) is logged and dropped: the live stream's poll by
  id (``events_poll_seconds``) delivers those rows, as for any lost notification.
* :meth:`close` waits for the sender (bounded) before the pool closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Iterable

import asyncpg

from rundial_collector.store.postgres.engine import PgEngine
from rundial_collector.store.postgres.events_listen import CHANNEL, payloads_of

__all__ = ["NOTIFY_SQL", "RunNotifier"]

log = logging.getLogger("rundial.events")
CLOSE_WAIT_SECONDS = 5.0
MIN_INTERVAL_SECONDS = 0.05  # between notifying transactions: far below the live poll (2 s)
# One implicit transaction: the (materialised, referenced, so always run) set_config lasts
# until its end, so its COMMIT does not wait for a WAL flush; the session keeps its setting.
NOTIFY_SQL = """
WITH unsynced AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS s)
SELECT count(pg_notify($1, p)) FROM unsynced, unnest($2::text[]) AS p
"""


class RunNotifier:
    """Announces runs written by committed transactions (see the module docstring)."""

    def __init__(self, engine: PgEngine, min_interval_seconds: float = MIN_INTERVAL_SECONDS
                 ) -> None:
        self.engine = engine
        self.sent_transactions = 0  # notifying transactions committed (tests read it)
        self.min_interval_seconds = min_interval_seconds
        self._pending: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_started = -math.inf  # loop time the last notifying transaction started

    def announce(self, runs: Iterable[tuple[str, str]]) -> None:
        """Queue a notification for each (project id, run id); never blocks or raises."""
        self._pending.update(runs)
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._send_pending())

    async def _send_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            wait_seconds = self._last_started + self.min_interval_seconds - loop.time()
            if wait_seconds > 0:
                await asyncio.sleep(wait_seconds)  # more runs may queue meanwhile
            self._last_started = loop.time()
            runs, self._pending = self._pending, set()
            try:
                async with self.engine.pool.acquire(
                        timeout=self.engine.settings.connect_timeout_seconds) as conn:
                    await conn.fetchval(NOTIFY_SQL, CHANNEL, payloads_of(runs))
                self.sent_transactions += 1
            except (OSError, asyncio.TimeoutError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                log.warning("commit notification not sent (the live poll covers it): %s",
                            type(exc).__name__)

    async def close(self) -> None:
        """Wait (at most :data:`CLOSE_WAIT_SECONDS`) for notifications being sent."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_WAIT_SECONDS)
