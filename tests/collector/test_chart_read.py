"""Chart reads (store level) against a naive model of the resolved series (last ingest wins).

The model resolves every raw point in ingest order with plain Python ints, cuts the step range
into equal cells with exact integer arithmetic, and checks each bucket the store returns:
buckets are disjoint and ascending, at most one per cell (the cell of their last step), and
their count, min, max (NaN ignored unless all NaN), last value and last wall time are exact for
the resolved points between their ``stepStart`` and ``stepEnd``. Read from raw points only
(aggregates off), buckets must be exactly the model's cells.
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.data_base import ChartSeries, SeriesChunk
from rundial_collector.store.series_math import Points
from rundial_collector.store.sqlite.chart_read import read_chart
from rundial_collector.store.sqlite.metrics import METRICS_SCHEMA, series_id_of, write_chunks
from tests.collector.series_model import Point, resolve_model

KEY = ("prj", "run", "loss")
MIN64, MAX64 = -(2**63), 2**63 - 1
Chunk = list[tuple[int, float]]


def store_with(chunks: list[Chunk]) -> tuple[sqlite3.Connection, list[Point]]:
    """A database holding one chunk per list, and the raw points in ingest order."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(METRICS_SCHEMA[0])
    raw: list[Point] = []
    for number, chunk in enumerate(chunks):
        stamps = [number * 1000 + i for i in range(len(chunk))]
        raw += [(s, v, t) for (s, v), t in zip(chunk, stamps)]
        points = Points(np.array([s for s, _ in chunk], np.int64),
                        np.array([v for _, v in chunk], np.float64), np.array(stamps, np.int64))
        write_chunks(conn, [SeriesChunk(*KEY, points)], now_ms=0)
    return conn, raw


def chart(conn: sqlite3.Connection, start: int | None, end: int | None, cells: int,
          min_points_per_cell: int | None) -> ChartSeries:
    series_id = series_id_of(conn, *KEY)
    assert series_id is not None
    return read_chart(conn, series_id, start, end, cells, min_points_per_cell)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def nan_min(values: list[float], pick: type[min] | type[max]) -> float:
    real = [v for v in values if not math.isnan(v)]
    return pick(real) if real else math.nan


def cell(step: int, first: int, last: int, cells: int) -> int:
    return (step - first) * cells // (last - first + 1)


def check(found: ChartSeries, raw: list[Point], start: int | None, end: int | None,
          cells: int, exact_cells: bool) -> None:
    resolved = resolve_model(raw)
    first = min(s for s, _, _ in raw) if start is None else start
    last = max(s for s, _, _ in raw) if end is None else end
    inside = [p for p in resolved if first <= p[0] <= last]
    raw_inside = sum(1 for p in raw if first <= p[0] <= last)
    assert (found.found, found.logged, found.in_range) == (True, len(raw), len(inside))
    assert found.superseded == raw_inside - len(inside)
    if len(inside) <= cells:
        assert found.buckets is None and found.raw is not None
        got = list(zip(found.raw.steps.tolist(), found.raw.values.tolist(),
                       found.raw.timestamps.tolist()))
        assert len(got) == len(inside)
        assert all(g[0] == w[0] and same(g[1], w[1]) and g[2] == w[2]
                   for g, w in zip(got, inside))
        return
    b = found.buckets
    assert b is not None and found.raw is None
    assert int(b.count.sum()) == len(inside)
    cell_ids = [cell(s, first, last, cells) for s in b.step_last.tolist()]
    assert cell_ids == sorted(set(cell_ids)) and len(cell_ids) <= cells
    previous_end = first - 1
    for i in range(len(b)):
        lo, hi = int(b.step_first[i]), int(b.step_last[i])
        assert previous_end < lo <= hi <= last
        previous_end = hi
        members = [p for p in inside if lo <= p[0] <= hi]
        assert members[0][0] == lo and members[-1][0] == hi
        values = [v for _, v, _ in members]
        assert int(b.count[i]) == len(members)
        assert same(float(b.minimum[i]), nan_min(values, min))
        assert same(float(b.maximum[i]), nan_min(values, max))
        assert same(float(b.last[i]), values[-1]) and int(b.last_ts[i]) == members[-1][2]
        if exact_cells:
            assert {cell(p[0], first, last, cells) for p in members} == {cell_ids[i]}
            assert len([p for p in inside if cell(p[0], first, last, cells) == cell_ids[i]]) \
                == len(members)


values = st.one_of(st.floats(-1e6, 1e6), st.just(math.nan))


@st.composite
def series(draw: st.DrawFn) -> tuple[list[Chunk], int | None, int | None, int]:
    base = draw(st.sampled_from([0, MIN64, MAX64 - 400, -200]))
    offsets = st.integers(0, 400)
    chunk = st.lists(st.tuples(offsets, values), min_size=1, max_size=90)
    # mostly ascending chunks (as training loops log), some shuffled or overlapping
    chunks = draw(st.lists(chunk, min_size=1, max_size=8))
    if draw(st.booleans()):
        chunks = [sorted(c, key=lambda p: p[0]) for c in chunks]
    start = draw(st.one_of(st.none(), offsets))
    end = draw(st.one_of(st.none(), offsets))
    if start is not None and end is not None and start > end:
        start, end = end, start
    cells = draw(st.integers(1, 40))
    shift = [[(base + s, v) for s, v in c] for c in chunks]
    return (shift, None if start is None else base + start, None if end is None else base + end,
            cells)


@settings(max_examples=150, deadline=None)
@given(series())
def test_buckets_from_aggregates_are_exact(case: tuple[list[Chunk], int | None, int | None,
                                                       int]) -> None:
    chunks, start, end, cells = case
    conn, raw = store_with(chunks)
    check(chart(conn, start, end, cells, 0), raw, start, end, cells, exact_cells=False)


@settings(max_examples=200, deadline=None)
@given(series())
def test_buckets_from_raw_points_are_the_model_cells(
        case: tuple[list[Chunk], int | None, int | None, int]) -> None:
    chunks, start, end, cells = case
    conn, raw = store_with(chunks)
    check(chart(conn, start, end, cells, None), raw, start, end, cells, exact_cells=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 10**6), values), min_size=1, max_size=90),
                min_size=1, max_size=6), st.integers(1, 30))
def test_disjoint_ascending_chunks_use_their_aggregates_exactly(chunks: list[Chunk],
                                                                cells: int) -> None:
    """Chunks that do not overlap (the common case) are summarised from stored blocks."""
    ordered: list[Chunk] = []
    offset = 0
    for c in chunks:
        steps = sorted({s for s, _ in c})
        ordered.append([(offset + s, v) for s, (_, v) in zip(steps, c)])
        offset += 10**6 + 1
    conn, raw = store_with(ordered)
    check(chart(conn, None, None, cells, 0), raw, None, None, cells, exact_cells=False)


def test_steps_at_both_int64_limits() -> None:
    chunks = [[(MIN64, 1.0), (MIN64 + 1, 5.0), (0, -3.0)], [(MAX64 - 1, 2.0), (MAX64, 7.0)]]
    conn, raw = store_with(chunks)
    for cells in (1, 2, 3):
        for floor in (0, None):
            check(chart(conn, None, None, cells, floor), raw, None, None, cells, floor is None)


def test_a_million_identical_steps_resolve_to_one_point() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(METRICS_SCHEMA[0])
    for part in range(10):
        values = np.arange(part * 100_000, (part + 1) * 100_000, dtype=np.float64)
        points = Points(np.full(100_000, 7, np.int64), values, np.zeros(100_000, np.int64))
        write_chunks(conn, [SeriesChunk(*KEY, points)], now_ms=0)
    found = chart(conn, None, None, 1000, 0)
    assert found.raw is not None and found.buckets is None
    assert found.raw.steps.tolist() == [7] and found.raw.values.tolist() == [999_999.0]
    assert (found.logged, found.in_range, found.superseded) == (1_000_000, 1, 999_999)


def test_nan_only_buckets_and_a_single_point() -> None:
    conn, raw = store_with([[(s, math.nan) for s in range(200)] + [(500, 1.0)]])
    found = chart(conn, None, None, 5, 0)
    check(found, raw, None, None, 5, exact_cells=False)
    assert found.buckets is not None and math.isnan(float(found.buckets.minimum[0]))
    conn, raw = store_with([[(3, 2.5)]])
    single = chart(conn, None, None, 1000, 0)
    assert single.raw is not None and single.raw.steps.tolist() == [3]


def test_an_empty_range_and_an_unknown_series() -> None:
    conn, _ = store_with([[(s, 1.0) for s in range(10)]])
    found = chart(conn, 20, 30, 10, 0)
    assert found.found and found.in_range == 0 and found.raw is not None and not len(found.raw)
    assert series_id_of(conn, "prj", "run", "other") is None


def test_a_database_without_aggregate_rows_is_read_raw() -> None:
    """Chunks stored before aggregates existed (no ``metric_chunk_aggs`` row) still chart."""
    chunks = [[(s, float(s % 17)) for s in range(i * 300, (i + 1) * 300)] for i in range(4)]
    conn, raw = store_with(chunks)
    conn.execute("DELETE FROM metric_chunk_aggs")
    check(chart(conn, None, None, 7, 0), raw, None, None, 7, exact_cells=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 120), st.booleans()),
                min_size=1, max_size=8), st.integers(1, 30), st.integers(0, 2**62))
def test_resumed_runs_relogging_step_ranges(spans: list[tuple[int, int, bool]], cells: int,
                                            seed: int) -> None:
    """Chunks of contiguous step ranges (a run resumed from a checkpoint re-logs some), a few
    with holes: the later dense chunks' blocks are used and mask what they supersede."""
    rng = np.random.default_rng(seed)
    chunks = []
    for low, length, holes in spans:
        steps = [s for s in range(low, low + length) if not holes or s % 7]
        chunks.append([(s, float(rng.normal())) for s in steps] or [(low, 0.0)])
    conn, raw = store_with(chunks)
    check(chart(conn, None, None, cells, 0), raw, None, None, cells, exact_cells=False)
    check(chart(conn, 50, 250, cells, 0), raw, 50, 250, cells, exact_cells=False)


def test_a_resumed_run_reads_only_the_superseded_chunk_raw() -> None:
    """Steps 0-9,999 then 5,000-9,999 re-logged: the later chunk's blocks are used, of the
    earlier chunk its unmasked blocks, and the masked part is never read; still exact."""
    chunks = [[(s, float(s)) for s in range(10_000)], [(s, -float(s)) for s in range(5000, 10_000)]]
    conn, raw = store_with(chunks)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = chart(conn, None, None, 100, 0)
    check(found, raw, None, None, 100, exact_cells=False)
    assert not [s for s in statements if "SELECT" in s and "steps" in s]  # chunk 1: blob I/O
    assert found.superseded == 5000


def test_a_chunk_wholly_relogged_later_is_not_read_at_all() -> None:
    chunks = [[(s, float(s)) for s in range(10_000)], [(s, -float(s)) for s in range(10_000)]]
    conn, raw = store_with(chunks)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = chart(conn, None, None, 100, 0)
    check(found, raw, None, None, 100, exact_cells=False)
    assert not [s for s in statements if "SELECT" in s and "steps" in s]
    assert found.superseded == 10_000
