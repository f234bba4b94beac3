"""Chart reads of series whose chunks share some steps (re-logged steps, resumed runs).

Only the chunks that really share steps are read raw, and of those only the blocks around the
shared steps; every answer is checked against the naive model (resolve every raw point in
ingest order, then bucket) of ``test_chart_read``.
"""

from __future__ import annotations

import math
import sqlite3
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.data_base import ChartSeries, SeriesChunk
from rundial_collector.store.series_math import Points
from rundial_collector.store.sqlite import chart_raw
from rundial_collector.store.sqlite.metrics import METRICS_SCHEMA, write_chunks
from tests.collector.series_model import Point
from tests.collector.test_chart_read import KEY, Chunk, chart, check, store_with

Request = list[Chunk]  # the chunks of one ingest request (consecutive chunk ids)


def store_requests(requests: list[Request]) -> tuple[sqlite3.Connection, list[Point]]:
    """A database written one request (several chunks of the series) at a time."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(METRICS_SCHEMA[0])
    raw: list[Point] = []
    number = 0
    for request in requests:
        batch = []
        for chunk in request:
            stamps = [number * 1000 + i for i in range(len(chunk))]
            number += 1
            raw += [(s, v, t) for (s, v), t in zip(chunk, stamps)]
            batch.append(SeriesChunk(*KEY, Points(np.array([s for s, _ in chunk], np.int64),
                                                  np.array([v for _, v in chunk], np.float64),
                                                  np.array(stamps, np.int64))))
        write_chunks(conn, batch, now_ms=0)
    return conn, raw


values = st.one_of(st.floats(-1e6, 1e6), st.just(math.nan))


@st.composite
def relogged(draw: st.DrawFn) -> tuple[list[Request], int, int, int]:
    """Ascending steps cut into chunks, then some steps re-logged in later chunks (a few
    steps back, a whole range as a resumed run does, or scattered), chunks sometimes shuffled,
    grouped into requests; plus a zoom range and a bucket count."""
    total = draw(st.integers(1, 700))
    stride = draw(st.sampled_from([1, 1, 3]))
    steps = [i * stride for i in range(total)]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, total - 1)), max_size=12)))
    chunks = [steps[a:b] for a, b in zip([0, *cuts], [*cuts, total]) if b > a]
    logged: list[list[int]] = []
    for chunk in chunks:
        extra = draw(st.sampled_from(["none", "none", "back", "range", "scatter", "self"]))
        relog: list[int] = []
        if extra == "back" and logged:
            relog = [s - stride * draw(st.integers(1, 40)) for s in chunk[::10]]
        elif extra == "range":
            low = draw(st.integers(0, len(steps) - 1))
            relog = steps[low:low + draw(st.integers(1, 120))]
        elif extra == "scatter":
            relog = draw(st.lists(st.sampled_from(steps), max_size=20))
        elif extra == "self":
            relog = chunk[::7]
        merged = [s for s in relog if s >= 0] + chunk if extra == "range" else chunk + [
            s for s in relog if s >= 0]
        if draw(st.integers(0, 5)) == 0:
            merged = draw(st.permutations(merged))
        logged.append(merged)
    with_values = [[(s, draw(values)) for s in chunk] for chunk in logged]
    requests: list[Request] = []
    while with_values:
        size = draw(st.integers(1, 3))
        requests.append(with_values[:size])
        with_values = with_values[size:]
    top = steps[-1]
    start = draw(st.integers(-5, top + 5))
    end = draw(st.integers(start, top + 10))
    return requests, start, end, draw(st.integers(1, 40))


def blob_reads_from(points: int) -> mock._patch[int]:
    """Partly needed chunks of at least ``points`` points read through blob I/O."""
    return mock.patch.object(chart_raw, "BLOB_MIN_POINTS", points)


@settings(max_examples=100, deadline=None)
@given(relogged(), st.sampled_from([0, 300, 10**9]))
def test_relogged_steps_chart_like_the_naive_model(
        case: tuple[list[Request], int, int, int], blob_min_points: int) -> None:
    """Buckets and raw replies, full range and zoomed, from aggregates and from raw points,
    reading partly needed chunks through blob I/O, as whole rows, or a mix."""
    requests, start, end, cells = case
    conn, raw = store_requests(requests)
    with blob_reads_from(blob_min_points):
        check(chart(conn, None, None, cells, 0), raw, None, None, cells, exact_cells=False)
        check(chart(conn, start, end, cells, 0), raw, start, end, cells, exact_cells=False)
    check(chart(conn, start, end, cells, None), raw, start, end, cells, exact_cells=True)


def whole_chunk_reads(conn: sqlite3.Connection, cells: int, bounds: tuple[int | None, int | None]
                      ) -> tuple[list[str], ChartSeries]:
    """(the statements reading whole chunk rows, the chart) of a read with blob I/O on."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    with blob_reads_from(0):
        found = chart(conn, bounds[0], bounds[1], cells, 0)
    conn.set_trace_callback(None)
    return [s for s in statements if "SELECT" in s and "steps" in s], found


def test_steps_relogged_across_chunk_boundaries_read_no_whole_chunk() -> None:
    """Every 10th step re-logged 20 steps later, so each chunk re-logs a few steps of the one
    before (every chunk range overlaps its neighbours): only the blocks around the shared
    steps are read, through blob I/O, and the chart is exact."""
    logged: list[tuple[int, float]] = []
    for step in range(4000):
        logged.append((step, float(step % 13)))
        if step % 10 == 9 and step >= 20:
            logged.append((step - 20, -float(step)))
    chunks = [logged[i:i + 500] for i in range(0, len(logged), 500)]
    conn, raw = store_with(chunks)
    reads, _found = whole_chunk_reads(conn, 50, (None, None))
    assert not reads, reads
    for blob_min_points in (0, 10**9):
        with blob_reads_from(blob_min_points):
            check(chart(conn, None, None, 50, 0), raw, None, None, 50, exact_cells=False)
            check(chart(conn, 1234, 2345, 20, 0), raw, 1234, 2345, 20, exact_cells=False)


def test_sorted_chunks_sharing_a_few_steps_are_read_by_index() -> None:
    """Chunks without duplicates of their own whose neighbours overlap by a few steps: only
    index ranges of blocks are read (no whole chunk), exactly."""
    chunks = [[(s, float(s * k)) for s in range(k * 1000 - 5, (k + 1) * 1000)]
              for k in range(1, 8)]
    conn, raw = store_with(chunks)
    reads, found = whole_chunk_reads(conn, 40, (None, None))
    assert not reads, reads
    check(found, raw, None, None, 40, exact_cells=False)


def test_a_shuffled_chunk_without_duplicates_is_located_by_step() -> None:
    """A chunk logged out of order fails the index check; its needed points are then found
    from its steps column (no whole-row read), exactly."""
    rng = np.random.default_rng(7)
    first = [(int(s), float(s)) for s in rng.permutation(2000)]
    later = [(s, -1.0) for s in range(1990, 2100, 3)]
    conn, raw = store_with([first, later])
    reads, found = whole_chunk_reads(conn, 30, (None, None))
    assert not reads, reads
    check(found, raw, None, None, 30, exact_cells=False)
