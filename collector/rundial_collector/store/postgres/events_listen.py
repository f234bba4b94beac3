"""Commit notifications across collectors: ``NOTIFY rundial_events`` and one LISTEN connection.

* :func:`notify_runs` queues ``pg_notify('rundial_events', '<project_id> <run_id>')`` for each
  run a transaction wrote to (ingest, run state changes). PostgreSQL delivers them at COMMIT
  and drops them on rollback, so a notification always follows a commit; identical payloads
  of one transaction are delivered once.
* :class:`CommitListener` holds one dedicated connection (not from the pool) that LISTENs on
  the channel and calls every registered callback with (project id, run id) for each
  notification, on the event loop. When the connection is lost it reconnects with exponential
  backoff (:data:`BACKOFF_SECONDS`, capped); notifications sent meanwhile are lost, and the live
  stream's poll (``events_poll_seconds``) covers that gap. A callback that raises is logged and
  does not stop the listener.

A row becomes readable by the live stream only once every older transaction has ended (see
:mod:`.events_stream`), which can be after its own notification when an older write of another
run was still running. So a notification also re-announces the runs notified during the last
:data:`RECENT_SECONDS` (at most :data:`RECENT_MAX_RUNS`): their rows held back then are
usually exposed now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg

from rundial_collector.store.postgres.engine import Conn, PgSettings, _ssl_arg, redacted_url

__all__ = ["CHANNEL", "CommitListener", "notify_runs", "parse_payload", "payloads_of"]

CHANNEL = "rundial_events"
BACKOFF_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)  # reconnect delays; the last one repeats
RECENT_SECONDS = 2.0
RECENT_MAX_RUNS = 256
log = logging.getLogger("rundial.events")
Callback = Callable[[str, str], None]
# What a lost or refused listening connection raises (InternalClientError: the driver's
# protocol left in a state it cannot go on from; a new connection is the way out).
_LOST: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError, asyncpg.PostgresError,
                                          asyncpg.InterfaceError, asyncpg.InternalClientError)
STOP_RECANCEL_SECONDS = 1.0  # stop() cancels the task again after this, until it ends


async def notify_runs(conn: Conn, runs: Iterable[tuple[str, str]]) -> None:
    """Queue one notification per (project id, run id), delivered when the transaction on
    ``conn`` commits (call it inside that transaction)."""
    payloads = payloads_of(runs)
    if payloads:
        await conn.execute("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL,
                           payloads)


def payloads_of(runs: Iterable[tuple[str, str]]) -> list[str]:
    """The distinct notification payloads of (project id, run id) pairs, sorted."""
    return sorted({f"{project_id} {run_id}" for project_id, run_id in runs})


def parse_payload(payload: str) -> tuple[str, str] | None:
    """(project id, run id) of a notification payload; None when it is not one of ours."""
    project_id, sep, run_id = payload.partition(" ")
    return (project_id, run_id) if sep and project_id and run_id else None


class CommitListener:
    """One LISTEN connection with reconnects; see the module docstring."""

    def __init__(self, settings: PgSettings) -> None:
        self.settings = settings
        self.callbacks: list[Callback] = []
        self.connected = asyncio.Event()  # set while LISTEN is active (tests wait on it)
        self.sessions = 0  # how many times LISTEN was started (1 + reconnects)
        self._recent: dict[tuple[str, str], float] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="rundial-events-listen")

    async def stop(self) -> None:
        """End the listening task; never raises what it raised. A statement cut short by the
        cancellation can end it with the driver's own error instead (asyncpg's
        ``InternalClientError`` when the cancel landed between the LISTEN's prepare and its
        execute), or its cancel can be absorbed by the driver and the loop go on: the task is
        cancelled again every :data:`STOP_RECANCEL_SECONDS` until it has ended, and whatever it
        ended with is logged at debug level, since the listener is going away."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True  # a connection error from here on ends the loop
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_RECANCEL_SECONDS)
        if not task.cancelled() and task.exception() is not None:
            log.debug("events listener stopped on %s", type(task.exception()).__name__)

    async def _run(self) -> None:
        """Listen; after a lost connection or a failed connect, wait (backoff) and again."""
        failures = 0
        while True:
            listened = self.sessions
            try:
                conn = await self._connect()
                try:
                    await self._listen(conn)
                finally:
                    self.connected.clear()
                    await _close_quietly(conn)
            except _LOST as exc:
                if self._stopping:
                    return
                log.warning("events listener: connection to %s failed (%s)",
                            redacted_url(self.settings.url), type(exc).__name__)
            failures = 0 if self.sessions > listened else failures + 1
            await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])

    async def _connect(self) -> asyncpg.Connection[Any]:
        s = self.settings
        conn: asyncpg.Connection[Any] = await asyncpg.connect(
            s.url, timeout=s.connect_timeout_seconds, ssl=_ssl_arg(s.ssl),
            server_settings={"application_name": "rundial-collector-listen"})
        return conn

    async def _listen(self, conn: asyncpg.Connection[Any]) -> None:
        """LISTEN until the connection is lost (then return, to reconnect)."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._on_notify)
        self.sessions += 1
        self.connected.set()
        while not lost.is_set() and not conn.is_closed():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(lost.wait(), self.settings.connect_timeout_seconds)
            if not lost.is_set():
                await self._probe(conn, lost)

    async def _probe(self, conn: asyncpg.Connection[Any], lost: asyncio.Event) -> None:
        """A cheap round trip: a connection that died silently is noticed and replaced."""
        try:
            await asyncio.wait_for(conn.execute("SELECT 1"), self.settings.connect_timeout_seconds)
        except _LOST:
            lost.set()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        run = parse_payload(str(payload))
        if run is None:
            return
        now = time.monotonic()
        self._recent[run] = now
        self._recent = {key: at for key, at in self._recent.items()
                        if now - at <= RECENT_SECONDS}
        if len(self._recent) > RECENT_MAX_RUNS:
            self._recent = {run: now}
        for key in list(self._recent):
            self._announce(key)

    def _announce(self, run: tuple[str, str]) -> None:
        for callback in list(self.callbacks):
            try:
                callback(*run)
            except Exception:
                log.exception("events listener: a commit callback failed")


async def _close_quietly(conn: asyncpg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(conn.close(), 2.0)
    if not conn.is_closed():
        conn.terminate()
