"""The PostgreSQL engine (store/postgres/engine.py) against a real server: a database that goes
away and comes back, statement timeouts, pool saturation, conflict retries, and URLs that
never show a password (engine, logs, the collector's start-up lines).

These test the engine itself, so they use SQL directly. The stop/start tests run on a private
cluster of their own (the session's cluster keeps serving the other tests).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rundial_collector.store.errors import StoreUnavailable, WriteQueueFull
from rundial_collector.store.postgres.engine import Conn, PgEngine, PgSettings, redacted_url
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.postgres import PgCluster, free_port, private_cluster

SECRET = "s3cret-PW"  # the test clusters run in trust mode: any password is accepted


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PgCluster]:
    """A cluster these tests may stop and start."""
    with private_cluster() as cluster:
        yield cluster


async def _engine(url: str, **settings: float) -> PgEngine:
    engine = PgEngine(PgSettings(url=url, connect_timeout_seconds=3.0, **settings))  # type: ignore[arg-type]
    await engine.start()
    return engine


@pytest.fixture
async def engine(pg_cluster: PgCluster) -> AsyncIterator[PgEngine]:
    started = await _engine(pg_cluster.new_database("eng"), pool_max_size=2)
    try:
        yield started
    finally:
        await started.close()


def _ensure_running(cluster: PgCluster) -> None:
    """Start ``cluster`` again if a failed test left it stopped."""
    if not (cluster.data_dir / "postmaster.pid").exists():
        cluster.start()


async def _one(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT 1"))


async def _write_row(conn: Conn) -> int:
    await conn.execute("CREATE TABLE IF NOT EXISTS t (x INT)")
    await conn.execute("INSERT INTO t VALUES (1)")
    return int(await conn.fetchval("SELECT count(*) FROM t"))


async def _until_ok(engine: PgEngine, timeout_seconds: float = 30.0) -> int:
    """Retry a read until it succeeds; every failure meanwhile must be StoreUnavailable."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return await engine.read(_one)
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_a_stopped_database_raises_store_unavailable_and_recovers(
        own_cluster: PgCluster) -> None:
    engine = await _engine(own_cluster.new_database("stop"), pool_min_size=2, pool_max_size=2)
    try:
        assert await engine.write(_write_row) == 1
        await asyncio.to_thread(own_cluster.stop)
        for _ in range(3):  # pooled connections died, then new ones are refused
            with pytest.raises(StoreUnavailable):
                await engine.read(_one)
            with pytest.raises(StoreUnavailable):
                await engine.write(_write_row)
        await asyncio.to_thread(own_cluster.start)
        assert await engine.read(_one) == 1  # the same engine, no re-creation, at once
        assert await engine.write(_write_row) == 2  # the failed writes committed nothing
    finally:
        _ensure_running(own_cluster)
        await engine.close()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_after_a_restart_while_idle_the_next_call_succeeds(own_cluster: PgCluster,
                                                                 mode: str) -> None:
    """Pooled connections that died while idle are replaced on acquire: no call fails once
    the server is back (a crash, ``immediate``, included)."""
    engine = await _engine(own_cluster.new_database("idle"), pool_min_size=3, pool_max_size=3)
    try:
        assert await engine.write(_write_row) == 1
        await asyncio.to_thread(own_cluster.restart, mode)
        results = await asyncio.gather(*(engine.read(_one) for _ in range(3)))
        assert results == [1, 1, 1]
    finally:
        _ensure_running(own_cluster)
        await engine.close()


async def test_a_database_stopping_mid_statement_raises_store_unavailable(
        own_cluster: PgCluster) -> None:
    engine = await _engine(own_cluster.new_database("mid"))
    try:
        async def slow(conn: Conn) -> None:
            await conn.execute("SELECT pg_sleep(30)")

        running = asyncio.ensure_future(engine.read(slow))
        await _until_sleeping(own_cluster)
        await asyncio.to_thread(own_cluster.stop)
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(running, timeout=20)
        await asyncio.to_thread(own_cluster.start)
        assert await _until_ok(engine) == 1
    finally:
        _ensure_running(own_cluster)
        await engine.close()


async def _until_sleeping(cluster: PgCluster) -> None:
    deadline = time.monotonic() + 10
    sql = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'"
    while (await asyncio.to_thread(cluster.psql, sql)).strip() == "0":
        assert time.monotonic() < deadline, "the slow statement never started"
        await asyncio.sleep(0.02)


async def test_start_against_no_server_raises_store_unavailable() -> None:
    engine = PgEngine(PgSettings(url=f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/x",
                                 connect_timeout_seconds=3.0))
    with pytest.raises(StoreUnavailable) as caught:
        await engine.start()
    assert SECRET not in str(caught.value)


@pytest.mark.serial
async def test_a_statement_timeout_raises_store_unavailable(pg_cluster: PgCluster) -> None:
    engine = await _engine(pg_cluster.new_database("tmo"), statement_timeout_seconds=0.2)
    try:
        async def slow(conn: Conn) -> None:
            await conn.execute("SELECT pg_sleep(5)")

        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await engine.read(slow)
        with pytest.raises(StoreUnavailable):
            await engine.write(slow)
        assert time.monotonic() - started < 4  # cancelled by the server, not run to the end
        assert await engine.read(_one) == 1  # the connection is still usable
    finally:
        await engine.close()


@pytest.mark.serial
async def test_pool_saturation_raises_write_queue_full_at_once(pg_cluster: PgCluster) -> None:
    engine = await _engine(pg_cluster.new_database("sat"), pool_max_size=1, max_waiting_jobs=1)
    release = asyncio.Event()
    entered = asyncio.Event()
    try:
        async def hold(conn: Conn) -> int:
            entered.set()
            await release.wait()
            return await _one(conn)

        holding = asyncio.ensure_future(engine.write(hold))  # uses the only connection
        await asyncio.wait_for(entered.wait(), 10)
        waiting = asyncio.ensure_future(engine.read(_one))  # waits for it
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(WriteQueueFull):
            await engine.read(_one)
        with pytest.raises(WriteQueueFull):
            await engine.write(_write_row)
        assert time.monotonic() - started < 1.0
        release.set()
        assert await asyncio.wait_for(asyncio.gather(holding, waiting), 10) == [1, 1]
        assert await engine.write(_write_row) == 1  # capacity is back
    finally:
        release.set()
        await engine.close()


async def test_a_serialization_failure_is_retried(engine: PgEngine) -> None:
    calls = 0

    async def flaky(conn: Conn) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
                               "'40001'; END $$")
        return await _write_row(conn)

    assert await engine.write(flaky) == 1
    assert calls == 2


async def test_a_transaction_left_idle_is_ended_by_the_server(pg_cluster: PgCluster) -> None:
    """A collector that stalls inside a transaction cannot hold back every live stream: the
    server ends the transaction after the statement timeout (StoreUnavailable, rolled back)."""
    engine = await _engine(pg_cluster.new_database("eng"), statement_timeout_seconds=0.3)
    try:
        await engine.write(lambda conn: conn.execute("CREATE TABLE t (x INT)"))

        async def stall(conn: Conn) -> int:
            await conn.execute("INSERT INTO t VALUES (1)")
            await asyncio.sleep(1.5)  # the stall under test: idle inside the transaction
            return await _one(conn)

        with pytest.raises(StoreUnavailable):
            await engine.write(stall)
        assert await engine.read(lambda conn: conn.fetchval("SELECT COUNT(*) FROM t")) == 0
    finally:
        await engine.close()


async def test_a_read_sees_one_snapshot_across_its_statements(engine: PgEngine) -> None:
    """A commit landing between two statements of one read is invisible to both."""
    await engine.write(_write_row)
    committed = asyncio.Event()

    async def read_twice(conn: Conn) -> tuple[int, int]:
        first = int(await conn.fetchval("SELECT COUNT(*) FROM t"))
        await engine.write(_write_row)  # another connection commits meanwhile
        committed.set()
        return first, int(await conn.fetchval("SELECT COUNT(*) FROM t"))

    first, second = await engine.read(read_twice)
    assert committed.is_set() and first == second == 1
    assert await engine.read(lambda conn: conn.fetchval("SELECT COUNT(*) FROM t")) == 2


# libpq (and asyncpg) also read ``password``/``sslpassword`` from the query string.
@pytest.mark.parametrize("url", [
    f"postgresql://user:{SECRET}@db.example:5432/rundial",
    f"postgresql://user:{SECRET}%40x@db.example/rundial",
    f"postgresql://:{SECRET}@db.example/rundial",
    f"postgresql://user:{SECRET}@[::1]:5432/rundial",
    f"postgresql://user:{SECRET}@h1:5432,h2:5433/rundial",
    f"postgresql://user@db.example/rundial?password={SECRET}&sslmode=require",
    f"postgresql://db.example/rundial?sslmode=require&PassWord={SECRET}",
    f"postgresql://db.example/rundial?sslpassword={SECRET}",
    f"postgresql://user:{SECRET}@[broken/rundial",
])
def test_redacted_url_never_shows_a_password(url: str) -> None:
    shown = redacted_url(url)
    assert SECRET not in shown
    assert shown.startswith("postgresql://")


def test_redacted_url_keeps_what_is_not_secret() -> None:
    assert redacted_url("postgresql://user@db:5432/rundial?sslmode=require") == (
        "postgresql://user@db:5432/rundial?sslmode=require")
    assert redacted_url(f"postgresql://user:{SECRET}@db:5432/rundial?password=x&a=b") == (
        "postgresql://user:***@db:5432/rundial?password=***&a=b")


def test_settings_errors_never_show_a_password() -> None:
    with pytest.raises(ValueError) as caught:
        PgSettings(url=f"mysql://user:{SECRET}@db/rundial")
    assert SECRET not in str(caught.value)


def test_the_collector_never_logs_the_password_when_the_database_is_unreachable(
        tmp_path: Path) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/rundial?password={SECRET}"
    proc = CollectorProcess(tmp_path / "c", database_url=url, extra_env={
        "RUNDIAL_COLLECTOR_DATABASE_CONNECT_TIMEOUT_SECONDS": "2"})
    with pytest.raises(RuntimeError):
        proc.start()  # exits: the database cannot be reached
    proc.kill()
    text = proc.log_text()
    assert "cannot connect to postgresql://postgres:***@127.0.0.1" in text
    assert SECRET not in text
    assert "Traceback" not in text  # one clear line, exit code 1
    assert "rundial-collector: the database is unavailable:" in text


def test_the_collector_start_up_line_shows_no_password(pg_cluster: PgCluster,
                                                       tmp_path: Path) -> None:
    url = pg_cluster.new_database("log").replace("postgres@", f"postgres:{SECRET}@", 1)
    proc = CollectorProcess(tmp_path / "c", database_url=url)
    proc.start()
    try:
        text = proc.log_text()
        assert "listening on" in text
        assert "postgresql://postgres:***@127.0.0.1" in text
        assert SECRET not in text
    finally:
        proc.stop()
    assert SECRET not in proc.log_text()



@pytest.mark.parametrize(("url", "env", "reason"), [
    (f"mysql://u:{SECRET}@db/x", {}, "must start with postgresql://"),
    ("postgresql://u@db/x", {"RUNDIAL_COLLECTOR_DATABASE_SSL": "bogus"}, "database_ssl must be"),
    ("postgresql://u@db/x", {"RUNDIAL_COLLECTOR_DATABASE_POOL_MAX_SIZE": "0"}, "pool"),
])
def test_unusable_database_settings_are_one_line_and_exit_2(
        tmp_path: Path, url: str, env: dict[str, str], reason: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rundial_collector", "serve", "--port", "0", "--data-dir",
         str(tmp_path / "d"), "--database-url", url], capture_output=True, text=True,
        env={**os.environ, **env}, timeout=60)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and "Traceback" not in done.stderr
    assert SECRET not in done.stderr
