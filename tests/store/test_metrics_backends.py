"""The two backends against each other: the same random ingest sequences must read back the
same on SQLite and on PostgreSQL (series, pages, charts), and two PostgreSQL stores (two
collectors) ingesting into one database at once lose nothing and read the same resolution."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store
from rundial_collector.store.factory import open_store
from rundial_collector.store.postgres.metrics_write import prepared_chunks, write_prepared
from rundial_collector.store.postgres.store import PostgresStore
from tests.collector.series_model import resolve_model
from tests.helpers.postgres import PgCluster
from tests.store.metric_helpers import PROJECT, chart_shape, chunk, ingest, rows, same_rows

MIN64, MAX64 = -(2**63), 2**63 - 1
_runs = itertools.count()


@pytest.fixture
async def pair(tmp_path: Path, pg_cluster: PgCluster) -> AsyncIterator[tuple[Store, Store]]:
    """A started SQLite store and a started PostgreSQL store."""
    sqlite = open_store(CollectorConfig(data_dir=tmp_path / "sqlite"))
    postgres = open_store(CollectorConfig(data_dir=tmp_path / "pg",
                                          database_url=pg_cluster.new_database()))
    for store in (sqlite, postgres):
        await store.start()
    try:
        yield sqlite, postgres
    finally:
        await sqlite.close()
        await postgres.close()


values = st.one_of(st.floats(-1e6, 1e6), st.just(math.nan))


@st.composite
def sequences(draw: st.DrawFn) -> tuple[list[list[tuple[int, float]]], list[int]]:
    """Requests of one series (steps near a base, mostly ascending, some re-logged), and the
    first timestamp of each."""
    base = draw(st.sampled_from([0, MIN64, MAX64 - 3_000, -1_000]))
    requests = []
    for _ in range(draw(st.integers(1, 6))):
        low = draw(st.integers(0, 2_500))
        size = draw(st.integers(1, 500))
        kind = draw(st.sampled_from(["ascending", "sparse", "shuffled"]))
        steps = list(range(low, low + size)) if kind == "ascending" else \
            draw(st.lists(st.integers(low, low + size), min_size=1, max_size=size))
        if kind == "sparse":
            steps.sort()
        items = [(base + s, draw(values) if i % 97 == 0 else float(i + low))
                 for i, s in enumerate(steps)]
        requests.append(items)
    return requests, [draw(st.integers(0, 10**12)) for _ in requests]


windows = st.tuples(st.one_of(st.none(), st.integers(0, 3_000)),
                    st.one_of(st.none(), st.integers(0, 3_000)), st.integers(1, 60))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=sequences(), window=windows, page=st.integers(1, 400))
async def test_same_ingests_read_the_same_on_both_backends(
        pair: tuple[Store, Store], case: tuple[list[list[tuple[int, float]]], list[int]],
        window: tuple[int | None, int | None, int], page: int) -> None:
    requests, stamps = case
    run_id = f"run{next(_runs)}"
    for store in pair:
        for items, first_ts in zip(requests, stamps):
            await ingest(store, chunk(run_id, "loss", items, first_ts))
    a, b = [await s.read_series(PROJECT, run_id, "loss") for s in pair]
    assert same_rows(rows(a.points), rows(b.points)) and a.raw_count == b.raw_count
    base = min(s for items in requests for s, _v in items)
    start, end, cells = window
    start = None if start is None else max(MIN64, min(MAX64, base + start))
    end = None if end is None else max(MIN64, min(MAX64, base + end))
    charts = [chart_shape(await s.read_chart(PROJECT, run_id, "loss", start, end, cells))
              for s in pair]
    assert charts[0] == charts[1]
    after = base + page - 1
    pages = [rows(await s.read_series_page(PROJECT, run_id, "loss", None, after, page))
             for s in pair]
    assert same_rows(pages[0], pages[1])


async def test_relogged_batches_read_the_same_on_both_backends(
        pair: tuple[Store, Store]) -> None:
    """Batches re-logged whole (the first copy lies inside a later chunk holding every step of
    its range: the PostgreSQL reader never fetches it), a sparse batch under a later dense one
    spanning two batches, and ranks: each backend reads the resolution of all the points, by
    rank too, with every raw point counted."""
    run_id = f"run{next(_runs)}"
    requests = [(range(0, 100), 1.0, None), (range(100, 200), 2.0, None),
                (range(100, 200), 3.0, None),  # re-logs the second batch whole
                (range(50, 150, 2), 4.0, 0), (range(40, 160), 5.0, 0),
                (range(200, 260), 6.0, 1), (range(190, 270), 7.0, 0),
                (range(300, 310), 8.0, None), (range(295, 320, 3), 9.0, None)]  # a gappy cover
    logged: list[tuple[int | None, tuple[int, float, int]]] = []
    for n, (steps, value, rank) in enumerate(requests):
        items = [(s, value + s / 1000) for s in steps]
        logged += [(rank, (s, v, n * 1000 + i)) for i, (s, v) in enumerate(items)]
        for store in pair:
            await ingest(store, chunk(run_id, "loss", items, n * 1000, rank))
    for rank in (None, 0, 1):
        mine = [item for r, item in logged if rank is None or r == rank]
        for store in pair:
            found = await store.read_series(PROJECT, run_id, "loss", rank)
            assert rows(found.points) == resolve_model(mine)
            assert found.raw_count == len(mine)


async def test_two_collectors_ingest_at_once_without_loss(
        two_pg_stores: list[PostgresStore]) -> None:
    """Two PostgreSQL stores on one database (two collectors) ingest overlapping steps of the
    same series and fresh keys at once: every point is stored once, both read the same
    resolution, each step's winner is a point logged for it, and a key retried on the other
    collector is answered duplicate."""
    stores = two_pg_stores
    requests = [chunk("r1", "loss", [(s, float(n * 10_000 + s)) for s in range(n * 50,
                                                                                 n * 50 + 400)],
                      first_ts=n * 1_000) for n in range(40)]
    fresh = [chunk("r1", f"key{n % 7:02d}", [(n, 1.0)]) for n in range(40)]
    outcomes = await asyncio.gather(*(
        ingest(stores[n % 2], requests[n], fresh[n], key=f"idem-{n}") for n in range(40)),
        *(ingest(stores[1 - n % 2], requests[n], fresh[n], key=f"idem-{n}")
          for n in range(0, 40, 5)))
    assert sum(not o.duplicate for o in outcomes) == 40
    assert sum(o.duplicate for o in outcomes) == 8
    a, b = [await s.read_series(PROJECT, "r1", "loss") for s in stores]
    assert same_rows(rows(a.points), rows(b.points))
    assert a.raw_count == 40 * 400
    logged: dict[int, set[float]] = {}
    for request in requests:
        for step, value in zip(request.points.steps.tolist(), request.points.values.tolist()):
            logged.setdefault(step, set()).add(value)
    assert a.points.steps.tolist() == sorted(logged)
    assert all(v in logged[s] for s, v in zip(a.points.steps.tolist(),
                                              a.points.values.tolist()))
    keys = await stores[0].metric_keys(PROJECT, "r1", 100, 0)
    assert [(k.metric_key, k.point_count) for k in keys if k.metric_key != "loss"] == [
        (f"key{n:02d}", len(range(n, 40, 7))) for n in range(7)]
    assert [k.run_count for k in await stores[1].metric_keys(PROJECT, None, 100, 0)] \
        == [1] * 8
    charts = [chart_shape(await s.read_chart(PROJECT, "r1", "loss", None, None, 90))
              for s in stores]
    assert charts[0] == charts[1]


async def test_keys_sort_bytewise_in_a_database_with_a_language_collation(
        tmp_path: Path, pg_cluster: PgCluster) -> None:
    """Production databases are often created with a language collation (en_US): keys must
    still sort as on SQLite (bytewise), e.g. "Z" before "a" and "a/z" before "a/é"."""
    name = f"icu_{next(_runs)}"
    pg_cluster.psql(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu"
                    " ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    store = open_store(CollectorConfig(data_dir=tmp_path, database_url=pg_cluster.url(name)))
    await store.start()
    try:
        keys = ["b", "a/é", "Z", "a/z", "é", "a-b", "aB", "ab"]
        await ingest(store, *[chunk("r1", k, [(1, 1.0)]) for k in keys])
        assert [k.metric_key for k in await store.metric_keys(PROJECT, "r1", 100, 0)] \
            == sorted(keys)
        assert await store.run_keys_from(PROJECT, "r1", "a/z", 3, False) == ["a/z", "a/é", "aB"]
    finally:
        await store.close()


async def test_series_deleted_from_outside_are_created_again(tmp_path: Path,
                                                              pg_cluster: PgCluster) -> None:
    """A collector remembers committed series ids; if an operator deletes the rows, the next
    ingest of that key fails its foreign key once, forgets the ids and stores the batch."""
    url = pg_cluster.new_database()
    store = open_store(CollectorConfig(data_dir=tmp_path, database_url=url))
    await store.start()
    try:
        await ingest(store, chunk("r1", "loss", [(1, 1.0)]))
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DELETE FROM metric_chunks")
            await conn.execute("DELETE FROM series")
        finally:
            await conn.close()
        outcome = await ingest(store, chunk("r1", "loss", [(2, 2.0)]), key="after-delete")
        assert (outcome.accepted, outcome.duplicate) == (1, False)
        assert rows((await store.read_series(PROJECT, "r1", "loss")).points) == [(2, 2.0, 0)]
    finally:
        await store.close()


async def test_a_lower_chunk_id_committed_late_reaches_a_cached_series(
        tmp_path: Path, pg_cluster: PgCluster) -> None:
    """Chunk ids are drawn at insert, not at commit: a request of collector B can take a lower
    id and commit after collector A has cached the series. A's next read must include it, and
    resolve it as a lower id (it loses the steps a higher chunk holds)."""
    url = pg_cluster.new_database()
    store = open_store(CollectorConfig(data_dir=tmp_path, database_url=url))
    await store.start()
    late = await asyncpg.connect(url)
    try:
        await ingest(store, chunk("r1", "loss", [(s, 0.0) for s in range(10)]))
        transaction = late.transaction()
        await transaction.start()  # B: draws its chunk id now, commits later
        prepared = prepared_chunks([chunk("r1", "loss", [(5, 5.0), (20, 20.0)], 500)])
        await write_prepared(late, prepared, 0)
        await ingest(store, chunk("r1", "loss", [(5, -5.0), (11, 11.0)], 100))
        cached = await store.read_series(PROJECT, "r1", "loss")
        assert (len(cached.points), cached.raw_count) == (11, 12)
        await transaction.commit()
        await ingest(store, chunk("r1", "loss", [(30, 30.0)], 900))  # the series grows on
        found = await store.read_series(PROJECT, "r1", "loss")
        assert (found.raw_count, found.superseded) == (15, 2)
        got = dict(zip(found.points.steps.tolist(), found.points.values.tolist()))
        assert (got[5], got[11], got[20], got[30]) == (-5.0, 11.0, 20.0, 30.0)
        page = await store.read_series_page(PROJECT, "r1", "loss", None, 10, 5)
        assert page.steps.tolist() == [11, 20, 30]
    finally:
        await late.close()
        await store.close()
