"""PostgreSQL only: what several collectors on one database need from the event part.

* Gap-free cursors: a transaction that drew a lower position but commits after a higher one
  is never skipped by a tail that moved on.
* Commit notifications: a commit through one store reaches ``on_remote_commit`` callbacks of
  another, also after the listening connection was killed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.data_base import IngestBatch, LogLine
from rundial_collector.store.errors import StoreUnavailable
from rundial_collector.store.postgres import events_sql
from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.postgres.ingest_tx import ingest
from rundial_collector.store.postgres.store import PostgresStore
from tests.helpers.postgres import PgCluster
from tests.store.test_events import P, R, line

BIG = (1000, 1000, 1000)


async def test_a_late_commit_of_a_lower_position_is_not_skipped(
        two_pg_stores: list[PostgresStore]) -> None:
    a, b = two_pg_stores
    written = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer(conn: Conn, items: Sequence[Any], now_ms: int) -> None:
        await events_sql.write_lines(conn, items, now_ms)
        written.set()
        await release.wait()  # the transaction stays open, its rows uncommitted

    held = asyncio.create_task(ingest(a.engine, IngestBatch([line(1, 0, "first")], 1,
                                                            idempotency_key="k-a"),
                                      slow_writer, a.bookkeeping, a.notifier))
    await asyncio.wait_for(written.wait(), 10)
    await b.ingest_logs(IngestBatch([line(2, 0, "second")], 1, idempotency_key="k-b"))
    # A's row holds the lower position: it was written first, by the older transaction
    delivered: list[str] = []
    position = (0, 0, 0)

    async def tail() -> None:
        nonlocal position
        for reader in (a, b):
            found = await reader.tail_events(P, R, position, BIG)
            delivered.extend(x.message for x in found.lines)
            if found.lines:
                position = (0, found.lines[-1].log_id, 0)

    await tail()
    assert delivered == []  # "second" waits for the older transaction to end
    head_while_open = await b.event_head()
    release.set()
    assert (await asyncio.wait_for(held, 10)).accepted == 1
    await tail()
    assert delivered == ["first", "second"]
    everything = await b.replay_lines(P, R, (0, (await b.event_head())[1]), None, 10)
    assert [x.message for x in everything] == ["first", "second"]
    assert all(x.log_id > head_while_open[1] for x in everything)


class Held:
    """An ingest through ``ingest_tx`` whose writer waits for ``go`` before writing its lines
    and for ``release`` after, so a test orders transactions' steps (its idempotency key is
    claimed, and its transaction id assigned, before the writer runs)."""

    def __init__(self, store: PostgresStore, message: str, *, go: bool) -> None:
        self.started, self.written = asyncio.Event(), asyncio.Event()
        self.go, self.release = asyncio.Event(), asyncio.Event()
        if go:
            self.go.set()

        async def writer(conn: Conn, items: Sequence[Any], now_ms: int) -> None:
            self.started.set()
            await self.go.wait()
            await events_sql.write_lines(conn, items, now_ms)
            self.written.set()
            await self.release.wait()

        self.task = asyncio.create_task(ingest(
            store.engine, IngestBatch([line(1, 0, message)], 1, idempotency_key=message),
            writer, store.bookkeeping, store.notifier))


async def test_an_older_transaction_writing_later_is_not_skipped(
        two_pg_stores: list[PostgresStore]) -> None:
    """The older transaction (A) writes after the younger one (B) and commits first: an id
    drawn at insert would give B the lower id, committed last; filtering on ``txid < xmin``
    alone would then expose A's higher id first and skip B's row for good."""
    a, b = two_pg_stores
    first = Held(a, "older", go=False)
    await asyncio.wait_for(first.started.wait(), 10)
    second = Held(b, "younger", go=True)
    await asyncio.wait_for(second.written.wait(), 10)
    first.go.set()
    first.release.set()
    await asyncio.wait_for(first.task, 10)
    delivered: list[str] = []
    position = 0
    for step in range(2):
        found = await b.tail_events(P, R, (0, position, 0), BIG)
        delivered += [x.message for x in found.lines]
        position = found.lines[-1].log_id if found.lines else position
        if step == 0:
            second.release.set()
            await asyncio.wait_for(second.task, 10)
    assert delivered == ["older", "younger"]


async def test_tail_never_loses_rows_under_concurrent_writers(
        two_pg_stores: list[PostgresStore]) -> None:
    """Many interleaved ingests through two stores while a tail follows: each line is
    delivered exactly once, whatever order the transactions commit in."""
    a, b = two_pg_stores
    done = asyncio.Event()
    delivered: list[str] = []

    async def writer(store: PostgresStore, name: str) -> None:
        for i in range(40):
            await store.ingest_logs(IngestBatch(
                [LogLine(P, R, i, j, "info", f"{name}-{i}-{j}") for j in range(3)], 3))

    async def follower() -> None:
        position = 0
        while True:
            finished = done.is_set()
            found = await b.tail_events(P, R, (0, position, 0), (0, 50, 0))
            delivered.extend(x.message for x in found.lines)
            position = found.lines[-1].log_id if found.lines else position
            if finished and not found.lines:
                return

    follow = asyncio.create_task(follower())
    await asyncio.gather(*(writer(store, f"{name}{k}") for k in range(3)
                           for name, store in (("a", a), ("b", b))))
    done.set()
    await asyncio.wait_for(follow, 30)
    assert sorted(delivered) == sorted(f"{n}{k}-{i}-{j}" for n in "ab" for k in range(3)
                                       for i in range(40) for j in range(3))


async def test_commits_reach_the_other_store(
        two_pg_stores: list[PostgresStore], pg_cluster: PgCluster) -> None:
    a, b = two_pg_stores
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    b.on_remote_commit(lambda project_id, run_id: heard.put_nowait((project_id, run_id)))
    await asyncio.wait_for(b.listener.connected.wait(), 10)
    await a.ingest_logs(IngestBatch([line(1, 0, "x", run="run-7")], 1))
    assert await asyncio.wait_for(heard.get(), 5) == (P, "run-7")

    # kill the listening connection: the listener reconnects and hears later commits
    pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'rundial-collector-listen'",
                    database=a.engine.settings.url.rsplit("/", 1)[1])
    await asyncio.wait_for(_listening(b, sessions=2), 15)
    await a.ingest_logs(IngestBatch([line(2, 0, "y", run="run-8")], 1))
    while (heard_run := await asyncio.wait_for(heard.get(), 5)) != (P, "run-8"):
        assert heard_run[1] in ("run-7", "run-8")


async def test_a_rolled_back_ingest_notifies_nobody(
        two_pg_stores: list[PostgresStore]) -> None:
    a, b = two_pg_stores
    heard: list[tuple[str, str]] = []
    b.on_remote_commit(lambda project_id, run_id: heard.append((project_id, run_id)))
    await asyncio.wait_for(b.listener.connected.wait(), 10)

    async def failing(conn: Conn, items: Sequence[Any], now_ms: int) -> None:
        await events_sql.write_lines(conn, items, now_ms)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await ingest(a.engine, IngestBatch([line(1, 0, "x", run="gone")], 1), failing,
                     a.bookkeeping, a.notifier)
    await a.ingest_logs(IngestBatch([line(1, 0, "x", run="kept")], 1))
    deadline = asyncio.get_running_loop().time() + 5
    while (P, "kept") not in heard:
        assert asyncio.get_running_loop().time() < deadline, "no notification for 'kept'"
        await asyncio.sleep(0.02)
    assert (P, "gone") not in heard
    assert not await b.run_known(P, "gone")


async def _listening(store: PostgresStore, sessions: int) -> None:
    """Wait until the listener has started LISTEN ``sessions`` times (reconnects included)
    and is listening."""
    while store.listener.sessions < sessions:
        await asyncio.sleep(0.02)
    await store.listener.connected.wait()


async def test_a_notification_reannounces_recent_runs(
        two_pg_stores: list[PostgresStore]) -> None:
    """A row of run X may still be held back by an older transaction of run Y when X's
    notification arrives; Y's own notification then wakes X again."""
    a, b = two_pg_stores
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    b.on_remote_commit(lambda project_id, run_id: heard.put_nowait((project_id, run_id)))
    await asyncio.wait_for(b.listener.connected.wait(), 10)
    older = Held(a, "older", go=True)  # run R, its transaction still open
    await asyncio.wait_for(older.written.wait(), 10)
    await a.ingest_logs(IngestBatch([line(1, 0, "x", run="run-x")], 1))
    assert await asyncio.wait_for(heard.get(), 5) == (P, "run-x")
    assert [x.message for x in (await b.tail_events(P, "run-x", (0, 0, 0), BIG)).lines] == []
    older.release.set()
    await asyncio.wait_for(older.task, 10)
    woken = {await asyncio.wait_for(heard.get(), 5) for _ in range(2)}
    assert woken == {(P, R), (P, "run-x")}
    assert [x.message for x in (await b.tail_events(P, "run-x", (0, 0, 0), BIG)).lines] == ["x"]


async def test_the_listener_reconnects_after_a_database_restart(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Its own cluster (the session's one is shared): while the server is down the listener
    keeps retrying, and once it is back it listens again and hears commits."""
    cluster = PgCluster()
    await asyncio.to_thread(cluster.start)
    try:
        url = cluster.new_database()
        a = PostgresStore(CollectorConfig(data_dir=tmp_path / "a", database_url=url))
        b = PostgresStore(CollectorConfig(data_dir=tmp_path / "b", database_url=url))
        await a.start()
        await b.start()
        try:
            heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
            b.on_remote_commit(lambda p, r: heard.put_nowait((p, r)))
            await asyncio.wait_for(_listening(b, sessions=1), 10)
            await asyncio.to_thread(cluster.stop)
            deadline = asyncio.get_running_loop().time() + 15
            while not any("events listener: connection" in r.getMessage()
                          for r in caplog.records):
                assert asyncio.get_running_loop().time() < deadline, "no failed reconnect"
                await asyncio.sleep(0.05)
            await asyncio.to_thread(cluster.start)
            await asyncio.wait_for(_listening(b, sessions=2), 20)
            await _ingest_when_back(a, IngestBatch([line(1, 0, "back", run="after")], 1))
            assert await asyncio.wait_for(heard.get(), 5) == (P, "after")
        finally:
            await a.close()
            await b.close()
    finally:
        await asyncio.to_thread(cluster.destroy)


async def _ingest_when_back(store: PostgresStore, batch: IngestBatch[LogLine]) -> None:
    """Ingest, retrying while the pool still hands out connections the restart closed."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        try:
            await store.ingest_logs(batch)
            return
        except StoreUnavailable:
            assert asyncio.get_running_loop().time() < deadline, "the store never came back"
            await asyncio.sleep(0.1)
