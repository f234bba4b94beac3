"""Data-plane SQL for SQLite: the :class:`DataStore` methods over the shared engine.

Every ingest is **one** ``engine.write`` job: claim the idempotency key (``INSERT OR IGNORE``
into its primary key; a repeat stores nothing and answers the recorded count), append the rows,
keep the latest ``clientDiagnostics`` per run, touch the runs' heartbeat, and purge expired keys
at most once a minute. The job runs in its own savepoint and the caller resumes after COMMIT.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from rundial_collector.config import CollectorConfig
from rundial_collector.store.data_base import (ChartSeries, Diagnostics, IngestBatch, LogLine, LogQuery, LogRow,
                                               MetricKeyInfo, ResolvedSeries, SeriesChunk,
                                               SpanRecord, WriteOutcome)
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.series_math import EMPTY, Points
from rundial_collector.store.sqlite.chart_read import read_chart
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.logs import (LOGS_SCHEMA, events_exist, query_lines,
                                                 select_spans, write_lines, write_spans)
from rundial_collector.store.sqlite.metrics import (METRICS_SCHEMA, MetricReader, metric_keys,
                                                    run_keys_from, series_exists, series_id_of,
                                                    write_chunks)
from rundial_collector.store.sqlite.runs import touch_runs

PURGE_INTERVAL_MS = 60_000  # expired idempotency keys are purged at most this often

DATA_SCHEMA: list[str] = [*METRICS_SCHEMA, *LOGS_SCHEMA, """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idem_key TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    accepted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys(created_ms);
CREATE TABLE IF NOT EXISTS client_diagnostics (
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    captured_at_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    payload_json TEXT NOT NULL,
    PRIMARY KEY (project_id, run_id)
);
"""]

Writer = Callable[[sqlite3.Connection, Sequence[Any], int], None]


class SQLiteData:
    """Data-plane methods; mixed into :class:`SQLiteStore` (which sets engine and config)."""

    engine: SQLiteEngine
    config: CollectorConfig

    def __init__(self) -> None:
        self._metric_reader = MetricReader(SeriesCache())
        self._last_purge_ms = 0

    # -- ingest -------------------------------------------------------------------------------
    async def ingest_metrics(self, batch: IngestBatch[SeriesChunk]) -> WriteOutcome:
        return await self._ingest(batch, write_chunks, _runs(batch))

    async def ingest_logs(self, batch: IngestBatch[LogLine]) -> WriteOutcome:
        return await self._ingest(batch, write_lines, _runs(batch))

    async def ingest_spans(self, batch: IngestBatch[SpanRecord]) -> WriteOutcome:
        return await self._ingest(batch, write_spans, _runs(batch))

    async def _ingest(self, batch: IngestBatch[Any], writer: Writer,
                      runs: set[tuple[str, str]]) -> WriteOutcome:
        def job(conn: sqlite3.Connection) -> WriteOutcome:
            now_ms = int(time.time() * 1000)
            if batch.idempotency_key is not None:
                recorded = _claim_key(conn, batch.idempotency_key, batch.accepted, now_ms)
                if recorded is not None:
                    return WriteOutcome(recorded, duplicate=True)
            writer(conn, batch.items, now_ms)
            _store_diagnostics(conn, batch.diagnostics, now_ms)
            touch_runs(conn, runs, now_ms)
            self._maybe_purge(conn, now_ms)
            return WriteOutcome(batch.accepted)

        return await self.engine.write(job)

    def _maybe_purge(self, conn: sqlite3.Connection, now_ms: int) -> None:
        if now_ms - self._last_purge_ms < PURGE_INTERVAL_MS:
            return
        self._last_purge_ms = now_ms
        cutoff = now_ms - self.config.idempotency_ttl_seconds * 1000
        conn.execute("DELETE FROM idempotency_keys WHERE created_ms < ?", (cutoff,))

    # -- reads --------------------------------------------------------------------------------
    async def run_known(self, project_id: str, run_id: str) -> bool:
        return await self.engine.read(lambda conn: run_is_known(conn, project_id, run_id))

    async def metric_keys(self, project_id: str, run_id: str | None, limit: int,
                          offset: int) -> list[MetricKeyInfo]:
        return await self.engine.read(
            lambda conn: metric_keys(conn, project_id, run_id, limit, offset))

    async def run_keys_from(self, project_id: str, run_id: str, start_key: str, limit: int,
                            system_last: bool) -> list[str]:
        return await self.engine.read(lambda conn: run_keys_from(
            conn, project_id, run_id, start_key, limit, system_last))

    async def read_series(self, project_id: str, run_id: str, metric_key: str,
                          rank: int | None = None) -> ResolvedSeries:
        return await self.engine.read(lambda conn: self._metric_reader.read_series(
            conn, project_id, run_id, metric_key, rank))

    async def read_series_page(self, project_id: str, run_id: str, metric_key: str,
                               rank: int | None, after_step: int, limit: int) -> Points:
        return await self.engine.read(lambda conn: self._metric_reader.read_page(
            conn, project_id, run_id, metric_key, rank, after_step, limit))

    async def read_chart(self, project_id: str, run_id: str, metric_key: str,
                         start_step: int | None, end_step: int | None,
                         buckets: int) -> ChartSeries:
        def read(conn: sqlite3.Connection) -> ChartSeries:
            series_id = series_id_of(conn, project_id, run_id, metric_key)
            if series_id is None:
                return ChartSeries(False, 0, 0, 0, start_step, end_step, EMPTY, None)
            return read_chart(conn, series_id, start_step, end_step, buckets)

        return await self.engine.read(read)

    async def query_logs(self, query: LogQuery) -> tuple[list[LogRow], bool]:
        return await self.engine.read(lambda conn: query_lines(conn, query))

    async def latest_diagnostics(self, project_id: str, run_id: str) -> Diagnostics | None:
        def select(conn: sqlite3.Connection) -> Diagnostics | None:
            row = conn.execute("SELECT captured_at_ms, payload_json FROM client_diagnostics"
                               " WHERE project_id = ? AND run_id = ?",
                               (project_id, run_id)).fetchone()
            return None if row is None else Diagnostics(project_id, run_id, row[0], row[1])

        return await self.engine.read(select)

    async def list_spans(self, project_id: str, run_id: str, limit: int) -> list[SpanRecord]:
        return await self.engine.read(lambda conn: select_spans(conn, project_id, run_id, limit))


def _runs(batch: IngestBatch[Any]) -> set[tuple[str, str]]:
    """The (project id, run id) pairs an ingest batch writes to: the runs it may touch."""
    return {(x.project_id, x.run_id) for x in batch.items}


def _claim_key(conn: sqlite3.Connection, key: str, accepted: int, now_ms: int) -> int | None:
    """Record ``key``; None when new, else the accepted count recorded with its first use."""
    cursor = conn.execute("INSERT OR IGNORE INTO idempotency_keys (idem_key, created_ms, accepted)"
                          " VALUES (?, ?, ?)", (key, now_ms, accepted))
    if cursor.rowcount == 1:
        return None
    row = conn.execute("SELECT accepted FROM idempotency_keys WHERE idem_key = ?",
                       (key,)).fetchone()
    return int(row[0])


def _store_diagnostics(conn: sqlite3.Connection, snapshots: Sequence[Diagnostics],
                       now_ms: int) -> None:
    """Keep the newest snapshot per run (by capturedAtMs; ties go to the later request)."""
    conn.executemany(
        "INSERT INTO client_diagnostics (project_id, run_id, captured_at_ms, received_ms,"
        " payload_json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, run_id) DO UPDATE SET"
        " captured_at_ms = excluded.captured_at_ms, received_ms = excluded.received_ms,"
        " payload_json = excluded.payload_json"
        " WHERE excluded.captured_at_ms >= client_diagnostics.captured_at_ms",
        [(d.project_id, d.run_id, d.captured_at_ms, now_ms, d.payload_json) for d in snapshots])


def run_is_known(conn: sqlite3.Connection, project_id: str, run_id: str) -> bool:
    """True when the run has a runs row or any stored metric, log or span in the project."""
    row = conn.execute("SELECT 1 FROM runs WHERE run_id = ? AND project_id = ?",
                       (run_id, project_id)).fetchone()
    return (row is not None or series_exists(conn, project_id, run_id)
            or events_exist(conn, project_id, run_id))
