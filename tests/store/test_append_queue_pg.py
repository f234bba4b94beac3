"""Group commit of PostgreSQL's one-statement metric ingest (store/postgres/append_queue.py):
requests that arrive while a statement runs share the next one, and each keeps the outcome it
would have had alone (stored once, or duplicate with its key's recorded count).

To make requests wait deterministically, a first request's key is held by an uncommitted
transaction of another session: its statement waits on the key's index entry until that
transaction rolls back (no sleeping on a guess: the tests wait for PostgreSQL to report a
session of the test's database waiting for a lock, and for the queue to hold the requests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from rundial_collector.store.data_base import SeriesChunk, WriteOutcome
from rundial_collector.store.errors import WriteQueueFull
from rundial_collector.store.postgres.store import PostgresStore
from tests.store.metric_helpers import chunk, ingest, rows
from tests.store.test_metrics_append_pg import count_calls, heartbeat_ms, started_run


async def until(probe: Callable[[], object], what: str, timeout_seconds: float = 10.0) -> None:
    """Poll ``probe`` (cheap, in-process or one query) until it is true, with a deadline."""
    deadline = time.monotonic() + timeout_seconds
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


@asynccontextmanager
async def held_key(store: PostgresStore, key: str) -> AsyncIterator[asyncpg.Connection]:
    """Another session holds ``key`` uncommitted until the block ends (then rolls back)."""
    conn = await asyncpg.connect(store.config.database_url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("INSERT INTO idempotency_keys (idem_key, created_ms, accepted)"
                           " VALUES ($1, 0, 0)", key)
        yield conn
    finally:
        await transaction.rollback()
        await conn.close()


async def first_statement_waits(store: PostgresStore, conn: asyncpg.Connection,
                                *chunks: SeriesChunk) -> asyncio.Task[WriteOutcome]:
    """Start a request keyed ``held`` and return once its statement waits for that key."""
    task = asyncio.create_task(ingest(store, *chunks, key="held"))
    deadline = time.monotonic() + 10.0
    while not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type"
                                  " = 'Lock' AND datname = current_database()"):
        assert not task.done() and time.monotonic() < deadline, "the statement never waited"
        await asyncio.sleep(0.005)
    return task


async def queued(store: PostgresStore, *requests: tuple[list[SeriesChunk], str | None]
                 ) -> list[asyncio.Task[WriteOutcome]]:
    """Start ``requests`` (chunks, key) in order; return once all of them wait in the queue."""
    tasks = []
    for chunks, key in requests:
        tasks.append(asyncio.create_task(ingest(store, *chunks, key=key)))
        await until(lambda: len(store._appends._waiting) == len(tasks), "the queue")
    return tasks


async def warm(store: PostgresStore, project: str, *runs: str) -> None:
    """Create the ``loss`` series of ``runs`` (a transaction), then forget the touches."""
    for run in runs:
        await ingest(store, chunk(run, "loss", [(0, 0.0)], project_id=project))
    store.bookkeeping.touched_ms.clear()
    await store.engine.write(lambda conn: conn.execute("UPDATE runs SET last_heartbeat_ms = 1000"))


async def test_requests_waiting_for_a_statement_share_the_next_one(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """Three requests of two runs that wait behind a running statement are one statement: each
    is stored once with its own outcome, both runs' heartbeats are touched, and a later
    request's point wins a step an earlier one also sent (request order within a statement)."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    await started_run(store, "r2")
    await warm(store, project, "r1", "r2")
    calls = count_calls(store, monkeypatch)
    before_ms = int(time.time() * 1000)
    async with held_key(store, "held") as conn:
        first = await first_statement_waits(store, conn, chunk("r1", "loss", [(5, 1.0)],
                                                               project_id=project))
        rest = await queued(
            store, ([chunk("r1", "loss", [(5, 2.0), (6, 2.0)], project_id=project)], "b"),
            ([chunk("r2", "loss", [(7, 3.0)], project_id=project)], None),
            ([chunk("r2", "loss", [(8, 4.0), (9, 4.0), (10, 4.0)], project_id=project)], "d"))
    outcomes = [await task for task in (first, *rest)]
    assert [(o.accepted, o.duplicate) for o in outcomes] == [(1, False), (2, False), (1, False),
                                                            (3, False)]
    assert calls == {"write": 0, "write_statement": 2}
    r1 = await store.read_series(project, "r1", "loss")
    assert rows(r1.points) == [(0, 0.0, 0), (5, 2.0, 0), (6, 2.0, 1)]
    assert r1.raw_count == 4
    r2 = await store.read_series(project, "r2", "loss")
    assert [s for s, _, _ in rows(r2.points)] == [0, 7, 8, 9, 10]
    assert await heartbeat_ms(store, "r1") >= before_ms
    assert await heartbeat_ms(store, "r2") >= before_ms


async def test_a_key_sent_twice_or_already_used_is_a_duplicate_in_a_shared_statement(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a running statement: the same key twice (a retry) is stored once (the second
    waits for the next statement, then is a duplicate with the first's count), a key used
    before is a duplicate with its recorded count, and the new key beside them is stored."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    await warm(store, project, "r1")
    used = await ingest(store, chunk("r1", "loss", [(s, 9.0) for s in range(20, 27)],
                                     project_id=project), key="used")
    assert (used.accepted, used.duplicate) == (7, False)
    calls = count_calls(store, monkeypatch)
    twice = [chunk("r1", "loss", [(1, 1.0), (2, 1.0)], project_id=project)]
    async with held_key(store, "held") as conn:
        first = await first_statement_waits(store, conn, chunk("r1", "loss", [(3, 3.0)],
                                                               project_id=project))
        rest = await queued(store, (twice, "k"), (twice, "k"),
                            ([chunk("r1", "loss", [(4, 4.0)], project_id=project)], "used"),
                            ([chunk("r1", "loss", [(5, 5.0)], project_id=project)], "new"))
    outcomes = [await task for task in (first, *rest)]
    assert [(o.accepted, o.duplicate) for o in outcomes] == [(1, False), (2, False), (2, True),
                                                            (7, True), (1, False)]
    assert calls == {"write": 0, "write_statement": 3}  # held; k, used, new; k again
    series = await store.read_series(project, "r1", "loss")
    assert [s for s, _, _ in rows(series.points)] == [0, 1, 2, 3, 5, *range(20, 27)]
    assert series.raw_count == 1 + 7 + 1 + 2 + 1


async def test_a_shared_statement_that_fails_sends_each_request_its_own_way(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """The series are deleted from outside while requests wait: the statement carrying them
    fails its foreign key, stores nothing, and each request then takes the transaction, which
    creates the series again: every request is stored exactly once."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    await warm(store, project, "r1")
    calls = count_calls(store, monkeypatch)
    async with held_key(store, "held") as conn:
        first = await first_statement_waits(store, conn, chunk("r1", "loss", [(1, 1.0)],
                                                               project_id=project))
        rest = await queued(store, ([chunk("r1", "loss", [(2, 2.0)], project_id=project)], "b"),
                            ([chunk("r1", "loss", [(3, 3.0)], project_id=project)], "c"))
        outside = await asyncpg.connect(store.config.database_url)
        try:
            await outside.execute("DELETE FROM metric_chunks")
            await outside.execute("DELETE FROM series")
        finally:
            await outside.close()
    outcomes = [await task for task in (first, *rest)]
    assert [(o.accepted, o.duplicate) for o in outcomes] == [(1, False)] * 3
    assert calls["write_statement"] == 2 and calls["write"] == 3
    series = await store.read_series(project, "r1", "loss")
    assert rows(series.points) == [(1, 1.0, 0), (2, 2.0, 0), (3, 3.0, 0)]
    assert series.raw_count == 3


async def test_waiting_is_bounded_and_a_cancelled_request_is_never_written(
        two_pg_stores: list[PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for one waiting request, one more is refused at once (429 upstream); a
    waiting request cancelled before its statement stores nothing."""
    store = two_pg_stores[0]
    project = await started_run(store, "r1")
    await warm(store, project, "r1")
    monkeypatch.setattr(store._appends, "_max_waiting", 1)
    async with held_key(store, "held") as conn:
        first = await first_statement_waits(store, conn, chunk("r1", "loss", [(1, 1.0)],
                                                               project_id=project))
        (cancelled,) = await queued(store, ([chunk("r1", "loss", [(2, 2.0)],
                                                   project_id=project)], "b"))
        with pytest.raises(WriteQueueFull):
            await ingest(store, chunk("r1", "loss", [(3, 3.0)], project_id=project), key="c")
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert not store._appends._waiting
    assert (await first).accepted == 1
    after = await ingest(store, chunk("r1", "loss", [(4, 4.0)], project_id=project), key="d")
    assert (after.accepted, after.duplicate) == (1, False)
    assert [s for s, _, _ in rows((await store.read_series(project, "r1", "loss")).points)] == [
        0, 1, 4]
