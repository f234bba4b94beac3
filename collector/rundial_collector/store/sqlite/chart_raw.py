"""Raw points of a chart read: whole chunks, or just index ranges of a chunk (blob I/O).

A partly used chunk (:class:`~rundial_collector.store.chart_plan.Segments`) is read
through SQLite's incremental blob I/O, one byte range per run of needed blocks and column, so
a chunk that shares a few steps with a neighbour costs those blocks, not its whole blobs. Each
range is checked before use: its steps must rise strictly from the run's first step to its
last. The chunk has no duplicate steps of its own, so its resolved points in that step range
are exactly as many as the range holds, and a strictly rising range from the first to the last
of them is all of them — the raw points of those steps. A chunk of fewer than :data:`BLOB_MIN_POINTS`
points is read whole with the other small ones in one statement (cheaper than opening its
blobs) and its needed points picked by step. A chunk whose range fails (one logged
out of order), or that holds duplicate steps of its own, is located instead: its steps column
is read whole, its values and wall times only over the index window of the needed steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np

from rundial_collector.store.chart_plan import Segments
from rundial_collector.store.chart_segments import (POINT_COLUMN_BYTES, Columns, Part, RawRead,
                                                    in_segments, joined_parts, segments_hold,
                                                    select_segments)

BLOB_MIN_POINTS = 4096  # smaller partly needed chunks are read whole, in one statement
_IN_BATCH = 500  # chunk ids per raw read (well under SQLite's bound parameter limit)
_BYTES = POINT_COLUMN_BYTES
_Columns = Columns


def raw_points(conn: sqlite3.Connection, whole_ids: list[int], segmented: list[Segments]
               ) -> RawRead:
    """The raw points of the chunks ``whole_ids`` and of the needed parts of ``segmented``."""
    parts: list[Part] = []
    small = {s.chunk_id: s for s in segmented if s.point_count < BLOB_MIN_POINTS}
    for segments in segmented:
        if segments.chunk_id in small:
            continue
        columns = _segment_columns(conn, segments) if segments.by_index else None
        columns = columns or _located_columns(conn, segments)
        parts.append((segments.chunk_id, False, columns))
    for chunk_id, columns in _whole_columns(conn, sorted([*whole_ids, *small])):
        if chunk_id in small:
            parts.append((chunk_id, False, select_segments(columns, small[chunk_id])))
        else:
            parts.append((chunk_id, True, columns))
    return joined_parts(parts)


def _whole_columns(conn: sqlite3.Connection, chunk_ids: list[int]
                   ) -> Iterable[tuple[int, _Columns]]:
    """(chunk id, its three blobs) of ``chunk_ids`` (ascending)."""
    for i in range(0, len(chunk_ids), _IN_BATCH):
        batch = chunk_ids[i:i + _IN_BATCH]
        marks = ",".join("?" * len(batch))
        rows = conn.execute("SELECT chunk_id, steps, vals, timestamps FROM metric_chunks"
                            " WHERE chunk_id IN (" + marks + ")", batch).fetchall()
        for chunk_id, steps, values, stamps in rows:
            yield int(chunk_id), (steps, values, stamps)


def _segment_columns(conn: sqlite3.Connection, segments: Segments) -> _Columns | None:
    """The index ranges of ``segments`` joined per column; None when a range fails its check
    (the caller then locates the points by step), or the row is gone."""
    if not segments.spans:
        return b"", b"", b""
    try:
        steps = _ranges(conn, "steps", segments.chunk_id, segments.spans)
        if not segments_hold(steps, segments):
            return None
        return (steps, _ranges(conn, "vals", segments.chunk_id, segments.spans),
                _ranges(conn, "timestamps", segments.chunk_id, segments.spans))
    except sqlite3.OperationalError:
        return None


def _located_columns(conn: sqlite3.Connection, segments: Segments) -> _Columns:
    """The points of a chunk inside the step ranges of ``segments``: its steps read whole, its
    values and wall times only over the index window holding those points. Nothing when the
    row is gone (deleted with its run meanwhile)."""
    try:
        with conn.blobopen("metric_chunks", "steps", segments.chunk_id, readonly=True) as blob:
            steps = np.frombuffer(blob.read(), "<i8")
        index = np.flatnonzero(in_segments(steps, segments))
        if not len(index):
            return b"", b"", b""
        window = [(int(index[0]), int(index[-1]) + 1, 0, 0)]
        shifted = index - index[0]
        values, stamps = (np.frombuffer(_ranges(conn, column, segments.chunk_id, window),
                                        "<i8")[shifted].tobytes()
                          for column in ("vals", "timestamps"))
        return steps[index].tobytes(), values, stamps
    except sqlite3.OperationalError:
        return b"", b"", b""


def _ranges(conn: sqlite3.Connection, column: str, chunk_id: int,
            spans: list[tuple[int, int, int, int]]) -> bytes:
    """The index ranges ``spans`` of one column of a chunk, joined."""
    parts = []
    with conn.blobopen("metric_chunks", column, chunk_id, readonly=True) as blob:
        for start, end, _low, _high in spans:
            blob.seek(start * _BYTES)
            parts.append(blob.read((end - start) * _BYTES))
    return b"".join(parts)
