"""Numpy series math: duplicate-step resolution, tail, downsampling and windows.

A *raw* series is the concatenation of its stored chunks in chunk-id (= commit) order, each
chunk's points in request order. :func:`resolve` turns it into a *resolved* series: one point
per step, ascending, where the **last** raw point of each step wins (later chunk, then later
item within a request). Every function here is pure, allocation-light and never creates a
Python object per point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")
# With at least this many points per bucket on average, downsampling finds each bucket's
# extremes slice by slice (about 2 us a bucket, no temporaries); with fewer, in whole-series
# vector operations.
SLICED_MIN_POINTS_PER_BUCKET = 512


@dataclass(frozen=True)
class Points:
    """Parallel arrays of one series (steps int64, values float64, timestamps int64 ms)."""

    steps: I64
    values: F64
    timestamps: I64

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def take(self, index: npt.NDArray[np.intp] | slice) -> Points:
        """The points at ``index`` (fancy index or slice), as a new :class:`Points`."""
        return Points(self.steps[index], self.values[index], self.timestamps[index])

    @property
    def nbytes(self) -> int:
        return int(self.steps.nbytes + self.values.nbytes + self.timestamps.nbytes)


EMPTY = Points(np.empty(0, _INT64), np.empty(0, _FLOAT64), np.empty(0, _INT64))


def pack(points: Points) -> tuple[bytes, bytes, bytes]:
    """Little-endian blobs (steps, values, timestamps) for storage."""
    return (np.ascontiguousarray(points.steps, _INT64).tobytes(),
            np.ascontiguousarray(points.values, _FLOAT64).tobytes(),
            np.ascontiguousarray(points.timestamps, _INT64).tobytes())


def unpack(steps: bytes, values: bytes, timestamps: bytes) -> Points:
    """Zero-copy views over concatenated blobs written by :func:`pack`."""
    return Points(np.frombuffer(steps, _INT64), np.frombuffer(values, _FLOAT64),
                  np.frombuffer(timestamps, _INT64))


def concat(first: Points, then: Points) -> Points:
    """``first`` followed by ``then`` (``then`` wins equal steps when resolved)."""
    if len(then) == 0:
        return first
    return Points(np.concatenate((first.steps, then.steps)),
                  np.concatenate((first.values, then.values)),
                  np.concatenate((first.timestamps, then.timestamps)))


def concat_all(parts: list[Points]) -> Points:
    """The parts one after another (one copy; the only part itself when there is one)."""
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    return Points(np.concatenate([p.steps for p in parts]),
                  np.concatenate([p.values for p in parts]),
                  np.concatenate([p.timestamps for p in parts]))


def resolve(raw: Points) -> Points:
    """One point per step, ascending; the last raw point of each step wins.

    Already-sorted input (the common case: steps logged in order) skips the sort.
    """
    n = len(raw)
    if n == 0:
        return EMPTY
    steps = raw.steps
    if n > 1 and bool(np.any(steps[1:] < steps[:-1])):
        order = np.argsort(steps, kind="stable")
        steps = steps[order]
    else:
        order = None
    keep = _last_of_each(steps)
    if order is None:
        return raw if bool(keep.all()) else raw.take(np.flatnonzero(keep))
    index = order[keep]
    return Points(steps[keep], raw.values[index], raw.timestamps[index])


def resolve_chunks(chunks: list[Points]) -> Points:
    """``resolve(concat_all(chunks))`` (chunks in chunk-id order), without first copying the
    chunks into one raw series: only the steps are concatenated (to find the winners) and, when
    the winners already come in chunk order (steps logged in order, re-logged steps only
    replacing earlier ones), every chunk gives its winning values and timestamps by one
    compress; otherwise they are gathered from the concatenation as :func:`resolve` does.
    """
    if len(chunks) <= 1:
        return resolve(chunks[0]) if chunks else EMPTY
    steps = np.concatenate([c.steps for c in chunks])
    if len(steps) > 1 and bool(np.any(steps[1:] < steps[:-1])):
        order = np.argsort(steps, kind="stable")
        ordered = steps[order]
        keep = _last_of_each(ordered)
        index = order[keep]
        if len(index) > 1 and bool(np.any(index[1:] <= index[:-1])):
            return Points(ordered[keep], np.concatenate([c.values for c in chunks])[index],
                          np.concatenate([c.timestamps for c in chunks])[index])
        winners = np.zeros(len(steps), dtype=bool)
        winners[index] = True
        return _compressed(chunks, ordered[keep], winners)
    keep = _last_of_each(steps)
    return _compressed(chunks, steps, None) if bool(keep.all()) else _compressed(
        chunks, steps[keep], keep)


def _last_of_each(ordered: I64) -> npt.NDArray[np.bool_]:
    """Which elements of ascending ``ordered`` are the last of their run of equal steps."""
    keep = np.empty(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[:-1])
    keep[-1:] = True
    return keep


def _compressed(chunks: list[Points], steps: I64, winners: npt.NDArray[np.bool_] | None
                ) -> Points:
    """``steps`` with the values and timestamps of the chunks' points marked in ``winners``
    (a mask over the chunks' concatenation; None: all of them), in chunk order."""
    if winners is None:
        return Points(steps, np.concatenate([c.values for c in chunks]),
                      np.concatenate([c.timestamps for c in chunks]))
    bounds = np.cumsum([0] + [len(c) for c in chunks]).tolist()
    masks = [winners[a:b] for a, b in zip(bounds, bounds[1:])]
    return Points(steps, np.concatenate([c.values[m] for c, m in zip(chunks, masks)]),
                  np.concatenate([c.timestamps[m] for c, m in zip(chunks, masks)]))


def tail(points: Points, n: int) -> Points:
    """The last ``n`` points (by step) of a resolved series."""
    return points if len(points) <= n else points.take(slice(len(points) - n, None))


def after_step(points: Points, step: int) -> Points:
    """Points of a resolved series whose step is strictly greater than ``step``."""
    start = int(np.searchsorted(points.steps, step, side="right"))
    return points if start == 0 else points.take(slice(start, None))


def in_window(points: Points, start_ms: int, end_ms: int) -> Points:
    """Points whose timestamp lies in ``[start_ms, end_ms]`` (inclusive), order kept."""
    ts = points.timestamps
    mask = (ts >= start_ms) & (ts <= end_ms)
    return points if bool(mask.all()) else points.take(np.flatnonzero(mask))


def downsample(points: Points, max_points: int) -> Points:
    """At most ``max_points`` points keeping each bucket's min, max and last point.

    The step range is cut into ``max_points // 3`` equal buckets; a bucket contributes the
    point with the smallest value, the largest value and the highest step (duplicates merged),
    so spikes are never hidden and the global min and max are always present. With fewer than
    three points allowed: 2 → global min and max, 1 → the last point. Values are finite (ingest
    stores non-finite values as no point); of equal extremes the first point is taken.
    """
    n = len(points)
    if n <= max_points:
        return points
    if max_points < 3:
        return _tiny(points, max_points)
    starts = _bucket_starts(points.steps, max_points // 3)
    ends = np.append(starts[1:], n)
    if n >= SLICED_MIN_POINTS_PER_BUCKET * len(starts):
        mins, maxs = _extremes_by_slice(points.values, starts, ends)
    else:
        mins = _first_match(points.values, np.minimum.reduceat(points.values, starts), starts,
                            ends)
        maxs = _first_match(points.values, np.maximum.reduceat(points.values, starts), starts,
                            ends)
    return points.take(_sorted_distinct(np.concatenate((mins, maxs, ends - 1))))


def _extremes_by_slice(values: F64, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
                       ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(index of the first minimum, of the first maximum) of each bucket, one ``argmin`` and
    one ``argmax`` per bucket's slice: no temporary array the size of the series (in a freshly
    started process every new page of such a temporary costs a page fault)."""
    mins = np.empty(len(starts), dtype=np.intp)
    maxs = np.empty(len(starts), dtype=np.intp)
    for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        bucket = values[start:end]
        mins[i] = start + int(bucket.argmin())
        maxs[i] = start + int(bucket.argmax())
    return mins, maxs


def _tiny(points: Points, max_points: int) -> Points:
    if max_points <= 1:
        return points.take(slice(len(points) - 1, None))
    pair = sorted({int(np.argmin(points.values)), int(np.argmax(points.values))})
    return points.take(np.array(pair, dtype=np.intp))


def _bucket_starts(steps: I64, buckets: int) -> npt.NDArray[np.intp]:
    """Start index of each non-empty bucket of an equal split of ``[steps[0], steps[-1]]``.

    Exact for every int64 step: bucket ``b`` starts at the first step ``s`` with
    ``(s - steps[0]) * buckets >= b * span`` (``span = steps[-1] - steps[0] + 1``), i.e. at
    offset ``b * (span // buckets) + ceil(b * (span % buckets) / buckets)`` from ``steps[0]``,
    computed in unsigned 64-bit integers, so steps closer together than float64 can tell apart
    still get their own buckets. Each offset is below ``span``, so ``steps[0]`` plus it is an
    int64 step (added modulo 2**64, then read as int64) and the steps are searched as they are.
    """
    if buckets == 1:
        return np.zeros(1, dtype=np.intp)
    first = np.uint64(int(steps[0]) % 2**64)
    quotient, remainder = divmod(int(steps[-1]) - int(steps[0]) + 1, buckets)
    index = np.arange(buckets, dtype=np.uint64)
    offsets = index * np.uint64(quotient) + (index * np.uint64(remainder)
                                             + np.uint64(buckets - 1)) // np.uint64(buckets)
    edges = (offsets + first).view(np.int64)
    starts = np.searchsorted(steps, edges, side="left")
    return _sorted_distinct(starts[starts < steps.shape[0]])


def _sorted_distinct(index: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """The distinct values of ``index``, ascending: ``np.unique`` without its first call's
    import of ``numpy.ma`` (~0.1 s that the first chart read after a restart would pay)."""
    ordered = np.sort(index)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _first_match(values: F64, targets: F64, starts: npt.NDArray[np.intp],
                 ends: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Index of the first element of each bucket equal to that bucket's target value."""
    counts = ends - starts
    hits = np.flatnonzero(values == np.repeat(targets, counts))
    return hits[np.searchsorted(hits, starts, side="left")]
