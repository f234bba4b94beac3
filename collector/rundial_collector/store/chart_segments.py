"""Raw points of a chart read, backend-neutral: the parts a store read (whole chunks, index
ranges of partly needed chunks) and how they are checked and joined.

A partly needed chunk (:class:`~rundial_collector.store.chart_plan.Segments`) may be read by
index ranges, one per run of needed blocks and column. Each range is checked before use
(:func:`segments_hold`): its steps must rise strictly from the run's first step to its last.
The chunk has no duplicate steps of its own, so its resolved points in that step range are
exactly as many as the range holds, and a strictly rising range from the first to the last of
them is all of them. A chunk whose range fails (logged out of order) is read whole instead and
its needed points picked by step (:func:`select_segments`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rundial_collector.store.chart_plan import Segments
from rundial_collector.store.series_math import EMPTY, Points, unpack

POINT_COLUMN_BYTES = 8  # every stored column holds 8 bytes per point
Columns = tuple[bytes, bytes, bytes]  # steps, values, timestamps
Part = tuple[int, bool, Columns]  # chunk id, read whole, its columns (or the needed part)


@dataclass(frozen=True)
class RawRead:
    """Raw points in chunk-id order; ``whole`` marks those of the chunks read whole."""

    points: Points
    whole: npt.NDArray[np.bool_]


def joined_parts(parts: list[Part]) -> RawRead:
    """The parts' points in chunk-id order (ingest order), marked whole or not."""
    if not parts:
        return RawRead(EMPTY, np.zeros(0, dtype=bool))
    parts = sorted(parts, key=lambda part: part[0])
    steps, values, stamps = zip(*(columns for _id, _whole, columns in parts))
    marks = np.repeat(np.array([w for _id, w, _c in parts], dtype=bool),
                      [len(c[0]) // POINT_COLUMN_BYTES for _id, _w, c in parts])
    return RawRead(unpack(b"".join(steps), b"".join(values), b"".join(stamps)), marks)


def select_segments(columns: Columns, segments: Segments) -> Columns:
    """The points of a chunk's whole columns inside the step ranges of ``segments``."""
    steps, values, stamps = (np.frombuffer(column, "<i8") for column in columns)
    index = np.flatnonzero(in_segments(steps, segments))
    return steps[index].tobytes(), values[index].tobytes(), stamps[index].tobytes()


def in_segments(steps: npt.NDArray[np.int64], segments: Segments) -> npt.NDArray[np.bool_]:
    """Whether each step lies inside one of the step ranges of ``segments``."""
    inside = np.zeros(len(steps), dtype=bool)
    for _start, _end, low, high in segments.spans:
        inside |= (steps >= low) & (steps <= high)
    return inside


def split_ranges(joined: bytes, segments: Segments) -> Iterable[bytes]:
    """One column's index ranges of ``segments``, read joined, split back per range."""
    offset = 0
    for start, end, _low, _high in segments.spans:
        size = (end - start) * POINT_COLUMN_BYTES
        yield joined[offset:offset + size]
        offset += size


def segments_hold(steps: bytes, segments: Segments) -> bool:
    """Whether the joined steps read at the index ranges of ``segments`` are exactly the raw
    points of their step ranges (each range strictly rising from its first to its last step)."""
    for (start, end, low, high), part in zip(segments.spans, split_ranges(steps, segments)):
        found = np.frombuffer(part, "<i8")
        if (len(found) != end - start or int(found[0]) != low or int(found[-1]) != high
                or bool(np.any(found[1:] <= found[:-1]))):
            return False
    return True
