"""Helpers of the metric contract tests: chunks from plain tuples, ingest, comparisons."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rundial_collector.store.base import Store
from rundial_collector.store.data_base import ChartSeries, IngestBatch, SeriesChunk, WriteOutcome
from rundial_collector.store.series_math import Points

PROJECT = "prj_metrics"
Item = tuple[int, float]  # step, value


def points(items: Sequence[Item], first_ts: int = 0) -> Points:
    """Points of ``items`` with timestamps ``first_ts``, ``first_ts + 1``, ..."""
    return Points(np.array([s for s, _ in items], np.int64),
                  np.array([v for _, v in items], np.float64),
                  np.arange(first_ts, first_ts + len(items), dtype=np.int64))


def chunk(run_id: str, key: str, items: Sequence[Item], first_ts: int = 0,
          rank: int | None = None, project_id: str = PROJECT) -> SeriesChunk:
    return SeriesChunk(project_id, run_id, key, points(items, first_ts), rank)


async def ingest(store: Store, *chunks: SeriesChunk, key: str | None = None) -> WriteOutcome:
    """One ingest request holding ``chunks``."""
    accepted = sum(len(c.points) for c in chunks)
    return await store.ingest_metrics(IngestBatch(list(chunks), accepted, key))


def rows(p: Points) -> list[tuple[int, float, int]]:
    """Points as plain tuples (NaN kept: compare with :func:`same_rows`)."""
    return list(zip(p.steps.tolist(), p.values.tolist(), p.timestamps.tolist()))


def same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def same_rows(a: list[tuple[int, float, int]], b: list[tuple[int, float, int]]) -> bool:
    return len(a) == len(b) and all(x[0] == y[0] and same_value(x[1], y[1]) and x[2] == y[2]
                                    for x, y in zip(a, b))


def chart_shape(c: ChartSeries) -> tuple[object, ...]:
    """Everything a chart answer says, as comparable plain values (NaN as the string)."""
    def clean(values: list[float]) -> list[object]:
        return ["nan" if math.isnan(v) else v for v in values]

    raw = None if c.raw is None else (c.raw.steps.tolist(), clean(c.raw.values.tolist()),
                                      c.raw.timestamps.tolist())
    b = c.buckets
    buckets = None if b is None else (
        b.step_first.tolist(), b.step_last.tolist(), b.count.tolist(), b.last_ts.tolist(),
        clean(b.minimum.tolist()), clean(b.maximum.tolist()), clean(b.last.tolist()))
    return (c.found, c.logged, c.in_range, c.superseded, c.first_step, c.last_step, raw,
            buckets)

