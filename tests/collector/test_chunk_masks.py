"""Chunks a whole-series resolution leaves unread (store/chunk_masks.py): leaving them out
changes no resolved point."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.chunk_masks import ChunkRange, superseded_chunks
from rundial_collector.store.series_math import Points, resolve_chunks


def _ranges(chunks: list[list[int]]) -> list[ChunkRange]:
    return [(i + 1, min(c), max(c), len(set(c))) for i, c in enumerate(chunks)]


def test_a_relogged_batch_supersedes_its_first_copy() -> None:
    assert superseded_chunks(_ranges([list(range(10)), list(range(10, 20)),
                                      list(range(10, 20))])) == [2]


def test_adjacent_dense_chunks_together_supersede_a_chunk_across_them() -> None:
    """[5, 15] lies inside [0, 9] ∪ [10, 19] though inside neither alone."""
    assert superseded_chunks(_ranges([[5, 15], list(range(10)), list(range(10, 20))])) == [1]


def test_only_later_dense_chunks_supersede() -> None:
    """A later chunk with a gap (not dense) and an earlier dense chunk supersede nothing."""
    assert superseded_chunks(_ranges([[3, 4], [0, 9]])) == []  # later [0, 9] has a gap
    assert superseded_chunks(_ranges([list(range(10)), [3, 4]])) == []  # dense but earlier
    assert superseded_chunks(_ranges([[3, 4], [3, 5, 4, 3]])) == [1]  # out of order, dense


chunk_lists = st.lists(
    st.one_of(st.lists(st.integers(0, 60), min_size=1, max_size=25),  # any order, gaps, repeats
              st.tuples(st.integers(0, 50), st.integers(1, 20)).map(  # dense, ascending
                  lambda t: list(range(t[0], t[0] + t[1])))),
    min_size=1, max_size=10)


@given(chunk_lists)
@settings(max_examples=300)
def test_leaving_out_superseded_chunks_resolves_the_same(chunks: list[list[int]]) -> None:
    """Resolving all chunks (in id order) = resolving them less the superseded ones, and no
    point of a superseded chunk is a winner."""
    points = [Points(np.array(c, np.int64), np.arange(len(c), dtype=np.float64) + 100 * i,
                     np.full(len(c), i, np.int64)) for i, c in enumerate(chunks)]
    skipped = superseded_chunks(_ranges(chunks))
    kept = [p for i, p in enumerate(points) if i + 1 not in skipped]
    whole, less = resolve_chunks(points), resolve_chunks(kept)
    for a, b in zip((whole.steps, whole.values, whole.timestamps),
                    (less.steps, less.values, less.timestamps)):
        assert a.tobytes() == b.tobytes()
    assert not set(whole.timestamps.tolist()) & {i - 1 for i in skipped}
