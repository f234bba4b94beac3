"""Chart reads of one series: stored block aggregates where they are exact, raw points elsewhere.

Every chunk row written since chart aggregates exist has a ``metric_chunk_aggs`` row: the
chunk's points resolved on their own (:func:`~rundial_collector.store.chart_math.chunk_blocks`)
and how many points that left. :mod:`.chart_plan` decides which blocks are exact (no other
chunk holds a point of their steps, or a later dense chunk masks them) and which points must be
read raw (around the steps that several chunks share; whole chunks only where cut by the range
or without aggregates); :mod:`.chart_raw` reads those, and this module resolves them (last
ingest wins, chunk-id order is ingest order) and merges everything into buckets.

Correctness never depends on the aggregates: with them disabled the same buckets come back
from raw points alone. Aggregates are used only when the range holds at least
:data:`MIN_POINTS_PER_CELL` raw points per bucket, so a bucket is never much coarser than asked.
When the resolved points in range fit in the buckets, the points themselves are returned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rundial_collector.store.chart_math import (BLOCK_POINTS, Blocks, bucketize, chunk_blocks,
                                                concat_blocks, pack_blocks, point_blocks,
                                                unpack_blocks)
from rundial_collector.store.data_base import ChartSeries, SeriesChunk
from rundial_collector.store.sqlite.chart_plan import Chunk, plan_chart, plan_raw
from rundial_collector.store.sqlite.chart_raw import raw_points
from rundial_collector.store.series_math import EMPTY, I64, Points, resolve

# Created with the metric tables; a database from before it gains the table (and its chunks
# are read raw: they have no aggregates row).
CHART_TABLES = """
CREATE TABLE IF NOT EXISTS metric_chunk_aggs (
    chunk_id INTEGER PRIMARY KEY,
    resolved_count INTEGER NOT NULL,
    blocks BLOB NOT NULL
);
"""

MIN_POINTS_PER_CELL = 2 * BLOCK_POINTS


def aggregate_rows(chunk_ids: Sequence[int], chunks: Sequence[SeriesChunk]
                   ) -> list[tuple[int, int, bytes]]:
    """``metric_chunk_aggs`` rows of freshly inserted chunks (same order as ``chunk_ids``)."""
    rows = []
    for chunk_id, chunk in zip(chunk_ids, chunks):
        resolved = resolve(chunk.points)
        rows.append((chunk_id, len(resolved), pack_blocks(chunk_blocks(resolved))))
    return rows


def read_chart(conn: sqlite3.Connection, series_id: int, start_step: int | None,
               end_step: int | None, cells: int,
               min_points_per_cell: int | None = MIN_POINTS_PER_CELL) -> ChartSeries:
    """The chart of one series over ``[start_step, end_step]`` (default: its whole range).

    Aggregates are used when the range's chunks hold at least ``min_points_per_cell`` raw
    points per bucket (None: never; tests compare both paths)."""
    logged, step_min, step_max = conn.execute(
        "SELECT sum(point_count), min(step_min), max(step_max) FROM metric_chunks"
        " WHERE series_id = ?", (series_id,)).fetchone()
    if logged is None:
        return ChartSeries(False, 0, 0, 0, start_step, end_step, EMPTY, None)
    first = int(step_min) if start_step is None else start_step
    last = int(step_max) if end_step is None else end_step
    if first > last:
        return ChartSeries(True, int(logged), 0, 0, first, last, EMPTY, None)
    chunks = _chunks_in(conn, series_id, first, last)
    estimate = sum(c[3] for c in chunks)
    use = min_points_per_cell is not None and estimate >= cells * min_points_per_cell
    blocks, superseded = _blocks(conn, chunks, first, last, use)
    in_range = int(blocks.count.sum())
    if in_range <= cells and use:
        blocks, superseded = _blocks(conn, chunks, first, last, False)
    if in_range <= cells:
        raw = Points(blocks.step_first, blocks.last, blocks.last_ts)
        return ChartSeries(True, int(logged), in_range, superseded, first, last, raw, None)
    return ChartSeries(True, int(logged), in_range, superseded, first, last, None,
                       bucketize(blocks, first, last, cells))


def _chunks_in(conn: sqlite3.Connection, series_id: int, first: int, last: int
               ) -> list[Chunk]:
    rows = conn.execute(
        "SELECT c.chunk_id, c.step_min, c.step_max, c.point_count, g.resolved_count, g.blocks"
        " FROM metric_chunks c LEFT JOIN metric_chunk_aggs g ON g.chunk_id = c.chunk_id"
        " WHERE c.series_id = ? AND c.step_max >= ? AND c.step_min <= ?",
        (series_id, first, last)).fetchall()
    return [(int(a), int(b), int(c), int(d), e, f) for a, b, c, d, e, f in rows]


def _blocks(conn: sqlite3.Connection, chunks: list[Chunk], first: int, last: int,
            use_aggregates: bool) -> tuple[Blocks, int]:
    """(blocks of the resolved points in ``[first, last]`` ascending, superseded raw points)."""
    plan = plan_chart(chunks, first, last) if use_aggregates else plan_raw(chunks)
    parts = [unpack_blocks(b"".join(blob for _low, blob in plan.blobs))] if plan.blobs else []
    parts += plan.partial
    raw_in_range = plan.inside_raw
    if plan.raw_ids or plan.segmented:
        read = raw_points(conn, plan.raw_ids, plan.segmented)
        steps = read.points.steps
        in_range = (steps >= first) & (steps <= last)
        keep = in_range & ~_masked(steps, plan.exclude)
        raw_in_range += int((in_range & read.whole).sum())
        parts.append(point_blocks(resolve(read.points.take(np.flatnonzero(keep)))))
    merged = concat_blocks(parts)
    if bool(np.any(merged.step_first[1:] < merged.step_first[:-1])):
        merged = merged.take(np.argsort(merged.step_first, kind="stable"))
    return merged, raw_in_range - int(merged.count.sum())


def _masked(steps: I64, ranges: list[tuple[int, int]]) -> npt.NDArray[np.bool_]:
    """Whether each step lies in one of the disjoint inclusive ``ranges`` (ascending)."""
    if not ranges:
        return np.zeros(len(steps), dtype=bool)
    lows = np.array([r[0] for r in ranges], np.int64)
    highs = np.array([r[1] for r in ranges], np.int64)
    index = np.searchsorted(lows, steps, side="right") - 1
    return (index >= 0) & (steps <= highs[np.maximum(index, 0)])
