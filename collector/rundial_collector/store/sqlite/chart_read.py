"""Chart reads of one series: stored block aggregates where they are exact, raw chunks elsewhere.

Every chunk row written since chart aggregates exist has a ``metric_chunk_aggs`` row: the
chunk's points resolved on their own (:func:`~rundial_collector.store.chart_math.chunk_blocks`)
and how many points that left. Those blocks equal the series' resolved points only where no
other chunk holds any of the chunk's steps, so a read groups the chunks overlapping the step
range into *components* (chunks linked by overlapping ``[step_min, step_max]``):

* a component of one chunk, lying wholly inside the range and having aggregates, contributes
  its stored blocks (nothing supersedes them and nothing is cut off);
* in a component of several chunks, a *dense* chunk (holding every step of its range, as a
  run resumed from a checkpoint re-logs) that no later chunk overlaps contributes its blocks
  too, and its range masks the earlier points it supersedes;
* every other chunk (superseded ones, a chunk cut by the range's ends, a chunk stored before
  aggregates existed) is read raw and resolved, which is exact because every stored point of a
  step lies in the chunks whose step range holds it, and chunk-id order is ingest order.

Correctness never depends on the aggregates: with them disabled the same buckets come back
from raw points alone. Aggregates are used only when the range holds at least
:data:`MIN_POINTS_PER_CELL` raw points per bucket, so a bucket is never much coarser than asked.
When the resolved points in range fit in the buckets, the points themselves are returned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rundial_collector.store.chart_math import (BLOCK_POINTS, Blocks, bucketize, chunk_blocks,
                                                concat_blocks, pack_blocks, point_blocks,
                                                unpack_blocks)
from rundial_collector.store.data_base import ChartSeries, SeriesChunk
from rundial_collector.store.series_math import EMPTY, I64, Points, resolve, unpack

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
_MAX_GROUP_SCAN = 64  # larger components of overlapping chunks are read raw
_IN_BATCH = 500  # chunk ids per raw read (well under SQLite's bound parameter limit)
_Chunk = tuple[int, int, int, int, int | None, bytes | None]  # id, min, max, count, resolved, blob


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
               ) -> list[_Chunk]:
    rows = conn.execute(
        "SELECT c.chunk_id, c.step_min, c.step_max, c.point_count, g.resolved_count, g.blocks"
        " FROM metric_chunks c LEFT JOIN metric_chunk_aggs g ON g.chunk_id = c.chunk_id"
        " WHERE c.series_id = ? AND c.step_max >= ? AND c.step_min <= ?",
        (series_id, first, last)).fetchall()
    return [(int(a), int(b), int(c), int(d), e, f) for a, b, c, d, e, f in rows]


def _components(chunks: list[_Chunk]) -> list[list[_Chunk]]:
    """Chunks grouped by overlapping step ranges (transitively), ascending by step."""
    groups: list[list[_Chunk]] = []
    reach = 0
    for chunk in sorted(chunks, key=lambda c: c[1]):
        if groups and chunk[1] <= reach:
            groups[-1].append(chunk)
            reach = max(reach, chunk[2])
        else:
            groups.append([chunk])
            reach = chunk[2]
    return groups


def _exact_summaries(group: list[_Chunk], first: int, last: int) -> list[_Chunk]:
    """The chunks of a component whose stored blocks are exact resolved points.

    A chunk qualifies when it has aggregates, lies inside ``[first, last]`` and no later chunk
    holds any of its steps: alone in its component, or (a run resumed from a checkpoint re-logs
    a step range) *dense* — it holds every step of ``[step_min, step_max]`` — with no later
    chunk overlapping that range, so its range masks exactly the earlier points it supersedes.
    """
    if len(group) > _MAX_GROUP_SCAN:
        return []
    found = []
    for chunk in group:
        chunk_id, low, high, _count, resolved_count, blob = chunk
        if blob is None or resolved_count is None or low < first or high > last:
            continue
        if len(group) > 1 and (resolved_count != high - low + 1 or any(
                other[0] > chunk_id and other[1] <= high and other[2] >= low
                for other in group)):
            continue
        found.append(chunk)
    return found


@dataclass
class _Plan:
    """What a read takes from each chunk: stored blocks, raw points, or nothing (superseded)."""

    blobs: list[bytes] = field(default_factory=list)  # stored blocks (joined, unpacked once)
    masks: list[tuple[int, int]] = field(default_factory=list)  # steps the blocks own
    raw_ids: list[int] = field(default_factory=list)
    superseded: int = 0

    def add(self, group: list[_Chunk], summarised: list[_Chunk]) -> None:
        for _id, low, high, count, resolved_count, blob in summarised:
            assert blob is not None and resolved_count is not None
            self.blobs.append(blob)
            self.superseded += count - int(resolved_count)
            self.masks.append((low, high))
        used = {c[0] for c in summarised}
        for chunk in group:
            if chunk[0] in used:
                continue
            if any(low <= chunk[1] and chunk[2] <= high for _i, low, high, *_ in summarised):
                self.superseded += chunk[3]  # wholly re-logged later: every point lost its step
            else:
                self.raw_ids.append(chunk[0])


def _blocks(conn: sqlite3.Connection, chunks: list[_Chunk], first: int, last: int,
            use_aggregates: bool) -> tuple[Blocks, int]:
    """(blocks of the resolved points in ``[first, last]`` ascending, superseded raw points)."""
    plan = _Plan()
    for group in _components(chunks):
        plan.add(group, _exact_summaries(group, first, last) if use_aggregates else [])
    parts = [unpack_blocks(b"".join(plan.blobs))] if plan.blobs else []
    raw_ids, masks, superseded = plan.raw_ids, plan.masks, plan.superseded
    if raw_ids:
        raw = _raw_points(conn, sorted(raw_ids))
        inside = (raw.steps >= first) & (raw.steps <= last) & ~_masked(raw.steps, masks)
        resolved = resolve(raw.take(np.flatnonzero(inside)))
        superseded += int(((raw.steps >= first) & (raw.steps <= last)).sum()) - len(resolved)
        parts.append(point_blocks(resolved))
    merged = concat_blocks(parts)
    if len(parts) > 1:
        merged = merged.take(np.argsort(merged.step_first, kind="stable"))
    return merged, superseded


def _masked(steps: I64, ranges: list[tuple[int, int]]) -> npt.NDArray[np.bool_]:
    """Whether each step lies in one of the disjoint inclusive ``ranges``."""
    if not ranges:
        return np.zeros(len(steps), dtype=bool)
    ordered = sorted(ranges)
    lows = np.array([r[0] for r in ordered], np.int64)
    highs = np.array([r[1] for r in ordered], np.int64)
    index = np.searchsorted(lows, steps, side="right") - 1
    return (index >= 0) & (steps <= highs[np.maximum(index, 0)])


def _raw_points(conn: sqlite3.Connection, chunk_ids: list[int]) -> Points:
    """The raw points of ``chunk_ids`` (ascending) in chunk-id order."""
    rows: list[tuple[bytes, bytes, bytes]] = []
    for i in range(0, len(chunk_ids), _IN_BATCH):
        batch = chunk_ids[i:i + _IN_BATCH]
        marks = ",".join("?" * len(batch))
        rows += conn.execute("SELECT steps, vals, timestamps FROM metric_chunks WHERE chunk_id"
                             " IN (" + marks + ") ORDER BY chunk_id", batch).fetchall()
    if not rows:
        return EMPTY
    steps, values, stamps = zip(*rows)
    return unpack(b"".join(steps), b"".join(values), b"".join(stamps))
