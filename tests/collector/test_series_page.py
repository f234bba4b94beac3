"""Paged series reads: a page of a large series equals the same slice of the whole resolved
series, whatever the chunks' step order, overlaps and duplicates (last accepted wins)."""

from __future__ import annotations

import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.series_math import Points, after_step, resolve
from rundial_collector.store.sqlite.metrics import METRICS_SCHEMA, MetricReader, write_chunks

KEY = ("prj", "run", "loss")


def store_with(chunks: list[list[int]]) -> sqlite3.Connection:
    """An in-memory database holding one chunk per list of steps (value = chunk no + step/1e6)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(METRICS_SCHEMA[0])
    for number, steps in enumerate(chunks):
        array = np.array(steps, dtype=np.int64)
        points = Points(array, number + array / 1e6, np.full(len(array), number, dtype=np.int64))
        write_chunks(conn, [SeriesChunk(*KEY, points)], now_ms=0)
    return conn


def whole(chunks: list[list[int]]) -> list[tuple[int, float]]:
    """The reference: every raw point in ingest order, resolved."""
    steps = np.array([s for c in chunks for s in c], dtype=np.int64)
    values = np.array([n + s / 1e6 for n, c in enumerate(chunks) for s in c])
    resolved = resolve(Points(steps, values, np.zeros(len(steps), dtype=np.int64)))
    return list(zip(resolved.steps.tolist(), resolved.values.tolist()))


def paged(reader: MetricReader, conn: sqlite3.Connection, limit: int) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    after = -1
    for _ in range(10_000):
        page = reader.read_page(conn, *KEY, None, after, limit)
        assert len(page) <= limit
        out += list(zip(page.steps.tolist(), page.values.tolist()))
        if len(page) < limit:
            return out
        after = int(page.steps[-1])
    raise AssertionError("paging did not end")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=12), min_size=1, max_size=10),
       st.integers(1, 9))
def test_pages_of_an_uncached_series_match_the_whole_series(chunks: list[list[int]],
                                                            limit: int) -> None:
    """With a cache too small to hold the series, pages are read by step range."""
    reader = MetricReader(SeriesCache(max_bytes=48))  # any series over one point is "large"
    assert paged(reader, store_with(chunks), limit) == whole(chunks)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=12), min_size=1, max_size=10),
       st.integers(1, 9))
def test_pages_of_a_cacheable_series_match_the_whole_series(chunks: list[list[int]],
                                                            limit: int) -> None:
    """A series that fits the cache is resolved once and sliced: the same answer."""
    reader = MetricReader(SeriesCache())
    assert paged(reader, store_with(chunks), limit) == whole(chunks)


def test_a_page_of_a_large_series_reads_only_its_step_range() -> None:
    """1,000 chunks of 100 steps each: a page deep in the series reads 3 chunks' blobs, not 1,000."""
    chunks = [list(range(i * 100, (i + 1) * 100)) for i in range(1000)]
    conn = store_with(chunks)
    reader = MetricReader(SeriesCache(max_bytes=1024))
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    page = reader.read_page(conn, *KEY, None, 49_999, 250)
    assert page.steps.tolist() == list(range(50_000, 50_250))
    blob_reads = [sql for sql in statements if "SELECT steps" in sql]
    assert len(blob_reads) == 1
    touched = conn.execute(blob_reads[0].replace("SELECT steps, vals, timestamps",
                                                 "SELECT count(*)", 1)).fetchone()[0]
    assert touched == 3
    whole_series = reader.read_series(conn, *KEY, None).points
    assert after_step(whole_series, 49_999).steps[:250].tolist() == page.steps.tolist()
