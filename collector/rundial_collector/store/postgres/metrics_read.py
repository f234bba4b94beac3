"""Series reads on PostgreSQL: resolved series (through the shared :class:`SeriesCache`),
pages by step range, keys.

Read transactions here may be READ COMMITTED (each statement its own snapshot) and chunk ids
of concurrent collectors commit out of order, so every answer that is cached is built from
one statement: the stamp of a fresh resolution is taken from the rows it read, and an
extension reads the new chunks together with the count of the chunks it extends (a chunk
that committed late, below the cached newest id, changes that count: start over). So a cached
entry is exactly the chunks its stamp names. A fresh resolution reads the chunks' step ranges
first and leaves out the chunks superseded whole by later dense chunks
(:mod:`~rundial_collector.store.chunk_masks`); the chunks it then reads are checked to be
exactly the ones planned (else it resolves from one statement, as an extension does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rundial_collector.store.chunk_masks import superseded_chunks
from rundial_collector.store.data_base import ResolvedSeries
from rundial_collector.store.postgres.copy_columns import copy_chunk_columns
from rundial_collector.store.postgres.metrics_write import CHUNK_BLOBS, STEPSETS
from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.series_cache import (Entry, SeriesCache, Stamp, extendable,
                                                  extended, pages_by_range)
from rundial_collector.store.series_math import (EMPTY, Points, after_step, concat_all,
                                                 resolve_chunks, unpack)
from rundial_collector.store.series_pages import resolved_between, windows

SeriesKeyId = tuple[int, int | None]  # series id, writer rank filter
_RANK = " AND ($2::bigint IS NULL OR writer_rank = $2)"
_STAMP = ("SELECT s.series_id, max(c.chunk_id), count(c.chunk_id), sum(c.point_count)"
          " FROM series s JOIN metric_chunks c ON c.series_id = s.series_id"
          " AND ($4::bigint IS NULL OR c.writer_rank = $4)"
          " WHERE s.project_id = $1 AND s.run_id = $2 AND s.metric_key = $3"
          " GROUP BY s.series_id")
_CHUNKS_AFTER = ("SELECT c.chunk_id, " + CHUNK_BLOBS + ","
                 " (SELECT count(*) FROM metric_chunks WHERE series_id = $1 AND chunk_id <= $3"
                 + _RANK + ") FROM metric_chunks c" + STEPSETS + " WHERE c.series_id = $1"
                 " AND c.chunk_id > $3" + _RANK + " ORDER BY c.chunk_id")
_CHUNK_RANGES = ("SELECT chunk_id, step_min, step_max, point_count, resolved_count"
                 " FROM metric_chunks WHERE series_id = $1" + _RANK + " ORDER BY chunk_id")
_CHUNKS_BUT = ("SELECT c.chunk_id, " + CHUNK_BLOBS + " FROM metric_chunks c" + STEPSETS
               + " WHERE c.series_id = $1" + _RANK + " AND c.chunk_id <= $3"
               " AND c.chunk_id <> ALL($4::bigint[]) ORDER BY c.chunk_id")
_RANGES = ("SELECT step_min, step_max, point_count FROM metric_chunks WHERE series_id = $1"
           " AND step_max > $3" + _RANK + " ORDER BY step_min")
_BETWEEN = ("SELECT " + CHUNK_BLOBS + " FROM metric_chunks c" + STEPSETS
            + " WHERE c.series_id = $1 AND c.step_max > $3 AND c.step_min <= $4" + _RANK
            + " ORDER BY c.chunk_id")


class PgSeriesReader:
    """Resolved series and pages through a cache shared by this collector's reads."""

    def __init__(self, cache: SeriesCache) -> None:
        self.cache = cache

    async def read_series(self, conn: Conn, project_id: str, run_id: str, metric_key: str,
                          rank: int | None) -> ResolvedSeries:
        """The resolved series: cached, extended by new chunks, or resolved from scratch."""
        found = await series_stamp(conn, project_id, run_id, metric_key, rank)
        if found is None:
            return ResolvedSeries(EMPTY, 0)
        key, stamp, _points = found
        entry = await self._current(conn, key, stamp)
        return ResolvedSeries(entry.points, entry.raw_count)

    async def read_page(self, conn: Conn, project_id: str, run_id: str, metric_key: str,
                        rank: int | None, after: int, limit: int) -> Points:
        """Up to ``limit`` resolved points with steps above ``after``, ascending: sliced from
        the whole (cached) series when it is cached or small enough, else read by step range
        (see :mod:`rundial_collector.store.series_pages`)."""
        found = await series_stamp(conn, project_id, run_id, metric_key, rank)
        if found is None:
            return EMPTY
        key, stamp, points = found
        entry = self.cache.get(key)
        if pages_by_range(self.cache, entry is not None and entry.stamp == stamp, points):
            return await read_page(conn, key, after, limit)
        resolved = (await self._current(conn, key, stamp)).points
        return after_step(resolved, after).take(slice(0, max(0, limit)))

    async def _current(self, conn: Conn, key: SeriesKeyId, stamp: Stamp) -> Entry:
        """The entry of ``key`` at ``stamp`` or newer: reused, extended or resolved (cached)."""
        entry = self.cache.get(key)
        if entry is not None and entry.stamp == stamp:
            return entry
        fresh = None
        if entry is not None and extendable(entry, stamp):
            chunks, ids, below = await _chunks_after(conn, key, entry.stamp.last_chunk_id)
            if ids:
                fresh = extended(entry, Stamp(max(ids), below + len(ids)), concat_all(chunks),
                                 len(ids))
        if fresh is None:
            fresh = await _resolved_unmasked(conn, key)
        if fresh is None:
            fresh = await _resolved_whole(conn, key)
        self.cache.put(key, fresh)
        return fresh


async def _resolved_whole(conn: Conn, key: SeriesKeyId) -> Entry:
    """The series resolved from every one of its chunks, read by one statement."""
    chunks, ids, _ = await _chunks_after(conn, key, 0)
    return Entry(Stamp(max(ids, default=0), len(ids)), resolve_chunks(chunks),
                 sum(len(c) for c in chunks))


async def _resolved_unmasked(conn: Conn, key: SeriesKeyId) -> Entry | None:
    """The series resolved from its chunks less the superseded ones (never fetched: a cold read
    of a series whose batches were re-logged reads that much less), streamed by a binary COPY
    into arrays of their final size (:mod:`~rundial_collector.store.postgres.copy_columns`);
    None when the chunks read are not exactly the ones its step ranges named."""
    ranges = await conn.fetch(_CHUNK_RANGES, key[0], key[1])
    if not ranges:
        return None
    skipped = superseded_chunks((int(r[0]), int(r[1]), int(r[2]), int(r[4])) for r in ranges)
    left_out = set(skipped)
    planned = [(int(r[0]), int(r[3])) for r in ranges if int(r[0]) not in left_out]
    last = int(ranges[-1][0])
    read = await copy_chunk_columns(conn, _CHUNKS_BUT, (key[0], key[1], last, skipped),
                                    sum(count for _, count in planned))
    if not read.ok or list(zip(read.ids, read.counts)) != planned:
        return None
    return Entry(Stamp(last, len(ranges)), _resolved_in_chunk_order(read.points, read.counts),
                 sum(int(r[3]) for r in ranges))


def _resolved_in_chunk_order(raw: Points, counts: list[int]) -> Points:
    """The resolution of ``raw`` (chunks of ``counts`` points one after another): ``raw``
    itself when its steps strictly rise (chunks logged in order, none re-logging another's
    steps), else :func:`resolve_chunks` of the chunks."""
    steps = raw.steps
    if len(steps) < 2 or bool(np.all(steps[1:] > steps[:-1])):
        return raw
    bounds = np.cumsum([0, *counts]).tolist()
    return resolve_chunks([raw.take(slice(a, b)) for a, b in zip(bounds, bounds[1:])])


async def series_id_of(conn: Conn, project_id: str, run_id: str, metric_key: str
                       ) -> int | None:
    """The series id of (project, run, key), or None when it was never written."""
    found = await conn.fetchval("SELECT series_id FROM series WHERE project_id = $1"
                                " AND run_id = $2 AND metric_key = $3",
                                project_id, run_id, metric_key)
    return None if found is None else int(found)


async def series_stamp(conn: Conn, project_id: str, run_id: str, metric_key: str,
                       rank: int | None) -> tuple[SeriesKeyId, Stamp, int] | None:
    """(cache key, stamp, stored raw points) of a series with at least one chunk, else None."""
    row = await conn.fetchrow(_STAMP, project_id, run_id, metric_key, rank)
    if row is None:
        return None
    return (int(row[0]), rank), Stamp(int(row[1]), int(row[2])), int(row[3])


async def _chunks_after(conn: Conn, key: SeriesKeyId, after_chunk: int
                        ) -> tuple[list[Points], list[int], int]:
    """(raw points of each chunk after ``after_chunk`` in chunk order, viewing the fetched
    bytes, their ids, how many chunks lie at or below it), from one statement."""
    rows = await conn.fetch(_CHUNKS_AFTER, key[0], key[1], after_chunk)
    if not rows:
        return [], [], 0
    return ([unpack(row[1], row[2], row[3]) for row in rows], [int(row[0]) for row in rows],
            int(rows[0][4]))


def _joined(rows: Sequence[Any], first: int) -> Points:
    """The points of ``rows`` whose steps, values and timestamps start at column ``first``."""
    return unpack(b"".join(row[first] for row in rows), b"".join(row[first + 1] for row in rows),
                  b"".join(row[first + 2] for row in rows))


async def read_page(conn: Conn, key: SeriesKeyId, after: int, limit: int) -> Points:
    """Up to ``limit`` resolved points with steps above ``after``, ascending, reading only
    the chunks that can hold a step of the page's window."""
    series_id, rank = key
    ranges = [(int(a), int(b), int(c))
              for a, b, c in await conn.fetch(_RANGES, series_id, rank, after)]
    if not ranges or limit <= 0:
        return EMPTY
    points = EMPTY
    for upper in windows(ranges, limit):
        rows = await conn.fetch(_BETWEEN, series_id, rank, after, upper)
        points = resolved_between(_joined(rows, 0), after, upper) if rows else EMPTY
        if len(points) >= limit:
            break
    return points.take(slice(0, limit))
