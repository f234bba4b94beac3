"""Stored chunk rows computed per column group are the bytes the per-chunk computation gives
(property tests; store/chunk_rows.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.chart_compose import chunk_aggregates
from rundial_collector.store.chunk_rows import chunk_rows
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import EMPTY, Points, pack

values_st = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0])


def _reference(chunk: SeriesChunk) -> tuple[object, ...]:
    """The row as the store computed it chunk by chunk before column groups."""
    p = chunk.points
    return (chunk.rank, len(p), int(p.steps.min()), int(p.steps.max()),
            int(p.timestamps.min()), int(p.timestamps.max()), chunk.context_json, *pack(p),
            *chunk_aggregates(chunk))


@st.composite
def column_groups(draw: st.DrawFn) -> list[SeriesChunk]:
    """Chunks like a wide-rows request's (several keys sharing one steps and one timestamps
    array), with ascending, unsorted or repeated steps, mixed with chunks of their own."""
    n = draw(st.integers(1, 140))
    kind = draw(st.sampled_from(["ascending", "any"]))
    if kind == "ascending":
        steps = np.cumsum(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)))
    else:
        steps = np.array(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)))
    steps = steps.astype(np.int64)
    stamps = np.array(draw(st.lists(st.integers(0, 2**62), min_size=n, max_size=n)), np.int64)
    keys = draw(st.integers(1, 6))
    rank = draw(st.none() | st.integers(0, 7))
    chunks = [SeriesChunk("p", "r", f"k{j}", Points(steps, np.array(
        draw(st.lists(values_st, min_size=n, max_size=n)), np.float64), stamps), rank)
        for j in range(keys)]
    if draw(st.booleans()):  # one chunk with its own arrays in the middle
        own = Points(steps.copy(), np.ones(n), stamps.copy())
        chunks.insert(draw(st.integers(0, keys)), SeriesChunk("p", "r", "own", own, None, "{}"))
    return chunks


@given(column_groups())
@settings(max_examples=150, deadline=None)
def test_chunk_rows_equal_the_per_chunk_rows(chunks: list[SeriesChunk]) -> None:
    assert chunk_rows(chunks) == [_reference(c) for c in chunks]


def test_rows_of_a_wide_batch_share_the_steps_and_timestamps_blobs() -> None:
    """A column group packs its steps and timestamps once (the same bytes object)."""
    steps = np.arange(1000, dtype=np.int64)
    stamps = steps + 7
    chunks = [SeriesChunk("p", "r", f"k{j}", Points(steps, steps * 0.5 + j, stamps))
              for j in range(3)]
    rows = chunk_rows(chunks)
    assert rows == [_reference(c) for c in chunks]
    assert rows[0][7] is rows[1][7] is rows[2][7] and rows[0][9] is rows[2][9]


def test_an_empty_chunk_has_no_row() -> None:
    with pytest.raises(ValueError, match="empty chunk"):
        chunk_rows([SeriesChunk("p", "r", "k", EMPTY)])
