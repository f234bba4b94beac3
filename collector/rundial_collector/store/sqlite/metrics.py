"""Metric points in SQLite: one row per (series, ingest request) holding packed arrays.

Write side (writer thread, inside the request's write job): resolve series ids with
``INSERT OR IGNORE`` + ``SELECT`` and append one ``metric_chunks`` row per chunk. Chunk ids
are AUTOINCREMENT and assigned by the single writer, so they follow commit order.

Read side (reader threads): read a series' chunk blobs in chunk-id order, view each with
``numpy.frombuffer`` and resolve duplicate steps in numpy (:func:`resolve_chunks`: only the
steps are concatenated before the winners are known). Resolved series are cached
(:class:`SeriesCache`), stamped with the newest chunk id and the chunk count, so a cached
answer is never stale; when a series only grew, just its new chunks are read and resolved on
top of the cached points (a live chart stays cheap).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from rundial_collector.store.chunk_masks import superseded_chunks
from rundial_collector.store.data_base import MetricKeyInfo, ResolvedSeries, SeriesChunk
from rundial_collector.store.metric_key_order import key_ranges
from rundial_collector.store.series_cache import (Entry, SeriesCache, Stamp, extendable,
                                                  extended, pages_by_range)
from rundial_collector.store.series_math import (EMPTY, Points, after_step, concat_all, pack,
                                                 resolve_chunks, unpack)
from rundial_collector.store.chart_compose import aggregate_rows
from rundial_collector.store.sqlite.chart_read import CHART_TABLES
from rundial_collector.store.sqlite.series_page import read_page

METRICS_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS series (
    series_id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    metric_key TEXT NOT NULL,
    UNIQUE (project_id, run_id, metric_key)
);
CREATE INDEX IF NOT EXISTS series_by_key ON series(project_id, metric_key);
CREATE TABLE IF NOT EXISTS metric_chunks (
    chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id INTEGER NOT NULL REFERENCES series(series_id),
    writer_rank INTEGER,
    point_count INTEGER NOT NULL,
    step_min INTEGER NOT NULL,
    step_max INTEGER NOT NULL,
    ts_min INTEGER NOT NULL,
    ts_max INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    context_json TEXT,
    steps BLOB NOT NULL,
    vals BLOB NOT NULL,
    timestamps BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_chunks_by_series ON metric_chunks(series_id, chunk_id);
""" + CHART_TABLES]

_INSERT_CHUNK = (
    "INSERT INTO metric_chunks (series_id, writer_rank, point_count, step_min, step_max, ts_min,"
    " ts_max, received_ms, context_json, steps, vals, timestamps)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_AGGS = ("INSERT INTO metric_chunk_aggs (chunk_id, resolved_count, blocks)"
               " VALUES (?, ?, ?)")
_RANK_FILTER = " AND (? IS NULL OR writer_rank = ?)"
_CHUNK_RANGES = ("SELECT c.chunk_id, c.step_min, c.step_max, a.resolved_count, c.point_count"
                 " FROM metric_chunks c LEFT JOIN metric_chunk_aggs a ON a.chunk_id = c.chunk_id"
                 " WHERE c.series_id = ?" + _RANK_FILTER + " ORDER BY c.chunk_id")
_CHUNKS_BUT = ("SELECT steps, vals, timestamps FROM metric_chunks WHERE series_id = ?"
               + _RANK_FILTER + " AND chunk_id NOT IN (SELECT value FROM json_each(?))"
               " ORDER BY chunk_id")


def write_chunks(conn: sqlite3.Connection, chunks: Sequence[SeriesChunk], now_ms: int) -> None:
    """Append ``chunks`` (call inside a write job), each with its chart block aggregates
    (:mod:`.chart_read`). Empty chunks are skipped: they create no series either, so a key
    whose every value was rejected is never listed."""
    stored = [c for c in chunks if len(c.points)]
    ids = _series_ids(conn, {(c.project_id, c.run_id, c.metric_key) for c in stored})
    rows = [_chunk_row(ids[(c.project_id, c.run_id, c.metric_key)], c, now_ms) for c in stored]
    conn.executemany(_INSERT_CHUNK, rows)
    if stored:  # the single writer assigns consecutive AUTOINCREMENT ids within one statement
        last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        ids_in_order = range(last - len(stored) + 1, last + 1)
        conn.executemany(_INSERT_AGGS, aggregate_rows(ids_in_order, stored))


def _series_ids(conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]
                ) -> dict[tuple[str, str, str], int]:
    ids: dict[tuple[str, str, str], int] = {}
    for key in keys:
        conn.execute("INSERT OR IGNORE INTO series (project_id, run_id, metric_key)"
                     " VALUES (?, ?, ?)", key)
        row = conn.execute("SELECT series_id FROM series WHERE project_id = ? AND run_id = ?"
                           " AND metric_key = ?", key).fetchone()
        ids[key] = int(row[0])
    return ids


def _chunk_row(series_id: int, chunk: SeriesChunk, now_ms: int) -> tuple[Any, ...]:
    p = chunk.points
    steps, values, stamps = pack(p)
    return (series_id, chunk.rank, len(p), int(p.steps.min()), int(p.steps.max()),
            int(p.timestamps.min()), int(p.timestamps.max()), now_ms, chunk.context_json,
            steps, values, stamps)


class MetricReader:
    """Series reads on a reader connection, through a shared :class:`SeriesCache`."""

    def __init__(self, cache: SeriesCache) -> None:
        self.cache = cache

    def read_series(self, conn: sqlite3.Connection, project_id: str, run_id: str,
                    metric_key: str, rank: int | None) -> ResolvedSeries:
        """The resolved series: cached, extended by new chunks, or resolved from scratch."""
        found = _series_stamp(conn, project_id, run_id, metric_key, rank)
        if found is None:
            return ResolvedSeries(EMPTY, 0)
        key, stamp, _points = found
        entry = self._current(conn, key, stamp)
        return ResolvedSeries(entry.points, entry.raw_count)

    def _current(self, conn: sqlite3.Connection, key: tuple[int, int | None],
                 stamp: Stamp) -> Entry:
        """The cache entry of ``key`` at ``stamp``: reused, extended or resolved (and cached)."""
        entry = self.cache.get(key)
        if entry is None or entry.stamp != stamp:
            entry = _extended(conn, key, entry, stamp) or _resolved(conn, key, stamp)
            self.cache.put(key, entry)
        return entry

    def read_page(self, conn: sqlite3.Connection, project_id: str, run_id: str,
                  metric_key: str, rank: int | None, after: int, limit: int) -> Points:
        """Up to ``limit`` resolved points with steps above ``after``, ascending.

        A series that is cached, or small enough to be, is read whole (and cached) and sliced;
        a larger one is read one step range at a time (:mod:`.series_page`), so paging
        through it costs each page its own points, not the whole series.
        """
        found = _series_stamp(conn, project_id, run_id, metric_key, rank)
        if found is None:
            return EMPTY
        key, stamp, points = found
        entry = self.cache.get(key)
        cached = entry is not None and entry.stamp == stamp
        if pages_by_range(self.cache, cached, points):
            return read_page(conn, key[0], rank, after, limit)
        resolved = self._current(conn, key, stamp).points
        return after_step(resolved, after).take(slice(0, max(0, limit)))


def series_id_of(conn: sqlite3.Connection, project_id: str, run_id: str, metric_key: str
                 ) -> int | None:
    """The series id of (project, run, key), or None when it was never written."""
    row = conn.execute("SELECT series_id FROM series WHERE project_id = ? AND run_id = ?"
                       " AND metric_key = ?", (project_id, run_id, metric_key)).fetchone()
    return None if row is None else int(row[0])


def _series_stamp(conn: sqlite3.Connection, project_id: str, run_id: str, metric_key: str,
                  rank: int | None) -> tuple[tuple[int, int | None], Stamp, int] | None:
    """(cache key, stamp, stored raw points) of a series with at least one chunk, else None."""
    series_id = series_id_of(conn, project_id, run_id, metric_key)
    if series_id is None:
        return None
    last, count, points = conn.execute(
        "SELECT max(chunk_id), count(*), sum(point_count) FROM metric_chunks WHERE series_id = ?"
        + _RANK_FILTER, (series_id, rank, rank)).fetchone()
    if last is None:
        return None
    return (series_id, rank), Stamp(int(last), int(count)), int(points)


def _resolved(conn: sqlite3.Connection, key: tuple[int, int | None], stamp: Stamp) -> Entry:
    """Resolve the whole series from its chunks, leaving the chunks superseded whole by later
    dense chunks unread (:mod:`~rundial_collector.store.chunk_masks`; a chunk stored before
    aggregates existed counts as not dense). The reader's transaction is one snapshot."""
    series_id, rank = key
    ranges = conn.execute(_CHUNK_RANGES, (series_id, rank, rank)).fetchall()
    skipped = superseded_chunks((int(i), int(low), int(high), -1 if n is None else int(n))
                                for i, low, high, n, _count in ranges)
    if not skipped:
        chunks = _raw_chunks(conn, key, after_chunk=0)
    else:
        rows = conn.execute(_CHUNKS_BUT, (series_id, rank, rank, json.dumps(skipped)))
        chunks = [unpack(steps, values, stamps) for steps, values, stamps in rows]
    return Entry(stamp, resolve_chunks(chunks), sum(int(r[4]) for r in ranges))


def _extended(conn: sqlite3.Connection, key: tuple[int, int | None], entry: Entry | None,
              stamp: Stamp) -> Entry | None:
    """``entry`` plus the chunks appended since, when only appends happened; else None."""
    if entry is None or not extendable(entry, stamp):
        return None
    chunks = _raw_chunks(conn, key, after_chunk=entry.stamp.last_chunk_id)
    return extended(entry, stamp, concat_all(chunks), len(chunks))


def _raw_chunks(conn: sqlite3.Connection, key: tuple[int, int | None], after_chunk: int
                ) -> list[Points]:
    """Raw points of each chunk after ``after_chunk``, in chunk order (views of the blobs)."""
    series_id, rank = key
    rows = conn.execute("SELECT steps, vals, timestamps FROM metric_chunks WHERE series_id = ?"
                        " AND chunk_id > ?" + _RANK_FILTER + " ORDER BY chunk_id",
                        (series_id, after_chunk, rank, rank)).fetchall()
    return [unpack(steps, values, stamps) for steps, values, stamps in rows]


_HAS_CHUNK = "EXISTS (SELECT 1 FROM metric_chunks c WHERE c.series_id = series.series_id)"
_KEY_ORDER = (" ORDER BY (metric_key >= 'system/' AND metric_key < 'system0'), metric_key"
              " LIMIT ? OFFSET ?")
_KEYS_IN_RANGE = ("SELECT metric_key FROM series WHERE project_id = ? AND run_id = ?"
                  " AND metric_key >= ? AND (? IS NULL OR metric_key < ?) AND " + _HAS_CHUNK
                  + " ORDER BY metric_key LIMIT ?")


def metric_keys(conn: sqlite3.Connection, project_id: str, run_id: str | None, limit: int,
                offset: int) -> list[MetricKeyInfo]:
    """Keys of a project (with run counts) or of one run (with point counts and last step).

    Only series with at least one stored point count (a series row without chunks, as older
    versions left for keys whose every value was rejected, is not listed).
    """
    if run_id is None:
        rows = conn.execute("SELECT metric_key, count(*) FROM series WHERE project_id = ?"
                            " AND " + _HAS_CHUNK + " GROUP BY metric_key" + _KEY_ORDER,
                            (project_id, limit, offset)).fetchall()
        return [MetricKeyInfo(key, int(runs)) for key, runs in rows]
    rows = conn.execute(
        "SELECT s.metric_key, sum(c.point_count), max(c.step_max), max(c.ts_max)"
        " FROM series s JOIN metric_chunks c ON c.series_id = s.series_id"
        " WHERE s.project_id = ? AND s.run_id = ? GROUP BY s.metric_key" + _KEY_ORDER,
        (project_id, run_id, limit, offset)).fetchall()
    return [MetricKeyInfo(key, 1, int(n), int(step), int(ts)) for key, n, step, ts in rows]


def run_keys_from(conn: sqlite3.Connection, project_id: str, run_id: str, start_key: str,
                  limit: int, system_last: bool) -> list[str]:
    """Up to ``limit`` keys of the run with stored points, from ``start_key`` on (inclusive).

    Keys come alphabetically, or with ``system_last`` in ``metrics/keys`` order (user keys
    alphabetically, then ``system/`` keys). Each key range is an index range scan, so a page of
    keys costs about its own size however many keys the run has.
    """
    keys: list[str] = []
    for low, high in key_ranges(start_key, system_last):
        if len(keys) >= limit:
            break
        rows = conn.execute(_KEYS_IN_RANGE, (project_id, run_id, low, high, high,
                                             limit - len(keys))).fetchall()
        keys += [str(row[0]) for row in rows]
    return keys


def series_exists(conn: sqlite3.Connection, project_id: str, run_id: str) -> bool:
    """Whether the run has at least one stored metric point in the project."""
    return conn.execute("SELECT 1 FROM series WHERE project_id = ? AND run_id = ? AND "
                        + _HAS_CHUNK + " LIMIT 1", (project_id, run_id)).fetchone() is not None
