"""Chart reads of one series, backend-neutral: the decisions and the merge around the store's
own reads (see :mod:`rundial_collector.store.sqlite.chart_read` for the design).

A backend reads (1) the series' totals, (2) the chunks meeting the range with their block
aggregates, (3) the raw points a :class:`~rundial_collector.store.chart_plan.ChartPlan`
asks for; everything else is here: the range (:func:`chart_window`), whether aggregates are
worth using (:func:`uses_aggregates`), the merge of stored blocks and resolved raw points
(:func:`merged_blocks`) and the answer (:func:`chart_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rundial_collector.store.chart_math import (BLOCK_POINTS, Blocks, bucketize, chunk_blocks,
                                                concat_blocks, pack_blocks, point_blocks,
                                                unpack_blocks)
from rundial_collector.store.chart_plan import ChartPlan, Chunk
from rundial_collector.store.chart_segments import RawRead
from rundial_collector.store.data_base import ChartSeries, SeriesChunk
from rundial_collector.store.series_math import EMPTY, I64, Points, resolve

MIN_POINTS_PER_CELL = 2 * BLOCK_POINTS


def chunk_aggregates(chunk: SeriesChunk) -> tuple[int, bytes]:
    """(resolved point count, packed block aggregates) of one chunk, stored at ingest."""
    resolved = resolve(chunk.points)
    return len(resolved), pack_blocks(chunk_blocks(resolved))


def aggregate_rows(chunk_ids: Sequence[int], chunks: Sequence[SeriesChunk]
                   ) -> list[tuple[int, int, bytes]]:
    """``(chunk id, resolved count, blocks)`` of freshly inserted chunks (same order)."""
    return [(chunk_id, *chunk_aggregates(chunk)) for chunk_id, chunk in zip(chunk_ids, chunks)]


def not_found(start_step: int | None, end_step: int | None) -> ChartSeries:
    """The answer for a series with no stored point."""
    return ChartSeries(False, 0, 0, 0, start_step, end_step, EMPTY, None)


def chart_window(totals: tuple[int | None, int | None, int | None], start_step: int | None,
                 end_step: int | None) -> ChartSeries | tuple[int, int, int]:
    """(logged, first, last) of a read, from the series' (raw points, first step, last step);
    or the whole answer when the series is empty or the range is."""
    logged, step_min, step_max = totals
    if logged is None or step_min is None or step_max is None:
        return not_found(start_step, end_step)
    first = step_min if start_step is None else start_step
    last = step_max if end_step is None else end_step
    if first > last:
        return ChartSeries(True, logged, 0, 0, first, last, EMPTY, None)
    return logged, first, last


def uses_aggregates(chunks: list[Chunk], cells: int, min_points_per_cell: int | None) -> bool:
    """Whether the range's chunks hold enough raw points per bucket to use aggregates."""
    estimate = sum(c[3] for c in chunks)
    return min_points_per_cell is not None and estimate >= cells * min_points_per_cell


def merged_blocks(plan: ChartPlan, read: RawRead | None, first: int, last: int
                  ) -> tuple[Blocks, int]:
    """(blocks of the resolved points in ``[first, last]`` ascending, superseded raw points):
    the plan's stored blocks plus the raw points ``read`` (None: the plan needs none)."""
    parts = [unpack_blocks(b"".join(blob for _low, blob in plan.blobs))] if plan.blobs else []
    parts += plan.partial
    raw_in_range = plan.inside_raw
    if read is not None:
        steps = read.points.steps
        in_range = (steps >= first) & (steps <= last)
        keep = in_range & ~_masked(steps, plan.exclude)
        raw_in_range += int((in_range & read.whole).sum())
        parts.append(point_blocks(resolve(read.points.take(np.flatnonzero(keep)))))
    merged = concat_blocks(parts)
    if bool(np.any(merged.step_first[1:] < merged.step_first[:-1])):
        merged = merged.take(np.argsort(merged.step_first, kind="stable"))
    return merged, raw_in_range - int(merged.count.sum())


def needs_raw(plan: ChartPlan) -> bool:
    """Whether the plan reads raw points at all."""
    return bool(plan.raw_ids or plan.segmented)


def chart_answer(window: tuple[int, int, int], cells: int, blocks: Blocks,
                 superseded: int) -> ChartSeries:
    """The chart: the resolved points when they fit ``cells``, else the buckets."""
    logged, first, last = window
    in_range = int(blocks.count.sum())
    if in_range <= cells:
        raw = Points(blocks.step_first, blocks.last, blocks.last_ts)
        return ChartSeries(True, logged, in_range, superseded, first, last, raw, None)
    return ChartSeries(True, logged, in_range, superseded, first, last, None,
                       bucketize(blocks, first, last, cells))


def _masked(steps: I64, ranges: list[tuple[int, int]]) -> npt.NDArray[np.bool_]:
    """Whether each step lies in one of the disjoint inclusive ``ranges`` (ascending)."""
    if not ranges:
        return np.zeros(len(steps), dtype=bool)
    lows = np.array([r[0] for r in ranges], np.int64)
    highs = np.array([r[1] for r in ranges], np.int64)
    index = np.searchsorted(lows, steps, side="right") - 1
    return (index >= 0) & (steps <= highs[np.maximum(index, 0)])
