"""Chart reads of one series on PostgreSQL: stored block aggregates where they are exact, raw
points elsewhere (the plan and the merge are backend-neutral: :mod:`~rundial_collector.store.
chart_plan`, :mod:`~rundial_collector.store.chart_compose`; the design is described in
:mod:`rundial_collector.store.sqlite.chart_read`).

Raw reads: the chunks read whole come in one statement. The needed index ranges of partly
needed chunks (:class:`~rundial_collector.store.chart_plan.Segments`) come in one statement
too, as ``substring`` slices of the three columns: they are stored uncompressed and out of
line (``STORAGE EXTERNAL``), so a slice fetches only the TOAST pieces it covers, as SQLite's
incremental blob I/O reads only the bytes asked. A slice that fails its check
(:func:`~rundial_collector.store.chart_segments.segments_hold`), a chunk with duplicate steps
of its own and a small chunk are read whole and their needed points picked by step.
"""

from __future__ import annotations

from rundial_collector.store.chart_compose import (MIN_POINTS_PER_CELL, chart_answer,
                                                   chart_window, merged_blocks, needs_raw,
                                                   uses_aggregates)
from rundial_collector.store.chart_math import Blocks
from rundial_collector.store.chart_plan import Chunk, Segments, plan_chart, plan_raw
from rundial_collector.store.chart_segments import (POINT_COLUMN_BYTES, Columns, Part, RawRead,
                                                    joined_parts, segments_hold,
                                                    select_segments)
from rundial_collector.store.data_base import ChartSeries
from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.postgres.metrics_write import CHUNK_BLOBS, STEPSETS

SLICE_MIN_POINTS = 4096  # smaller partly needed chunks are read whole, with the whole ones
_TOTALS = ("SELECT sum(point_count), min(step_min), max(step_max) FROM metric_chunks"
           " WHERE series_id = $1")
_CHUNKS_IN = ("SELECT chunk_id, step_min, step_max, point_count, resolved_count, blocks"
              " FROM metric_chunks WHERE series_id = $1 AND step_max >= $2 AND step_min <= $3")
_WHOLE = ("SELECT c.chunk_id, " + CHUNK_BLOBS + " FROM metric_chunks c" + STEPSETS
          + " WHERE c.chunk_id = ANY($1::bigint[])")
# Byte slices (1-based offsets) of chunks; one row per slice, in the order asked.
# (COALESCE passes the stored value on as it is: the slice is still fetched alone.)
_SLICES = ("SELECT c.chunk_id, substring(COALESCE(c.steps, t.steps) FROM k.o FOR k.n),"
           " substring(c.vals FROM k.o FOR k.n),"
           " substring(COALESCE(c.timestamps, t.timestamps) FROM k.o FOR k.n)"
           " FROM unnest($1::bigint[], $2::int[], $3::int[]) WITH ORDINALITY AS k (id, o, n, i)"
           " JOIN metric_chunks c ON c.chunk_id = k.id" + STEPSETS + " ORDER BY k.i")


async def read_chart(conn: Conn, series_id: int, start_step: int | None, end_step: int | None,
                     cells: int, min_points_per_cell: int | None = MIN_POINTS_PER_CELL
                     ) -> ChartSeries:
    """The chart of one series over ``[start_step, end_step]`` (default: its whole range);
    aggregates are used when the range's chunks hold at least ``min_points_per_cell`` raw
    points per bucket (None: never)."""
    totals = await conn.fetchrow(_TOTALS, series_id)  # aggregates: always one row
    assert totals is not None
    window = chart_window((totals[0], totals[1], totals[2]), start_step, end_step)
    if isinstance(window, ChartSeries):
        return window
    _logged, first, last = window
    chunks: list[Chunk] = [(int(a), int(b), int(c), int(d), e, f)
                           for a, b, c, d, e, f in await conn.fetch(_CHUNKS_IN, series_id,
                                                                    first, last)]
    use = uses_aggregates(chunks, cells, min_points_per_cell)
    blocks, superseded = await _blocks(conn, chunks, first, last, use)
    if int(blocks.count.sum()) <= cells and use:
        blocks, superseded = await _blocks(conn, chunks, first, last, False)
    return chart_answer(window, cells, blocks, superseded)


async def _blocks(conn: Conn, chunks: list[Chunk], first: int, last: int,
                  use_aggregates: bool) -> tuple[Blocks, int]:
    """(blocks of the resolved points in ``[first, last]`` ascending, superseded raw points)."""
    plan = plan_chart(chunks, first, last) if use_aggregates else plan_raw(chunks)
    read = await raw_points(conn, plan.raw_ids, plan.segmented) if needs_raw(plan) else None
    return merged_blocks(plan, read, first, last)


async def raw_points(conn: Conn, whole_ids: list[int], segmented: list[Segments]) -> RawRead:
    """The raw points of the chunks ``whole_ids`` and of the needed parts of ``segmented``."""
    sliced = [s for s in segmented
              if s.by_index and s.spans and s.point_count >= SLICE_MIN_POINTS]
    parts: list[Part] = []
    picked = {s.chunk_id: s for s in segmented if s.spans}
    for segments, columns in zip(sliced, await _sliced_columns(conn, sliced)):
        if segments_hold(columns[0], segments):
            parts.append((segments.chunk_id, False, columns))
            del picked[segments.chunk_id]
    ids = sorted({*whole_ids, *picked})
    for row in await conn.fetch(_WHOLE, ids) if ids else []:
        chunk_id, columns = int(row[0]), (row[1], row[2], row[3])
        if chunk_id in picked:
            parts.append((chunk_id, False, select_segments(columns, picked[chunk_id])))
        else:
            parts.append((chunk_id, True, columns))
    return joined_parts(parts)


async def _sliced_columns(conn: Conn, sliced: list[Segments]) -> list[Columns]:
    """Per chunk of ``sliced``: its index ranges joined per column."""
    if not sliced:
        return []
    ids, offsets, sizes = [], [], []
    for segments in sliced:
        for start, end, _low, _high in segments.spans:
            ids.append(segments.chunk_id)
            offsets.append(start * POINT_COLUMN_BYTES + 1)
            sizes.append((end - start) * POINT_COLUMN_BYTES)
    found: dict[int, list[list[bytes]]] = {s.chunk_id: [[], [], []] for s in sliced}
    for row in await conn.fetch(_SLICES, ids, offsets, sizes):  # a chunk's slices in order
        for column, part in zip(found[int(row[0])], row[1:]):
            column.append(part)
    return [_joined_columns(found[s.chunk_id]) for s in sliced]


def _joined_columns(columns: list[list[bytes]]) -> Columns:
    steps, values, stamps = (b"".join(parts) for parts in columns)
    return steps, values, stamps
