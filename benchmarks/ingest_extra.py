"""The raw ``COPY`` baseline of benchmarks/collector_ingest.py (issue 16) into the PostgreSQL
store's own schema; the concurrent writers are in benchmarks/ingest_writers.py.

* :func:`raw_copy_rate`: pre-packed chunk rows (the same rows the store writes, built with the
  store's own ``prepared_chunks`` before the clock starts) appended with asyncpg's
  ``copy_records_to_table`` into ``metric_chunks`` of the benchmark's database, one
  transaction per 5,000-point batch (10 chunks sharing their steps and timestamps: one
  ``chunk_stepsets`` row, inserted first, as the store's transaction does), as one ingest
  request writes them, over as
  many parallel connections as the HTTP measurement's clients (``--connections``): with one
  connection, every commit waited for its own WAL flush, while the collectors' concurrent
  requests share flushes (group commit), so the baseline was slower than it should be.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import asyncpg
import numpy as np

from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points

if TYPE_CHECKING:
    from rundial_collector.store.postgres.metrics_write import PreparedChunk

KEYS = 10
ROWS = 500
def raw_copy_rate(database_url: str, batches: int, connections: int) -> float:
    """Points/s of a raw COPY of ``batches`` pre-packed 5,000-point batches over
    ``connections`` parallel connections (as many as the HTTP clients that send them)."""
    return asyncio.run(_raw_copy(database_url, batches, connections))


async def _raw_copy(database_url: str, batches: int, connections: int) -> float:
    from rundial_collector.store.postgres.metrics_write import series_ids  # writers: light
    run = f"raw-copy-{time.time_ns()}"
    keys = [("bench-raw", run, f"train/m{k}") for k in range(KEYS)]
    conns = [await asyncpg.connect(database_url) for _ in range(connections)]
    try:
        async with conns[0].transaction():
            ids = await series_ids(conns[0], sorted(keys))
        prepared = _prepared_batches(keys, ids, batches)
        started = time.perf_counter()
        await asyncio.gather(*(_copy_all(conn, prepared[n::connections], ids)
                               for n, conn in enumerate(conns)))
        elapsed = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return batches * ROWS * KEYS / elapsed


def _prepared_batches(keys: list[tuple[str, str, str]], ids: dict[tuple[str, str, str], int],
                      batches: int) -> list[list[PreparedChunk]]:
    """The prepared chunks of each batch, built with the store's own ``prepared_chunks``."""
    from rundial_collector.store.postgres.metrics_write import prepared_chunks
    prepared = []
    for b in range(batches):
        steps = np.arange(b * ROWS, (b + 1) * ROWS, dtype=np.int64)
        stamps = steps + 1_700_000_000_000
        prepared.append(prepared_chunks([SeriesChunk(p, r, m, Points(steps, steps * 0.001 + k,
                                                                      stamps))
                                         for k, (p, r, m) in enumerate(keys)]))
    return prepared


async def _copy_all(conn: asyncpg.Connection, batches: list[list[PreparedChunk]],
                    ids: dict[tuple[str, str, str], int]) -> None:
    """One transaction per batch, one after the other on ``conn``: the store's own
    ``write_prepared`` with every series id known (its stepset, then one COPY)."""
    from rundial_collector.store.postgres.metrics_write import write_prepared
    now_ms = int(time.time() * 1000)
    for chunks in batches:
        async with conn.transaction():
            await write_prepared(conn, chunks, now_ms, ids)
