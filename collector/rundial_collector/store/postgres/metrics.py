"""PostgreSQL: metric ingest and every metric read (series, pages, keys, charts).

Same design as SQLite (:mod:`rundial_collector.store.sqlite.metrics`): one ``metric_chunks``
row per (series, ingest request) holding packed arrays and the chunk's chart aggregates,
append-only (on PostgreSQL the steps and timestamps shared by a request's keys are stored once,
in a ``chunk_stepsets`` row: :mod:`.metrics_write`); duplicate steps are resolved at read time, the point of the higher ``chunk_id``
(then the later one within a request) winning. Chunk ids come from one identity sequence, so
every collector reads the same resolution of the same committed chunks. The common ingest
request (one run, known series) is one statement (:mod:`.metrics_append`); any other goes
through the shared transaction of :mod:`.ingest_tx` and appends by ``COPY``
(:mod:`.metrics_write`); reads are :mod:`.metrics_read`, :mod:`.metrics_keys` and
:mod:`.metrics_chart`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol, cast

import asyncpg

from rundial_collector.config import CollectorConfig
from rundial_collector.store.batch_base import RunKeys
from rundial_collector.store.chart_compose import not_found
from rundial_collector.store.data_base import (ChartSeries, IngestBatch, MetricKeyInfo,
                                               ResolvedSeries, SeriesChunk, WriteOutcome)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres import metrics_keys
from rundial_collector.store.postgres.append_queue import AppendQueue
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.ingest_notify import RunNotifier
from rundial_collector.store.postgres.ingest_tx import IngestBookkeeping, ingest
from rundial_collector.store.postgres.metrics_append import fits_one_statement
from rundial_collector.store.postgres.metrics_chart import read_chart
from rundial_collector.store.postgres.metrics_read import PgSeriesReader, series_id_of
from rundial_collector.store.postgres.metrics_write import (SeriesIds, SeriesKey,
                                                            prepared_chunks, write_prepared)
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.series_math import EMPTY, Points


class _KnowsRuns(Protocol):
    """:meth:`run_known` comes from :class:`PgEvents`, the part that owns logs and spans."""

    async def run_known(self, project_id: str, run_id: str) -> bool: ...


class PgMetrics:
    """Part of :class:`PostgresStore` (which sets ``engine``, ``config``, ``bookkeeping`` and ``notifier``)."""

    engine: PgEngine
    config: CollectorConfig
    bookkeeping: IngestBookkeeping
    notifier: RunNotifier

    def __init__(self) -> None:
        self._metric_reader = PgSeriesReader(SeriesCache())
        self._series_ids = SeriesIds()
        settings = self.engine.settings
        self._appends = AppendQueue(self.engine, self.bookkeeping, self.notifier,
                                    settings.pool_max_size + settings.max_waiting_jobs)

    async def ingest_metrics(self, batch: IngestBatch[SeriesChunk]) -> WriteOutcome:
        """One statement when the batch fits (:mod:`.metrics_append`; shared with the
        requests waiting meanwhile, :mod:`.append_queue`), else one ingest transaction
        (:func:`.ingest_tx.ingest`); series ids this collector has seen committed are not
        looked up again. A cached id whose row is gone (deleted from outside) fails the
        foreign key: the cache is dropped and the batch retried (in a transaction)."""
        prepared = prepared_chunks(batch.items)
        known = self._series_ids.known(sorted({c.key for c in prepared}))
        if fits_one_statement(batch, known, prepared, self.bookkeeping, int(time.time() * 1000)):
            try:
                return await self._appends.append(batch, prepared, known)
            except asyncpg.ForeignKeyViolationError:
                self._series_ids.forget()
        written: dict[SeriesKey, int] = {}

        async def writer(conn: Conn, _items: Sequence[object], now_ms: int) -> None:
            written.clear()
            known = self._series_ids.known(sorted({c.key for c in prepared}))
            written.update(await write_prepared(conn, prepared, now_ms, known))

        try:
            outcome = await ingest(self.engine, batch, writer, self.bookkeeping, self.notifier)
        except asyncpg.ForeignKeyViolationError:
            self._series_ids.forget()
            outcome = await ingest(self.engine, batch, writer, self.bookkeeping, self.notifier)
        self._series_ids.remember(written)
        return outcome

    async def metric_keys(self, project_id: str, run_id: str | None, limit: int,
                          offset: int) -> list[MetricKeyInfo]:
        if has_nul(project_id, run_id):
            return []
        return await self.engine.read(
            lambda conn: metrics_keys.metric_keys(conn, project_id, run_id, limit, offset))

    async def run_keys_from(self, project_id: str, run_id: str, start_key: str, limit: int,
                            system_last: bool) -> list[str]:
        if has_nul(project_id, run_id):
            return []
        return await self.engine.read(lambda conn: metrics_keys.run_keys_from(
            conn, project_id, run_id, start_key, limit, system_last))

    async def read_series(self, project_id: str, run_id: str, metric_key: str,
                          rank: int | None = None) -> ResolvedSeries:
        if has_nul(project_id, run_id, metric_key):
            return ResolvedSeries(EMPTY, 0)
        return await self.engine.read(lambda conn: self._metric_reader.read_series(
            conn, project_id, run_id, metric_key, rank))

    async def read_series_page(self, project_id: str, run_id: str, metric_key: str,
                               rank: int | None, after_step: int, limit: int) -> Points:
        if has_nul(project_id, run_id, metric_key):
            return EMPTY
        return await self.engine.read(lambda conn: self._metric_reader.read_page(
            conn, project_id, run_id, metric_key, rank, after_step, limit))

    async def read_chart(self, project_id: str, run_id: str, metric_key: str,
                         start_step: int | None, end_step: int | None,
                         buckets: int) -> ChartSeries:
        if has_nul(project_id, run_id, metric_key):
            return not_found(start_step, end_step)

        async def read(conn: Conn) -> ChartSeries:
            series_id = await series_id_of(conn, project_id, run_id, metric_key)
            if series_id is None:
                return not_found(start_step, end_step)
            return await read_chart(conn, series_id, start_step, end_step, buckets)

        return await self.engine.read(read)

    async def keys_of_runs(self, project_id: str, run_ids: list[str], first_offset: int,
                           budget: int) -> list[RunKeys]:
        """As SQLite's: each run's keys from its offset until the budget is spent. A run
        without keys (from offset 0) is asked :meth:`run_known` (another read)."""
        out: list[RunKeys] = []
        for index, run_id in enumerate(run_ids):
            if budget <= 0:
                break
            offset = first_offset if index == 0 else 0
            found = [info.metric_key for info in await self.metric_keys(
                project_id, run_id, budget + 1, offset)]
            known = (bool(found) or offset > 0 or (
                not has_nul(project_id, run_id)
                and await cast(_KnowsRuns, self).run_known(project_id, run_id)))
            keys = tuple(found[:budget])
            out.append(RunKeys(run_id, known, offset, keys, len(found) <= budget))
            budget -= len(keys)
        return out
