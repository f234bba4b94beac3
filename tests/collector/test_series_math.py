"""Unit tests of the numpy series math and the cached series reader (property tests)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store import series_math
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.series_math import (Points, after_step, concat_all, downsample,
                                                 in_window, pack, resolve, resolve_chunks, tail,
                                                 unpack)
from rundial_collector.store.sqlite.data import DATA_SCHEMA
from rundial_collector.store.sqlite.metrics import MetricReader, write_chunks
from tests.collector.series_model import downsample_model, resolve_model

raw_series = st.lists(st.tuples(st.integers(0, 60), st.floats(-1e6, 1e6),
                                st.integers(0, 10**6)), max_size=300)


def _points(items: list[tuple[int, float, int]]) -> Points:
    return Points(np.array([s for s, _, _ in items], np.int64),
                  np.array([v for _, v, _ in items], np.float64),
                  np.array([t for _, _, t in items], np.int64))


def _as_list(points: Points) -> list[tuple[int, float, int]]:
    return list(zip(points.steps.tolist(), points.values.tolist(), points.timestamps.tolist()))


@given(raw_series)
def test_resolve_matches_last_write_wins_dict(items: list[tuple[int, float, int]]) -> None:
    """Resolving equals a dict where every later raw point overwrites its step, sorted by step."""
    reference: dict[int, tuple[float, int]] = {}
    for step, value, ts in items:
        reference[step] = (value, ts)
    expected = [(s, v, t) for s, (v, t) in sorted(reference.items())]
    assert _as_list(resolve(_points(items))) == expected


def _chunked(items: list[tuple[int, float, int]], cuts: list[int]) -> list[Points]:
    bounds = [0, *sorted(c % (len(items) + 1) for c in cuts), len(items)]
    return [_points(items[a:b]) for a, b in zip(bounds, bounds[1:])]


@given(raw_series, st.lists(st.integers(0, 300), max_size=8), st.booleans())
@settings(max_examples=300)
def test_resolve_chunks_equals_resolving_the_concatenation(
        items: list[tuple[int, float, int]], cuts: list[int], in_order: bool) -> None:
    """Chunk by chunk (winners in chunk order or not, empty chunks, one chunk) = one raw series."""
    if in_order:  # steps logged in order, some re-logged by a later chunk: the fast path
        items = sorted(items)
    chunks = _chunked(items, cuts)
    expected = resolve(concat_all(chunks))
    got = resolve_chunks(chunks)
    for a, b in zip((got.steps, got.values, got.timestamps),
                    (expected.steps, expected.values, expected.timestamps)):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_resolve_chunks_of_a_relogged_batch_keeps_the_later_values() -> None:
    first = Points(np.arange(0, 4), np.zeros(4), np.arange(0, 4))
    again = Points(np.arange(2, 6), np.ones(4), np.arange(10, 14))
    got = resolve_chunks([first, again])
    assert _as_list(got) == [(0, 0.0, 0), (1, 0.0, 1), (2, 1.0, 10), (3, 1.0, 11),
                             (4, 1.0, 12), (5, 1.0, 13)]


@given(raw_series, st.integers(1, 400))
@settings(max_examples=200)
def test_downsample_bounds_and_extremes(items: list[tuple[int, float, int]], budget: int) -> None:
    """Downsampling never exceeds the budget, keeps ascending steps and (budget ≥ 2) min and max."""
    resolved = resolve(_points(items))
    out = downsample(resolved, budget)
    assert len(out) <= budget
    assert np.all(np.diff(out.steps) > 0)
    assert set(_as_list(out)) <= set(_as_list(resolved))
    if len(resolved) and budget >= 2:
        assert out.values.min() == resolved.values.min()
        assert out.values.max() == resolved.values.max()
    if len(resolved) and budget >= 3:
        assert out.steps[-1] == resolved.steps[-1]


def test_downsample_keeps_a_lone_spike_in_a_million_points() -> None:
    """A single spike among a million points survives a 1,500-point budget."""
    steps = np.arange(1_000_000, dtype=np.int64)
    values = np.sin(steps / 1000.0)
    values[654_321] = 50.0
    out = downsample(Points(steps, values, steps), 1500)
    assert len(out) <= 1500 and 654_321 in out.steps.tolist()


INT64_MAX = 2**63 - 1


@st.composite
def banded_series(draw: st.DrawFn) -> list[tuple[int, float, int]]:
    """Raw points whose steps lie in one narrow band (0, near 2**62, up to 2**63 - 1 or
    anywhere), sometimes with one far-away step, so bucket widths go below float64 precision."""
    base = draw(st.sampled_from([0, 2**62 - 100, INT64_MAX - 200])
                | st.integers(0, INT64_MAX - 200))
    steps = st.integers(base, base + 200)
    if draw(st.booleans()):
        steps = steps | st.integers(0, INT64_MAX)
    size = draw(st.integers(0, 150))
    return draw(st.lists(st.tuples(steps, st.floats(-1e6, 1e6), st.integers(0, 10**6)),
                         min_size=size, max_size=size))


@given(banded_series(), st.integers(1, 60))
@settings(max_examples=100, deadline=None)
def test_downsample_matches_the_exact_integer_model(items: list[tuple[int, float, int]],
                                                    budget: int) -> None:
    """Downsampling equals the protocol's bucketing done in Python ints, for any int64 steps
    (near 2**62 and 2**63 - 1 the steps are closer together than float64 can tell apart)."""
    resolved = resolve(_points(items))
    assert _as_list(resolved) == resolve_model(items)
    assert _as_list(downsample(resolved, budget)) == downsample_model(resolve_model(items), budget)


tied_values = st.sampled_from([0.0, -0.0, 1.0, -1.0]) | st.floats(-1e6, 1e6)


@given(banded_series(), st.integers(3, 60), st.lists(tied_values, min_size=150, max_size=150))
@settings(max_examples=100, deadline=None)
def test_downsample_by_slices_and_by_vectors_both_match_the_model(
        items: list[tuple[int, float, int]], budget: int, values: list[float]) -> None:
    """The two ways of finding each bucket's first minimum and maximum (a slice per bucket, used
    with many points per bucket; whole-series vectors otherwise) give the model's answer, ties
    (equal values, 0.0 and -0.0) included, bit for bit."""
    items = [(step, value, ts) for (step, _, ts), value in zip(items, values)]
    expected = downsample_model(resolve_model(items), budget)
    resolved = resolve(_points(items))
    for per_bucket in (0, 2**40):  # 0: always by slices; 2**40: always by vectors
        with mock.patch.object(series_math, "SLICED_MIN_POINTS_PER_BUCKET", per_bucket):
            got = downsample(resolved, budget)
        assert _as_list(got) == expected
        assert np.signbit(got.values).tolist() == [np.signbit(v) for _, v, _ in expected]


def test_downsample_of_a_million_points_is_the_same_both_ways() -> None:
    """The benchmark's shape (1M points, 1,500-point budget: about 2,000 points a bucket) takes
    the slice path and equals the vector path exactly."""
    rng = np.random.default_rng(3)
    steps = np.cumsum(rng.integers(1, 4, 1_000_000)).astype(np.int64)
    points = Points(steps, rng.normal(size=len(steps)).round(2), steps * 10)
    sliced = downsample(points, 1500)
    with mock.patch.object(series_math, "SLICED_MIN_POINTS_PER_BUCKET", 2**40):
        vectors = downsample(points, 1500)
    assert len(sliced) > 1000
    assert _as_list(sliced) == _as_list(vectors)


def test_downsample_buckets_steps_near_2_to_the_62() -> None:
    """3,000 consecutive steps from 2**62 cut into 100 buckets of 30 keep each bucket's min,
    max and last point (float64 bucketing put them all into one or two buckets)."""
    steps = np.arange(2**62, 2**62 + 3000, dtype=np.int64)
    values = np.tile(np.r_[-1.0, 1.0, np.zeros(28)], 100)  # min first, max second, last 0
    out = downsample(Points(steps, values, steps), 300)
    assert (out.steps - 2**62).tolist() == [30 * b + j for b in range(100) for j in (0, 1, 29)]


@given(raw_series, st.integers(0, 70), st.integers(0, 10**6), st.integers(0, 10**6),
       st.integers(1, 50))
def test_windows_tail_and_after_step(items: list[tuple[int, float, int]], cut: int, lo: int,
                                     hi: int, n: int) -> None:
    """tail, after_step and in_window agree with list comprehensions over the resolved series."""
    resolved = resolve(_points(items))
    rows = _as_list(resolved)
    assert _as_list(tail(resolved, n)) == rows[-n:]
    assert _as_list(after_step(resolved, cut)) == [r for r in rows if r[0] > cut]
    assert _as_list(in_window(resolved, lo, hi)) == [r for r in rows if lo <= r[2] <= hi]


def test_pack_roundtrip_is_little_endian() -> None:
    """Packed blobs are little-endian int64/float64 and unpack to equal arrays."""
    points = _points([(1, 0.5, 7), (2**40, -2.25, 2**50)])
    steps, values, stamps = pack(points)
    assert steps[:8] == (1).to_bytes(8, "little")
    assert _as_list(unpack(steps, values, stamps)) == _as_list(points)


batches = st.lists(st.lists(st.tuples(st.integers(0, 40), st.floats(-1e3, 1e3)), min_size=1,
                            max_size=30), min_size=1, max_size=8)


@given(batches)
@settings(max_examples=60)
def test_cached_reader_extends_like_a_fresh_resolve(appends: list[list[tuple[int, float]]]
                                                    ) -> None:
    """After every append, the cached (incrementally extended) series equals a fresh resolve."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in DATA_SCHEMA:
        conn.executescript(statement)
    cached = MetricReader(SeriesCache())
    for i, batch in enumerate(appends):
        points = _points([(s, v, i) for s, v in batch])
        write_chunks(conn, [SeriesChunk("p", "r", "k", points, rank=i % 2)], now_ms=0)
        for rank in (None, 0):
            got = cached.read_series(conn, "p", "r", "k", rank)
            fresh = MetricReader(SeriesCache()).read_series(conn, "p", "r", "k", rank)
            assert _as_list(got.points) == _as_list(fresh.points)
            assert got.raw_count == fresh.raw_count


def test_a_first_downsample_imports_nothing_more() -> None:
    """The first read after a restart pays no lazy import (np.unique pulls in numpy.ma, ~0.1 s
    on a cold collector: #16 cold downsample)."""
    code = ("import sys, numpy as np\n"
            "from rundial_collector.store.series_math import Points, downsample, resolve\n"
            "s = np.arange(10_000, dtype=np.int64)[::-1]\n"
            "before = set(sys.modules)\n"
            "points = resolve(Points(s, s * 0.5, s))\n"
            "downsample(points, 300); downsample(points, 30); downsample(points, 2)\n"
            "downsample(points, 1)\n"
            "print(sorted(set(sys.modules) - before))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
