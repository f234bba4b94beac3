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

from rundial_collector.store.chart_compose import (MIN_POINTS_PER_CELL, chart_answer,
                                                   chart_window, merged_blocks, needs_raw,
                                                   uses_aggregates)
from rundial_collector.store.chart_math import Blocks
from rundial_collector.store.chart_plan import Chunk, plan_chart, plan_raw
from rundial_collector.store.data_base import ChartSeries
from rundial_collector.store.sqlite.chart_raw import raw_points

# Created with the metric tables; a database from before it gains the table (and its chunks
# are read raw: they have no aggregates row).
CHART_TABLES = """
CREATE TABLE IF NOT EXISTS metric_chunk_aggs (
    chunk_id INTEGER PRIMARY KEY,
    resolved_count INTEGER NOT NULL,
    blocks BLOB NOT NULL
);
"""


def read_chart(conn: sqlite3.Connection, series_id: int, start_step: int | None,
               end_step: int | None, cells: int,
               min_points_per_cell: int | None = MIN_POINTS_PER_CELL) -> ChartSeries:
    """The chart of one series over ``[start_step, end_step]`` (default: its whole range).

    Aggregates are used when the range's chunks hold at least ``min_points_per_cell`` raw
    points per bucket (None: never; tests compare both paths)."""
    window = chart_window(conn.execute(
        "SELECT sum(point_count), min(step_min), max(step_max) FROM metric_chunks"
        " WHERE series_id = ?", (series_id,)).fetchone(), start_step, end_step)
    if isinstance(window, ChartSeries):
        return window
    _logged, first, last = window
    chunks = _chunks_in(conn, series_id, first, last)
    use = uses_aggregates(chunks, cells, min_points_per_cell)
    blocks, superseded = _blocks(conn, chunks, first, last, use)
    if int(blocks.count.sum()) <= cells and use:
        blocks, superseded = _blocks(conn, chunks, first, last, False)
    return chart_answer(window, cells, blocks, superseded)


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
    read = raw_points(conn, plan.raw_ids, plan.segmented) if needs_raw(plan) else None
    return merged_blocks(plan, read, first, last)
