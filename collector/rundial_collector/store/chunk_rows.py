"""The stored row of each ingested chunk (bounds, packed blobs, chart aggregates), computed once
per *column group* rather than once per chunk.

A wide-rows request (docs/protocol.md §4.2) gives every key of a run the same steps and
timestamps: :mod:`rundial_collector.ingest.rows` hands its chunks the very same two arrays.
Such chunks share everything that depends on steps and timestamps only: the step and time
bounds, the packed steps and timestamps blobs, the resolution (steps strictly ascending: every
point is its step's winner) and the block boundaries. :func:`chunk_rows` computes those once
per group of chunks sharing both arrays (by identity) and the per-value parts (packed values,
block minimum, maximum and last) for the whole group in one numpy call each.

The bytes are the same as per chunk (:func:`rundial_collector.store.series_math.pack` and
:func:`rundial_collector.store.chart_compose.chunk_aggregates`): a group that does not qualify
(steps not strictly ascending, one chunk alone) takes the per-chunk path. Pure; never raises
on any chunk the per-chunk path accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rundial_collector.store.chart_compose import chunk_aggregates
from rundial_collector.store.chart_math import BLOCK_POINTS, BLOCK_RECORD
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import F64, I64, pack

__all__ = ["ChunkRow", "chunk_rows"]

# rank, point count, step min, step max, ts min, ts max, context, steps, values, timestamps
# (packed), resolved count, packed blocks
ChunkRow = tuple[int | None, int, int, int, int, int, str | None, bytes, bytes, bytes, int,
                 bytes]
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")


def chunk_rows(chunks: Sequence[SeriesChunk]) -> list[ChunkRow]:
    """The row of each chunk, in order; every chunk must hold at least one point (ValueError
    otherwise: an empty chunk has no row)."""
    if any(not len(c.points) for c in chunks):
        raise ValueError("an empty chunk has no stored row")
    out: list[ChunkRow | None] = [None] * len(chunks)
    for members in _column_groups(chunks).values():
        steps = chunks[members[0]].points.steps
        if len(members) > 1 and _strictly_ascending(steps):
            for index, row in zip(members, _group_rows([chunks[i] for i in members])):
                out[index] = row
        else:
            for index in members:
                out[index] = _one_row(chunks[index])
    return [row for row in out if row is not None]


def _column_groups(chunks: Sequence[SeriesChunk]) -> dict[tuple[int, int], list[int]]:
    """Indices of the chunks sharing one steps and one timestamps array (by identity)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, chunk in enumerate(chunks):
        key = (id(chunk.points.steps), id(chunk.points.timestamps))
        groups.setdefault(key, []).append(index)
    return groups


def _strictly_ascending(steps: I64) -> bool:
    return len(steps) < 2 or bool((steps[1:] > steps[:-1]).all())


def _one_row(chunk: SeriesChunk) -> ChunkRow:
    """The per-chunk reference: what every chunk's row is defined as."""
    p = chunk.points
    resolved_count, blocks = chunk_aggregates(chunk)
    return (chunk.rank, len(p), int(p.steps.min()), int(p.steps.max()),
            int(p.timestamps.min()), int(p.timestamps.max()), chunk.context_json, *pack(p),
            resolved_count, blocks)


def _group_rows(group: list[SeriesChunk]) -> list[ChunkRow]:
    """Rows of chunks sharing strictly ascending steps and their timestamps (resolution keeps
    every point, so each chunk's blocks are cut from all of its points)."""
    first = group[0].points
    steps, stamps = first.steps, first.timestamps
    n = len(steps)
    values: F64 = np.stack([np.asarray(c.points.values, _FLOAT64) for c in group])
    starts = np.arange(0, n, BLOCK_POINTS, dtype=np.intp)
    lasts = np.minimum(starts + (BLOCK_POINTS - 1), n - 1)
    records = np.empty((len(group), len(starts)), BLOCK_RECORD)
    records["step_first"] = steps[::BLOCK_POINTS]
    records["step_last"] = steps[lasts]
    records["count"] = lasts - starts + 1
    records["last_ts"] = stamps[lasts]
    records["minimum"] = np.fmin.reduceat(values, starts, axis=1)
    records["maximum"] = np.fmax.reduceat(values, starts, axis=1)
    records["last"] = values[:, lasts]
    steps_blob = np.ascontiguousarray(steps, _INT64).tobytes()
    stamps_blob = np.ascontiguousarray(stamps, _INT64).tobytes()
    bounds = (int(steps[0]), int(steps[-1]), int(stamps.min()), int(stamps.max()))
    return [(chunk.rank, n, *bounds, chunk.context_json, steps_blob, values[j].tobytes(),
             stamps_blob, n, records[j].tobytes())
            for j, chunk in enumerate(group)]
