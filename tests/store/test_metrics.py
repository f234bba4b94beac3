"""Metric contract tests (each runs on SQLite and on PostgreSQL through the ``store`` fixture):
duplicate steps, keys and their order, pages, charts with and without superseded chunks."""

from __future__ import annotations

import math

import pytest

from rundial_collector.store.base import Store
from tests.collector.series_model import resolve_model
from tests.collector.test_chart_read import check
from tests.store.metric_helpers import PROJECT, chunk, ingest, rows, same_rows


async def test_later_ingest_and_later_item_win_a_step(store: Store) -> None:
    await ingest(store, chunk("r1", "loss", [(1, 1.0), (2, 2.0), (2, 2.5), (3, 3.0)]))
    await ingest(store, chunk("r1", "loss", [(3, 30.0), (0, 0.5)], first_ts=100))
    found = await store.read_series(PROJECT, "r1", "loss")
    assert rows(found.points) == [(0, 0.5, 101), (1, 1.0, 0), (2, 2.5, 2), (3, 30.0, 100)]
    assert (found.raw_count, found.superseded) == (6, 2)


async def test_an_unknown_series_and_an_empty_chunk_read_as_nothing(store: Store) -> None:
    await ingest(store, chunk("r1", "empty", []))
    found = await store.read_series(PROJECT, "r1", "empty")
    assert (len(found.points), found.raw_count) == (0, 0)
    assert await store.metric_keys(PROJECT, "r1", 10, 0) == []
    chart = await store.read_chart(PROJECT, "r1", "nothing", None, None, 10)
    assert (chart.found, chart.logged) == (False, 0)


async def test_rank_filters_the_series(store: Store) -> None:
    await ingest(store, chunk("r1", "loss", [(1, 1.0)], rank=0),
                 chunk("r1", "loss", [(1, 9.0), (2, 2.0)], rank=1))
    assert rows((await store.read_series(PROJECT, "r1", "loss", 0)).points) == [(1, 1.0, 0)]
    assert rows((await store.read_series(PROJECT, "r1", "loss", 1)).points) \
        == [(1, 9.0, 0), (2, 2.0, 1)]
    assert [p[1] for p in rows((await store.read_series(PROJECT, "r1", "loss")).points)] \
        == [9.0, 2.0]


async def test_a_cached_series_follows_new_chunks(store: Store) -> None:
    await ingest(store, chunk("r1", "loss", [(s, float(s)) for s in range(10)]))
    assert len((await store.read_series(PROJECT, "r1", "loss")).points) == 10
    await ingest(store, chunk("r1", "loss", [(5, -5.0), (10, 10.0)], first_ts=50))
    found = await store.read_series(PROJECT, "r1", "loss")
    assert (len(found.points), found.raw_count) == (11, 12)
    assert rows(found.points)[5] == (5, -5.0, 50)


KEYS = ["b", "system/cpu", "A", "a/é", "Z", "systemd", "system/gpu", "a/z", "é"]


async def test_keys_order_user_keys_then_system_keys_bytewise(store: Store) -> None:
    await ingest(store, *[chunk("r1", k, [(1, 1.0), (2, 2.0)]) for k in KEYS])
    await ingest(store, chunk("r2", "b", [(7, 1.0)], first_ts=9))
    user = ["A", "Z", "a/z", "a/é", "b", "systemd", "é"]
    system = ["system/cpu", "system/gpu"]
    infos = await store.metric_keys(PROJECT, "r1", 100, 0)
    assert [i.metric_key for i in infos] == user + system
    assert all((i.point_count, i.last_step, i.last_timestamp_ms) == (2, 2, 1) for i in infos)
    project = await store.metric_keys(PROJECT, None, 3, 1)
    assert [(i.metric_key, i.run_count) for i in project] == [("Z", 1), ("a/z", 1), ("a/é", 1)]
    assert [i.run_count for i in await store.metric_keys(PROJECT, None, 100, 0)
            if i.metric_key == "b"] == [2]
    assert await store.run_keys_from(PROJECT, "r1", "a/é", 4, False) \
        == ["a/é", "b", "system/cpu", "system/gpu"]
    assert await store.run_keys_from(PROJECT, "r1", "systemd", 10, True) \
        == ["systemd", "é"] + system
    assert await store.run_keys_from(PROJECT, "r1", "system/d", 10, True) == ["system/gpu"]
    assert await store.run_keys_from(PROJECT, "r1", "", 0, True) == []


async def test_keys_of_runs_spends_a_budget_across_runs(store: Store) -> None:
    await ingest(store, *[chunk("r1", k, [(1, 1.0)]) for k in ("x", "system/y", "a")],
                 chunk("r2", "m", [(1, 1.0)]))
    got = await store.keys_of_runs(PROJECT, ["r1", "r2"], 1, 3)
    assert [(k.run_id, k.known, k.offset, k.keys, k.complete) for k in got] == [
        ("r1", True, 1, ("x", "system/y"), True), ("r2", True, 0, ("m",), True)]
    got = await store.keys_of_runs(PROJECT, ["r1", "r2"], 0, 2)
    assert [(k.run_id, k.keys, k.complete) for k in got] == [("r1", ("a", "x"), False)]


@pytest.mark.parametrize("by_range", [False, True])
async def test_pages_walk_the_resolved_series(store: Store, by_range: bool) -> None:
    if by_range:  # white box: a cache too small for the series makes pages read by range
        store._metric_reader.cache.max_bytes = 0  # type: ignore[attr-defined]
    await ingest(store, chunk("r1", "loss", [(s, float(s)) for s in range(0, 300, 3)]))
    await ingest(store, chunk("r1", "loss", [(s, -1.0) for s in range(150, 0, -7)], 1000))
    await ingest(store, chunk("r1", "loss", [(s, 2.0) for s in range(299, 600, 2)], 2000))
    whole = rows((await store.read_series(PROJECT, "r1", "loss")).points)
    walked: list[tuple[int, float, int]] = []
    after = -1
    while True:
        page = rows(await store.read_series_page(PROJECT, "r1", "loss", None, after, 17))
        assert len(page) <= 17
        if not page:
            break
        walked += page
        after = page[-1][0]
    assert same_rows(walked, whole) and len(whole) == len({p[0] for p in whole})
    assert await store.read_series_page(PROJECT, "r1", "loss", None, after, 0) is not None


def _chunks_of(spans: list[tuple[int, int, float]]) -> list[list[tuple[int, float]]]:
    return [[(s, value + s / 1000) for s in range(low, high + 1)] for low, high, value in spans]


@pytest.mark.parametrize("spans", [
    [(0, 9_999, 1.0)],  # one dense chunk: its stored blocks
    [(0, 9_999, 1.0), (5_000, 5_100, 2.0)],  # a resumed run re-logs a range: sliced reads
    [(0, 4_999, 1.0), (5_000, 9_999, 2.0), (2_000, 7_000, 3.0)],  # wholly masked + cut
    [(0, 9_999, 1.0), (9_000, 12_000, 2.0), (20, 30, 3.0), (9_500, 9_600, 4.0)],
])
@pytest.mark.parametrize("window", [(None, None, 100), (1_234, 9_876, 50), (5_050, 5_060, 40)])
async def test_charts_resolve_superseded_chunks_exactly(
        store: Store, spans: list[tuple[int, int, float]],
        window: tuple[int | None, int | None, int]) -> None:
    raw = []
    for number, items in enumerate(_chunks_of(spans)):
        await ingest(store, chunk("r1", "loss", items, first_ts=number * 100_000))
        raw += [(s, v, number * 100_000 + i) for i, (s, v) in enumerate(items)]
    start, end, cells = window
    found = await store.read_chart(PROJECT, "r1", "loss", start, end, cells)
    check(found, raw, start, end, cells, exact_cells=False)


async def test_a_chunk_logged_out_of_order_inside_a_relogged_range(store: Store) -> None:
    """A partly needed chunk whose index ranges fail their check is read by step instead."""
    first = [(s, float(s)) for s in range(6_000)]
    first[3_000:3_100] = reversed(first[3_000:3_100])
    await ingest(store, chunk("r1", "loss", first))
    await ingest(store, chunk("r1", "loss", [(s, -1.0) for s in range(3_050, 3_060)], 10_000))
    raw = [(s, v, i) for i, (s, v) in enumerate(first)]
    raw += [(s, -1.0, 10_000 + i) for i, s in enumerate(range(3_050, 3_060))]
    check(await store.read_chart(PROJECT, "r1", "loss", None, None, 60), raw, None, None, 60,
          exact_cells=False)
    model = resolve_model(raw)
    assert same_rows(rows((await store.read_series(PROJECT, "r1", "loss")).points), model)


async def test_nan_values_and_int64_limits(store: Store) -> None:
    items = [(-(2**63), math.nan), (2**63 - 1, 1.5), (0, math.nan), (0, -0.0)]
    await ingest(store, chunk("r1", "edge", items))
    assert rows((await store.read_series(PROJECT, "r1", "edge")).points)[1:] \
        == [(0, -0.0, 3), (2**63 - 1, 1.5, 1)]
    chart = await store.read_chart(PROJECT, "r1", "edge", None, None, 2)
    assert (chart.in_range, chart.superseded, chart.first_step) == (3, 1, -(2**63))
