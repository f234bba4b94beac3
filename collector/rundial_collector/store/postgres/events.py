"""PostgreSQL: logs, spans, diagnostics, ``run_known``, the live stream's reads (EventStore),
and commit notifications across collectors.

* Writes go through :func:`ingest` (one transaction with the idempotency key, diagnostics and
  heartbeat, which also queues the runs' NOTIFY); the SQL is in :mod:`.events_sql`.
* Stream reads (:mod:`.events_stream`) follow gap-free positions (0004_events.sql).
* :meth:`PgEvents.start_events` starts the LISTEN connection (:mod:`.events_listen`); callbacks
  registered with :meth:`PgEvents.on_remote_commit` are called with (project id, run id) for
  every commit that wrote to a run, on any collector of the database.
"""

from __future__ import annotations

import functools

from rundial_collector.config import CollectorConfig
from rundial_collector.store.data_base import (Diagnostics, IngestBatch, LogLine, LogQuery, LogRow,
                                               SpanRecord, WriteOutcome)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.events_base import ChunkRow, CommitCallback, EventBatch, SpanRow
from rundial_collector.store.postgres import events_sql as sql
from rundial_collector.store.postgres import events_stream as stream
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.events_listen import CommitListener
from rundial_collector.store.postgres.ingest_notify import RunNotifier
from rundial_collector.store.postgres.ingest_tx import IngestBookkeeping, ingest


class PgEvents:
    """Part of :class:`PostgresStore` (which sets ``engine``, ``config``, ``bookkeeping`` and ``notifier``)."""

    engine: PgEngine
    config: CollectorConfig
    bookkeeping: IngestBookkeeping
    notifier: RunNotifier

    def __init__(self) -> None:
        self.listener = CommitListener(self.engine.settings)

    async def start_events(self) -> None:
        """Start listening for other collectors' commits (LISTEN/NOTIFY); called by start.
        Returns at once: the listener connects (and reconnects) in the background."""
        self.listener.start()

    async def stop_events(self) -> None:
        """Stop listening; called by close before the pool closes."""
        await self.listener.stop()

    def on_remote_commit(self, callback: CommitCallback) -> None:
        """Call ``callback(project_id, run_id)`` after every commit that wrote to a run,
        through any collector of this database (this one included)."""
        self.listener.callbacks.append(callback)

    # -- DataStore: logs, spans, diagnostics --------------------------------------------------
    async def ingest_logs(self, batch: IngestBatch[LogLine]) -> WriteOutcome:
        return await ingest(self.engine, batch, sql.write_lines, self.bookkeeping, self.notifier)

    async def ingest_spans(self, batch: IngestBatch[SpanRecord]) -> WriteOutcome:
        return await ingest(self.engine, batch, sql.write_spans, self.bookkeeping, self.notifier)

    async def query_logs(self, query: LogQuery) -> tuple[list[LogRow], bool]:
        return await self.engine.read(functools.partial(sql.query_lines, query=query))

    async def latest_diagnostics(self, project_id: str, run_id: str) -> Diagnostics | None:
        return await self.engine.read(functools.partial(
            sql.latest_diagnostics, project_id=project_id, run_id=run_id))

    async def list_spans(self, project_id: str, run_id: str, limit: int) -> list[SpanRecord]:
        return await self.engine.read(functools.partial(
            sql.select_spans, project_id=project_id, run_id=run_id, limit=limit))

    async def run_known(self, project_id: str, run_id: str) -> bool:
        if has_nul(project_id, run_id):
            return False
        return await self.engine.read(functools.partial(
            sql.run_is_known, project_id=project_id, run_id=run_id))

    # -- EventStore ---------------------------------------------------------------------------
    async def event_head(self) -> tuple[int, int, int]:
        return await self.engine.read(stream.head)

    async def tail_events(self, project_id: str, run_id: str, after: tuple[int, int, int],
                          limits: tuple[int, int, int]) -> EventBatch:
        async def read(conn: Conn) -> EventBatch:
            return EventBatch(
                await stream.tail_chunks(conn, project_id, run_id, after[0], limits[0]),
                await stream.tail_lines(conn, project_id, run_id, after[1], limits[1]),
                await stream.tail_spans(conn, project_id, run_id, after[2], limits[2]))

        return await self.engine.read(read)

    async def replay_spans(self, project_id: str, run_id: str, window: tuple[int, int],
                           limit: int) -> list[SpanRow]:
        return await self.engine.read(functools.partial(
            stream.replay_spans, project_id=project_id, run_id=run_id, window=window,
            limit=limit))

    async def run_series(self, project_id: str, run_id: str) -> list[tuple[int, str]]:
        return await self.engine.read(functools.partial(
            stream.run_series, project_id=project_id, run_id=run_id))

    async def series_chunks(self, series_id: int, metric_key: str, window: tuple[int, int],
                            limit: int) -> list[ChunkRow]:
        return await self.engine.read(functools.partial(
            stream.series_chunks, series_id=series_id, metric_key=metric_key, window=window,
            limit=limit))

    async def replay_lines(self, project_id: str, run_id: str, window: tuple[int, int],
                           after: tuple[int, int, int] | None, limit: int) -> list[LogRow]:
        return await self.engine.read(functools.partial(
            stream.replay_lines, project_id=project_id, run_id=run_id, window=window,
            after=after, limit=limit))
