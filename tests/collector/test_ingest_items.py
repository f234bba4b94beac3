"""Pure unit tests: the vectorised ingest paths agree with the point-by-point reference paths."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rundial_collector.ingest.items import ItemErrors
from rundial_collector.ingest.points import (_columns, _point_by_point, _vectorised,
                                             chunks_from_points)
from rundial_collector.ingest.rows import _row_chunks, chunks_from_rows
from rundial_collector.ingest.schemas import PointIn
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


ALIASES = {"p1": "prj_1", "slug1": "prj_1", "p2": "prj_2"}
ordered_points = st.lists(st.builds(
    PointIn, projectId=st.sampled_from(["p1", "slug1", "p2"]), runId=st.just("r"),
    metricKey=st.sampled_from(["a", "b"]), step=st.integers(0, 3), timestampMs=st.just(0),
    value=st.floats(-10, 10), context=st.sampled_from([None, {"s": "x"}, {"s": "y"}])),
    max_size=40)


@given(ordered_points, st.booleans())
def test_each_series_keeps_item_order_across_chunks(items: list[PointIn], plain: bool) -> None:
    """Per canonical series, the chunks (in list order) hold its items in request order, so the
    last item of a step wins at read time whatever the contexts and project spellings (#14.3)."""
    if plain:
        items = [PointIn(p.projectId, p.runId, p.metricKey, p.step, p.timestampMs, p.value)
                 for p in items]
    chunks, accepted = chunks_from_points(items, ALIASES, ItemErrors())
    got: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
    for c in chunks:
        got.setdefault((c.project_id, c.run_id, c.metric_key), []).extend(
            zip(c.points.steps.tolist(), c.points.values.tolist()))
    expected: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
    for p in items:
        expected.setdefault((ALIASES[p.projectId], p.runId, p.metricKey), []).append(
            (p.step, p.value))
    assert got == expected and accepted == len(items)
