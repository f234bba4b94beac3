"""Numpy math of chart reads: per-chunk block aggregates and pixel buckets.

A *block* summarises consecutive resolved points: its first and last step, point count, the
wall time of its last point, and the min, max and last value (min/max ignore NaN and are NaN
only when every value is NaN). A single resolved point is a block of one. At ingest every
chunk's points are resolved on their own (the last point of a step wins inside the chunk) and
cut into blocks of :data:`BLOCK_POINTS` points (:func:`chunk_blocks`); a chart read merges
blocks into buckets (:func:`bucketize`).

Buckets: the step range ``[first, last]`` is split into ``n`` equal cells exactly as
:func:`rundial_collector.store.series_math._bucket_starts` does (exact for every int64 step);
a block belongs to the cell of its *last* step. A bucket is the union of its cell's blocks, so
its ``stepStart``/``stepEnd`` are the first and last step it really holds; buckets never
overlap, and each bucket's min, max, last and count are exact for the points between its
``stepStart`` and ``stepEnd``. Built from single points, buckets are exactly the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rundial_collector.store.series_math import F64, I64, Points

BLOCK_POINTS = 32  # points per stored block: 7 numbers (56 bytes) per 768 bytes of points
BLOCK_RECORD = np.dtype([("step_first", "<i8"), ("step_last", "<i8"), ("count", "<i8"),
                         ("last_ts", "<i8"), ("minimum", "<f8"), ("maximum", "<f8"),
                         ("last", "<f8")])
_NAMES = ("step_first", "step_last", "count", "last_ts", "minimum", "maximum", "last")


@dataclass(frozen=True)
class Blocks:
    """Parallel arrays of blocks, ascending by step and disjoint."""

    step_first: I64
    step_last: I64
    count: I64
    last_ts: I64
    minimum: F64
    maximum: F64
    last: F64

    def __len__(self) -> int:
        return int(self.step_first.shape[0])

    def take(self, index: npt.NDArray[np.intp] | slice) -> Blocks:
        return Blocks(self.step_first[index], self.step_last[index], self.count[index],
                      self.last_ts[index], self.minimum[index], self.maximum[index],
                      self.last[index])


def point_blocks(points: Points) -> Blocks:
    """Every resolved point as a block of one."""
    return Blocks(points.steps, points.steps, np.ones(len(points), np.int64), points.timestamps,
                  points.values, points.values, points.values)


def chunk_blocks(resolved: Points, block_points: int = BLOCK_POINTS) -> Blocks:
    """Blocks of ``block_points`` consecutive points of a resolved (ascending) chunk.

    Runs on the ingest path (once per stored chunk), so it avoids the general merge: strided
    slices and one ``reduceat`` per extreme."""
    n = len(resolved)
    starts = np.arange(0, n, block_points, dtype=np.intp)
    lasts = np.minimum(starts + (block_points - 1), n - 1)
    values = resolved.values
    return Blocks(resolved.steps[::block_points], resolved.steps[lasts], lasts - starts + 1,
                  resolved.timestamps[lasts], np.fmin.reduceat(values, starts),
                  np.fmax.reduceat(values, starts), values[lasts])


def _reduce(blocks: Blocks, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]) -> Blocks:
    """Merge the runs ``[starts[i], ends[i])`` of ascending ``blocks`` (runs non-empty)."""
    last = ends - 1
    return Blocks(blocks.step_first[starts], blocks.step_last[last],
                  np.add.reduceat(blocks.count, starts), blocks.last_ts[last],
                  np.fmin.reduceat(blocks.minimum, starts),
                  np.fmax.reduceat(blocks.maximum, starts), blocks.last[last])


def pack_blocks(blocks: Blocks) -> bytes:
    """Little-endian records of :data:`BLOCK_RECORD`, one per block: the blobs of many chunks
    joined with ``b"".join`` unpack in one call."""
    records = np.empty(len(blocks), BLOCK_RECORD)
    for name, array in zip(_NAMES, _arrays(blocks)):
        records[name] = array
    return records.tobytes()


def unpack_blocks(blob: bytes) -> Blocks:
    """Views over ``blob`` (records of :func:`pack_blocks`, possibly several chunks' joined);
    ValueError when its length is not a whole number of records."""
    if len(blob) % BLOCK_RECORD.itemsize:
        raise ValueError("block aggregate blob has a bad length")
    records = np.frombuffer(blob, BLOCK_RECORD)
    return Blocks(*(records[name] for name in _NAMES))


def _arrays(blocks: Blocks) -> tuple[npt.NDArray[np.generic], ...]:
    return (blocks.step_first, blocks.step_last, blocks.count, blocks.last_ts, blocks.minimum,
            blocks.maximum, blocks.last)


def concat_blocks(parts: list[Blocks]) -> Blocks:
    """The parts one after another (callers keep them ascending and disjoint)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return point_blocks(Points(np.empty(0, np.int64), np.empty(0, np.float64),
                                   np.empty(0, np.int64)))
    return Blocks(*(np.concatenate(arrays) for arrays in zip(*(_arrays(p) for p in parts))))


def cell_edges(first: int, last: int, cells: int) -> npt.NDArray[np.uint64]:
    """Start offsets (from ``first``, as uint64) of ``cells`` equal cells of ``[first, last]``.

    Cell ``b`` starts at ``b * q + ceil(b * r / cells)`` where ``(q, r) = divmod(span, cells)``
    and ``span = last - first + 1`` (up to 2**64): exact integer arithmetic throughout.
    """
    if cells <= 1:
        return np.zeros(1, np.uint64)
    quotient, remainder = divmod(last - first + 1, cells)
    index = np.arange(cells, dtype=np.uint64)
    return index * np.uint64(quotient) + (index * np.uint64(remainder)
                                          + np.uint64(cells - 1)) // np.uint64(cells)


def cell_of(steps: I64, first: int, edges: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """The cell index of each step in ``[first, …]`` (steps must not lie below ``first``)."""
    offsets = steps.astype(np.uint64) - np.uint64(first & 0xFFFF_FFFF_FFFF_FFFF)
    return np.searchsorted(edges, offsets, side="right").astype(np.intp) - 1


def bucketize(blocks: Blocks, first: int, last: int, cells: int) -> Blocks:
    """Merge ascending ``blocks`` (inside ``[first, last]``) into at most ``cells`` buckets."""
    if len(blocks) == 0:
        return blocks
    cell = cell_of(blocks.step_last, first, cell_edges(first, last, cells))
    starts = np.flatnonzero(np.diff(cell, prepend=-1)).astype(np.intp)
    ends = np.append(starts[1:], len(blocks)).astype(np.intp)
    return _reduce(blocks, starts, ends)
