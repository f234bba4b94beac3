"""One page of a resolved series, read without loading the whole series.

A page is "the first ``limit`` resolved points with a step above ``after_step``". Reading the
whole series for each page makes an export of a series that does not fit the resolved-series
cache quadratic (every page re-reads and re-resolves every point). Here only the chunks that
can hold a step in ``(after_step, upper]`` are read — a chunk can only if
``step_min <= upper`` and ``step_max > after_step`` — and resolved; within that range the
answer is exact, because every stored point of such a step is in those chunks and chunk-id
order is ingest order. ``upper`` starts where the chunks' point counts, walked by
``step_min``, reach ``limit`` and doubles that budget until the page is full or no chunk is
left above it.

Memory per call is bounded by the chunks overlapping the range (at most the points of the
widest window tried), not by the series' length.
"""

from __future__ import annotations

import sqlite3

from rundial_collector.store.series_math import EMPTY, Points, unpack
from rundial_collector.store.series_pages import resolved_between, windows

_RANK_FILTER = " AND (? IS NULL OR writer_rank = ?)"


def chunk_ranges(conn: sqlite3.Connection, series_id: int, rank: int | None,
                 after: int) -> list[tuple[int, int, int]]:
    """``(step_min, step_max, point_count)`` of the chunks holding steps above ``after``."""
    rows = conn.execute(
        "SELECT step_min, step_max, point_count FROM metric_chunks WHERE series_id = ?"
        " AND step_max > ?" + _RANK_FILTER + " ORDER BY step_min",
        (series_id, after, rank, rank)).fetchall()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def read_page(conn: sqlite3.Connection, series_id: int, rank: int | None, after: int,
              limit: int) -> Points:
    """Up to ``limit`` resolved points with steps above ``after``, ascending."""
    ranges = chunk_ranges(conn, series_id, rank, after)
    if not ranges or limit <= 0:
        return EMPTY
    points = EMPTY
    for upper in windows(ranges, limit):
        points = _resolved_between(conn, series_id, rank, after, upper)
        if len(points) >= limit:
            break
    return points.take(slice(0, limit))


def _resolved_between(conn: sqlite3.Connection, series_id: int, rank: int | None,
                      after: int, upper: int) -> Points:
    """Resolved points with ``after < step <= upper``."""
    rows = conn.execute(
        "SELECT steps, vals, timestamps FROM metric_chunks WHERE series_id = ? AND step_max > ?"
        " AND step_min <= ?" + _RANK_FILTER + " ORDER BY chunk_id",
        (series_id, after, upper, rank, rank)).fetchall()
    if not rows:
        return EMPTY
    steps, values, stamps = zip(*rows)
    return resolved_between(unpack(b"".join(steps), b"".join(values), b"".join(stamps)), after,
                            upper)
