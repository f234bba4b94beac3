"""PostgreSQL whole-series reads by binary COPY (store/postgres/copy_columns.py): the arrays
hold exactly the rows' columns in row order, however asyncpg cuts the stream, a mismatch is
reported instead of raised, and a cold read takes this path."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.config import CollectorConfig
from rundial_collector.store.postgres import metrics_read
from rundial_collector.store.postgres.copy_columns import _Sink, copy_chunk_columns
from rundial_collector.store.postgres.store import PostgresStore
from rundial_collector.store.series_math import pack, resolve_chunks
from tests.helpers.postgres import PgCluster
from tests.store.metric_helpers import PROJECT, chunk, ingest, points, rows

_COLUMNS = "SELECT chunk_id, steps, vals, timestamps FROM metric_chunks ORDER BY chunk_id"


@pytest.fixture
async def pg_store(pg_cluster: PgCluster, tmp_path: Path) -> AsyncIterator[PostgresStore]:
    config = CollectorConfig(data_dir=tmp_path, database_url=pg_cluster.new_database())
    store = PostgresStore(config)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


async def _three_chunks(store: PostgresStore) -> list[list[tuple[int, float]]]:
    """Three chunks of one series (the middle one large: rows span several network reads)."""
    batches = [[(s, s * 0.5) for s in range(5)], [(s, -float(s)) for s in range(5, 200_005)],
               [(3, 9.0), (1, 7.0)]]
    for n, items in enumerate(batches):
        await ingest(store, chunk("r1", "loss", items, first_ts=n * 1_000_000))
    return batches


async def test_copy_fills_the_arrays_in_row_order(pg_store: PostgresStore) -> None:
    batches = await _three_chunks(pg_store)
    expected = [points(items, n * 1_000_000) for n, items in enumerate(batches)]
    total = sum(len(items) for items in batches)
    read = await pg_store.engine.read(
        lambda conn: copy_chunk_columns(conn, _COLUMNS, (), total))
    assert read.ok and read.counts == [len(items) for items in batches]
    assert read.ids == sorted(read.ids) and len(set(read.ids)) == 3
    joined = [np.concatenate([getattr(p, name) for p in expected])
              for name in ("steps", "values", "timestamps")]
    for got, want in zip((read.points.steps, read.points.values, read.points.timestamps), joined):
        assert got.tobytes() == want.tobytes()
    for wrong in (total - 1, total + 1):  # the rows do not hold exactly that many points
        short = await pg_store.engine.read(
            lambda conn, n=wrong: copy_chunk_columns(conn, _COLUMNS, (), n))
        assert not short.ok


async def test_the_stream_parses_the_same_cut_anywhere(pg_store: PostgresStore) -> None:
    """The binary COPY bytes fed to the sink in pieces of every size give the same arrays."""
    await ingest(pg_store, chunk("r1", "loss", [(s, s / 3) for s in range(40)]))
    await ingest(pg_store, chunk("r1", "loss", [(s, -s / 7) for s in range(30, 50)]))
    conn = await asyncpg.connect(pg_store.engine.settings.url)
    try:
        out = io.BytesIO()
        await conn.copy_from_query(_COLUMNS, output=out, format="binary")
    finally:
        await conn.close()
    stream = out.getvalue()
    whole = _Sink(60)
    await whole(stream)
    assert whole.result().ok
    for size in [1, 2, 3, 7, 19, 64, 321, 700, len(stream)]:
        sink = _Sink(60)
        for at in range(0, len(stream), size):
            await sink(stream[at:at + size])
        got = sink.result()
        assert got.ok and got.counts == [40, 20]
        assert pack(got.points) == pack(whole.result().points)


@given(st.binary(max_size=200))
@settings(max_examples=200)
def test_garbage_is_reported_not_raised(data: bytes) -> None:
    """Any bytes after a header are parsed without raising, and a read is only ``ok`` when the
    rows filled the arrays exactly."""
    sink = _Sink(3)
    asyncio.run(sink(b"PGCOPY\n\xff\r\n\x00" + bytes(8) + data))
    result = sink.result()
    assert not result.ok or (sum(result.counts) == 3 and len(result.ids) == len(result.counts))


async def test_a_cold_read_streams_the_chunks_it_needs(pg_store: PostgresStore,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh resolution of a series with a re-logged batch streams only the chunks not
    superseded (one COPY), never falls back, and equals resolving every chunk."""
    batches = [[(s, 1.0) for s in range(100)], [(s, 2.0) for s in range(100, 200)],
               [(s, 3.0) for s in range(100, 200)], [(s, 4.0) for s in range(150, 260, 5)]]
    for n, items in enumerate(batches):
        await ingest(pg_store, chunk("r1", "loss", items, first_ts=n * 1000))
    copies: list[int] = []
    original = metrics_read.copy_chunk_columns

    async def counted(conn: object, query: str, args: tuple[object, ...], count: int
                      ) -> object:
        copies.append(count)
        return await original(conn, query, args, count)  # type: ignore[arg-type]

    async def no_whole_read(*_args: object) -> object:
        raise AssertionError("fell back to the one-statement read")

    monkeypatch.setattr(metrics_read, "copy_chunk_columns", counted)
    monkeypatch.setattr(metrics_read, "_resolved_whole", no_whole_read)
    found = await pg_store.read_series(PROJECT, "r1", "loss")
    assert copies == [100 + 100 + 22]  # the first copy of the re-logged batch is not read
    expected = resolve_chunks([points(items, n * 1000) for n, items in enumerate(batches)])
    assert rows(found.points) == rows(expected)
    assert found.raw_count == 322
