"""Pure unit tests: the vectorised ingest paths agree with the point-by-point reference paths."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rundial_collector.ingest_items import ItemErrors
from rundial_collector.ingest_points import _columns, _point_by_point, _vectorised
from rundial_collector.ingest_rows import _row_chunks, chunks_from_rows
from rundial_collector.ingest_schemas import PointIn
from rundial_collector.store.data_base import SeriesChunk

PROJECTS = {"p1": "prj_1", "p2": "prj_2", "nope": None}
values = st.one_of(st.floats(-1e9, 1e9), st.integers(-5, 5), st.just(float("inf")),
                   st.just(float("-inf")), st.just(float("nan")))
points = st.lists(st.builds(
    PointIn, projectId=st.sampled_from(["p1", "p2", "nope", "unknown"]),
    runId=st.sampled_from(["r1", "r2", "", "a/b"]), metricKey=st.sampled_from(["a", "b", ""]),
    step=st.integers(-2, 8), timestampMs=st.integers(-1, 5), value=values), max_size=60)


def _flat(chunks: list[SeriesChunk]) -> dict[tuple[str, str, str], list[tuple[Any, ...]]]:
    return {(c.project_id, c.run_id, c.metric_key): list(zip(
        c.points.steps.tolist(), c.points.values.tolist(), c.points.timestamps.tolist()))
        for c in chunks}


@given(points)
def test_vectorised_points_match_point_by_point(items: list[PointIn]) -> None:
    """Both rc1 paths store the same points per series and explain the same rejections."""
    columns = _columns(items)
    if columns is None:
        return
    fast_errs, slow_errs = ItemErrors(), ItemErrors()
    fast, fast_n = _vectorised(items, columns, PROJECTS, fast_errs)
    slow, slow_n = _point_by_point(items, PROJECTS, slow_errs)
    assert _flat(fast) == _flat(slow) and fast_n == slow_n
    assert fast_errs == slow_errs


rows = st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 4), st.fixed_dictionaries(
    {"x": values, "y": values})), max_size=40)


@given(rows)
def test_matrix_rows_match_row_by_row(items: list[tuple[int, int, dict[str, Any]]]) -> None:
    """The float-matrix path for uniform rows stores what the row-by-row path stores."""
    fast_errs, slow_errs = ItemErrors(), ItemErrors()
    fast, fast_n = chunks_from_rows(items, "prj_1", "r1", 3, fast_errs)
    slow, slow_n = _row_chunks(items, "prj_1", "r1", 3, slow_errs)
    assert {k: v for k, v in _flat(fast).items() if v} == _flat(slow) and fast_n == slow_n
    assert fast_errs.rejected == slow_errs.rejected + sum(
        len(v) for s, t, v in items if s < 0 or t < 0)
    assert all(c.rank == 3 for c in fast)
