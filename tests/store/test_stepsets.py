"""Steps and timestamps stored once per request on PostgreSQL (migration 0008, ``chunk_stepsets``,
store/postgres/metrics_write.py): which rows share a stepset, and that every read path reads
a shared chunk exactly as the same chunk stored with its own arrays (both backends: SQLite
stores every chunk inline, so the comparison holds there too)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import numpy as np

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store
from rundial_collector.store.chunk_rows import chunk_rows
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.postgres.metrics_read import _resolved_unmasked
from rundial_collector.store.postgres.metrics_write import CHUNK_COLUMNS
from rundial_collector.store.postgres.migrate import migrate
from rundial_collector.store.postgres.store import PostgresStore
from rundial_collector.store.series_math import Points, pack
from tests.helpers.postgres import PgCluster
from tests.store.metric_helpers import PROJECT, chart_shape, ingest, rows

KEYS = ("a", "b", "c")
BATCH_STEPS = 5_000  # above the chart's slice size (4,096): partly needed chunks are sliced


def wide(run_id: str, first_step: int, count: int, shared: bool) -> list[SeriesChunk]:
    """One request of ``KEYS`` over steps ``first_step ..``: every key holds the very same
    steps and timestamps arrays when ``shared`` (as a wide-rows or columns body gives them),
    else copies of its own (stored inline)."""
    steps = np.arange(first_step, first_step + count, dtype=np.int64)
    stamps = steps * 7 + 1_700_000_000_000
    return [SeriesChunk(PROJECT, run_id, key,
                        Points(steps if shared else steps.copy(), steps * 0.25 + j,
                               stamps if shared else stamps.copy()))
            for j, key in enumerate(KEYS)]


async def ingest_both(store: Store, first_step: int, count: int) -> None:
    for run_id, shared in (("shared", True), ("inline", False)):
        await ingest(store, *wide(run_id, first_step, count, shared))


async def reads(store: Store, run_id: str, key: str) -> list[object]:
    """What every metric read path answers for one series, as plain values."""
    cache = store._metric_reader.cache  # type: ignore[attr-defined]
    cache.max_bytes, kept = 0, cache.max_bytes  # every series too big: pages read by range
    by_range = await store.read_series_page(PROJECT, run_id, key, None, 3_000, 4_000)
    cache.max_bytes = kept
    series = await store.read_series(PROJECT, run_id, key)
    page = await store.read_series_page(PROJECT, run_id, key, None, 3_000, 4_000)  # cached
    charts = [chart_shape(await store.read_chart(PROJECT, run_id, key, start, end, buckets))
              for start, end, buckets in ((None, None, 200), (7_003, 19_011, 150),
                                          (4_990, 5_020, 100), (None, None, 100_000))]
    feed = await store.tail_events(PROJECT, run_id, (0, 0, 0), (1_000, 1, 1))
    tail = [(c.metric_key, rows(c.points)) for c in feed.chunks if c.metric_key == key]
    series_id = dict((k, i) for i, k in await store.run_series(PROJECT, run_id))[key]
    top = await store.event_head()
    replay = [rows(c.points)
              for c in await store.series_chunks(series_id, key, (0, top[0]), 1_000)]
    return [rows(series.points), series.raw_count, rows(by_range), rows(page), charts, tail,
            replay]


async def test_every_read_path_reads_shared_chunks_as_inline_ones(store: Store) -> None:
    """Overlapping requests (re-logged steps resolved by the later chunk), the first creating
    the series (the transaction's ``COPY``), the others warm (one statement): each read of a run
    whose keys shared their arrays equals the read of a run whose keys had their own; read
    again after one more request (an incremental read of the cached series)."""
    for first in range(0, 5 * 4_000, 4_000):
        await ingest_both(store, first, BATCH_STEPS)
    for key in KEYS:
        assert await reads(store, "shared", key) == await reads(store, "inline", key)
    await ingest_both(store, 2_500, 300)
    for key in KEYS:
        shared = await reads(store, "shared", key)
        assert shared == await reads(store, "inline", key)
        assert shared[1] == 5 * BATCH_STEPS + 300


async def stored_layout(store: PostgresStore, run_id: str) -> list[tuple[object, ...]]:
    """(key, own steps, own timestamps, stepset id, stepset steps, stepset timestamps) of each
    chunk of ``run_id``, in chunk order."""
    found = await store.engine.read(lambda conn: conn.fetch(
        "SELECT s.metric_key, c.steps, c.timestamps, c.stepset_id, t.steps, t.timestamps"
        " FROM metric_chunks c JOIN series s USING (series_id)"
        " LEFT JOIN chunk_stepsets t ON t.stepset_id = c.stepset_id"
        " WHERE s.run_id = $1 ORDER BY c.chunk_id", run_id))
    return [tuple(row) for row in found]


def shared_once(layout: Sequence[tuple[object, ...]], steps: bytes, stamps: bytes) -> bool:
    """Every chunk of ``layout`` points at one stepset holding ``steps`` and ``stamps``."""
    return (len({row[3] for row in layout}) == 1 and layout[0][3] is not None
            and all(row[1:3] == (None, None) and row[4:] == (steps, stamps) for row in layout))


async def test_keys_sharing_their_arrays_store_them_once_on_both_write_paths(
        two_pg_stores: list[PostgresStore]) -> None:
    """The first request (new series: the transaction and ``COPY``) and a warm one (one
    statement) each store one stepset for the keys sharing their arrays; a chunk with arrays
    of its own beside them keeps them inline."""
    store = two_pg_stores[0]
    for first in (0, 100):
        sent = wide("r", first, 50, shared=True)
        own = SeriesChunk(PROJECT, "r", "own", Points(sent[0].points.steps.copy(),
                                                       np.ones(50), sent[0].points.timestamps))
        await ingest(store, *sent, own)
        layout = (await stored_layout(store, "r"))[-4:]
        steps, _, stamps = pack(sent[0].points)
        assert shared_once(layout[:3], steps, stamps)
        assert layout[3][1:4] == (*pack(own.points)[::2], None)
    counted = await store.engine.read(lambda conn: conn.fetchval(
        "SELECT count(*) FROM chunk_stepsets"))
    assert counted == 2
    series_id = await store.engine.read(lambda conn: conn.fetchval(
        "SELECT series_id FROM series WHERE run_id = 'r' AND metric_key = 'a'"))
    # white box: a cold read streams the shared chunks by binary COPY (None: it fell back)
    streamed = await store.engine.read(lambda conn: _resolved_unmasked(conn, (series_id, None)))
    assert streamed is not None
    assert rows(streamed.points) == rows((await store.read_series(PROJECT, "r", "a")).points)
    assert len(streamed.points) == 100


async def test_a_series_written_before_the_migration_reads_with_its_new_chunks(
        pg_cluster: PgCluster, tmp_path: object) -> None:
    """A database at version 7 holding an inline chunk (the only layout then): after the
    store migrates it, a request sharing its arrays appends to the same series, and the read
    resolves old and new chunks together."""
    url = pg_cluster.new_database("stepsets")
    old = wide("r", 0, 40, shared=False)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, up_to=7)
        for chunk, row in zip(old, chunk_rows(old)):
            series_id = await conn.fetchval(
                "INSERT INTO series (project_id, run_id, metric_key) VALUES ($1, $2, $3)"
                " RETURNING series_id", PROJECT, "r", chunk.metric_key)
            await conn.copy_records_to_table("metric_chunks", columns=CHUNK_COLUMNS[:-1],
                                             records=[(series_id, *row[:6], 1, *row[6:])])
    finally:
        await conn.close()
    config = CollectorConfig(data_dir=tmp_path / "data", database_url=url)  # type: ignore[operator]
    config.data_dir.mkdir(parents=True)
    store = PostgresStore(config)
    await store.start()
    try:
        new = wide("r", 30, 40, shared=True)
        await ingest(store, *new)
        assert shared_once((await stored_layout(store, "r"))[3:], *pack(new[0].points)[::2])
        for old_chunk, new_chunk in zip(old, new):
            series = await store.read_series(PROJECT, "r", old_chunk.metric_key)
            expected = rows(old_chunk.points)[:30] + rows(new_chunk.points)
            assert (rows(series.points), series.raw_count) == (expected, 80)
    finally:
        await store.close()


async def test_a_duplicate_request_stores_no_stepset(two_pg_stores: list[PostgresStore]) -> None:
    """The same key sent again (to either collector, warm series: one statement each) answers
    duplicate and writes nothing, its stepset included."""
    a, b = two_pg_stores
    await ingest(a, *wide("r", 0, 5, shared=True))  # the series exist on both from here
    await ingest(b, *wide("r", 5, 5, shared=True))
    outcomes = [await ingest(store, *wide("r", 10, 50, shared=True), key="k1")
                for store in (a, b, a)]
    assert [o.duplicate for o in outcomes] == [False, True, True]
    counted = await a.engine.read(lambda conn: conn.fetchval(
        "SELECT count(*) FROM chunk_stepsets"))
    assert counted == 3
    assert (await b.read_series(PROJECT, "r", "a")).raw_count == 60
