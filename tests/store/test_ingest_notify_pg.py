"""PostgreSQL only: ingest announces its runs after COMMIT, outside the ingest transaction.

A NOTIFY inside the ingest transaction made every ingest commit take PostgreSQL's database-wide
notify lock through its WAL flush (commits one at a time). The store's :class:`RunNotifier`
sends the notifications after the commit, in its own transaction, coalescing what queued while
one was being sent; the pool's connections skip asyncpg's session reset.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.data_base import IngestBatch
from rundial_collector.store.postgres.events_listen import CHANNEL
from rundial_collector.store.postgres.ingest_notify import NOTIFY_SQL
from rundial_collector.store.postgres.store import PostgresStore
from tests.helpers.postgres import PgCluster
from tests.store.test_events import P, R, line


@pytest.fixture
async def pg_store(pg_cluster: PgCluster, tmp_path: Path) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(CollectorConfig(data_dir=tmp_path,
                                          database_url=pg_cluster.new_database()))
    await store.start()
    try:
        yield store
    finally:
        await store.close()


async def listen(store: PostgresStore) -> tuple[asyncpg.Connection[Any], asyncio.Queue[str]]:
    """A LISTEN connection of its own on the commit channel; payloads land in the queue."""
    conn: asyncpg.Connection[Any] = await asyncpg.connect(store.engine.settings.url)
    payloads: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener(CHANNEL, lambda *args: payloads.put_nowait(args[3]))
    return conn, payloads


async def received(payloads: asyncio.Queue[str], count: int) -> set[str]:
    return {await asyncio.wait_for(payloads.get(), 10.0) for _ in range(count)}


async def sender_done(store: PostgresStore) -> int:
    """The notifier's committed transactions once its sender task has finished.

    A listener gets the payloads at the notifying COMMIT, before the sender counts that
    transaction: reading the counter right after the payloads arrive races the sender."""
    await store.notifier.close()  # waits for the sender task (bounded)
    return store.notifier.sent_transactions


async def test_runs_announced_together_share_one_notifying_transaction(
        pg_store: PostgresStore) -> None:
    conn, payloads = await listen(pg_store)
    try:
        for run in ("r1", "r2", "r3"):  # all queued before the sender task first runs
            pg_store.notifier.announce([("p", run)])
        assert await received(payloads, 3) == {"p r1", "p r2", "p r3"}
        assert await sender_done(pg_store) == 1
    finally:
        await conn.close()


async def test_an_ingest_is_announced_once_committed_and_a_duplicate_is_not(
        pg_store: PostgresStore) -> None:
    conn, payloads = await listen(pg_store)
    try:
        batch = IngestBatch([line(1, 0, "first")], 1, idempotency_key="k-1")
        assert not (await pg_store.ingest_logs(batch)).duplicate
        assert await received(payloads, 1) == {f"{P} {R}"}
        assert await sender_done(pg_store) == 1
        assert (await pg_store.ingest_logs(batch)).duplicate
        assert await sender_done(pg_store) == 1  # nothing was sent for the duplicate
    finally:
        await conn.close()


async def test_the_notifying_statement_commits_unsynced_and_leaves_the_session_setting(
        pg_store: PostgresStore) -> None:
    """One statement: its set_config is in force within its transaction (so that transaction
    commits without waiting for a WAL flush), and the pooled session keeps its own setting."""
    conn, payloads = await listen(pg_store)
    try:
        async with pg_store.engine.pool.acquire() as pooled:
            async with pooled.transaction():  # made explicit to look inside it
                assert await pooled.fetchval(NOTIFY_SQL, CHANNEL, ["p a"]) == 1
                assert await pooled.fetchval("SHOW synchronous_commit") == "off"
            assert await pooled.fetchval("SHOW synchronous_commit") == "on"
            assert await pooled.fetchval(NOTIFY_SQL, CHANNEL, ["p b", "p c"]) == 2
            assert await pooled.fetchval("SHOW synchronous_commit") == "on"
        assert await received(payloads, 3) == {"p a", "p b", "p c"}
    finally:
        await conn.close()


async def test_runs_announced_within_the_interval_wait_and_go_out_together(
        pg_store: PostgresStore) -> None:
    """A run's first notification goes out at once; under a steady load the notifier starts
    its transactions at least ``min_interval_seconds`` apart, and what queued meanwhile is
    sent together (one statement, not one per announcement)."""
    notifier = pg_store.notifier
    notifier.min_interval_seconds = 1.0
    conn, payloads = await listen(pg_store)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        notifier.announce([("p", "r1")])
        assert await received(payloads, 1) == {"p r1"}
        assert await sender_done(pg_store) == 1
        notifier.announce([("p", "r2")])
        await asyncio.sleep(0)  # the sender task starts and waits out the interval
        notifier.announce([("p", "r3")])
        assert await received(payloads, 2) == {"p r2", "p r3"}
        assert loop.time() - started >= notifier.min_interval_seconds
        assert await sender_done(pg_store) == 2
    finally:
        await conn.close()
