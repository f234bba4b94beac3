"""PostgreSQL schema migrations (store/postgres/migrate.py) on a real server.

These test the migration runner itself, so they use SQL directly: from an empty database, from
every earlier version (the end schema must be the same), re-runs, two collectors migrating at
once (advisory lock), a database from a newer collector, and a failing migration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from rundial_collector.store.postgres.migrate import (LOCK_KEY, Migration, SchemaTooNew,
                                                      applied_versions, available, migrate)
from tests.helpers.postgres import PgCluster


@pytest.fixture
async def db_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.new_database("mig")


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    connection = await asyncpg.connect(db_url)
    try:
        yield connection
    finally:
        await connection.close()


async def schema_of(conn: asyncpg.Connection[asyncpg.Record]) -> dict[str, list[str]]:
    """Every table column, index, constraint and sequence of the public schema, as text."""
    columns = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, column_default,"
        " is_identity, identity_generation FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        " ORDER BY indexname")
    constraints = await conn.fetch(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        " ORDER BY 1, 2")
    functions = await conn.fetch(
        "SELECT proname, pg_get_functiondef(oid) FROM pg_proc"
        " WHERE pronamespace = 'public'::regnamespace ORDER BY 1")
    triggers = await conn.fetch(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
        " ORDER BY 1, 2")
    return {name: [repr(tuple(row)) for row in rows] for name, rows in (
        ("columns", columns), ("indexes", indexes), ("constraints", constraints),
        ("functions", functions), ("triggers", triggers))}


def test_shipped_migrations_are_numbered_from_one_without_duplicates() -> None:
    """Unique, increasing, from 1; a gap is allowed (0007 agents/audit was numbered while 0006
    evals was being written elsewhere)."""
    versions = [m.version for m in available()]
    assert versions[0] == 1 and versions == sorted(set(versions))
    assert {1, 2, 3, 4, 5, 7} <= set(versions)


async def test_empty_database_migrates_to_the_newest_version(
        conn: asyncpg.Connection[asyncpg.Record]) -> None:
    everything = [m.version for m in available()]
    assert await migrate(conn) == everything
    assert await applied_versions(conn) == everything
    tables = {r[0] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"rundial_schema_migrations", "idempotency_keys", "client_diagnostics"} <= tables


async def test_rerun_applies_nothing_and_keeps_the_schema(
        conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await migrate(conn)
    before = await schema_of(conn)
    assert await migrate(conn) == []
    assert await schema_of(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM rundial_schema_migrations") == len(
        available())


@pytest.mark.parametrize("start", [0, *(m.version for m in available()[:-1])])
async def test_every_earlier_version_upgrades_to_the_same_schema(
        pg_cluster: PgCluster, start: int) -> None:
    """migrate(up_to=start) then migrate() ends where a fresh migrate() ends."""
    fresh = await asyncpg.connect(pg_cluster.new_database("fresh"))
    stepped = await asyncpg.connect(pg_cluster.new_database("stepped"))
    try:
        await migrate(fresh)
        first = await migrate(stepped, up_to=start)
        versions = [m.version for m in available()]
        assert first == [v for v in versions if v <= start]
        assert await applied_versions(stepped) == first
        rest = await migrate(stepped)
        assert rest == [v for v in versions if v > start]
        assert await schema_of(stepped) == await schema_of(fresh)
        assert await applied_versions(stepped) == await applied_versions(fresh)
    finally:
        await fresh.close()
        await stepped.close()


def _slow_migrations() -> list[Migration]:
    """Migrations that fail if run twice (plain CREATE TABLE) and take long enough that two
    unlocked runners would overlap."""
    return [Migration(1, "first", "CREATE TABLE one (x INT); SELECT pg_sleep(0.3);"),
            Migration(2, "second", "CREATE TABLE two (x INT); SELECT pg_sleep(0.3);")]


async def test_two_concurrent_runners_apply_each_version_once(db_url: str) -> None:
    a = await asyncpg.connect(db_url)
    b = await asyncpg.connect(db_url)
    try:
        applied_a, applied_b = await asyncio.gather(migrate(a, _slow_migrations()),
                                                    migrate(b, _slow_migrations()))
        assert sorted(applied_a + applied_b) == [1, 2]
        assert [] in (applied_a, applied_b)  # one runner did everything, the other nothing
        rows = await a.fetch("SELECT version FROM rundial_schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == [1, 2]
        # The lock is released afterwards: a third runner neither waits nor applies.
        assert await asyncio.wait_for(migrate(a, _slow_migrations()), timeout=10) == []
    finally:
        await a.close()
        await b.close()


async def test_two_collectors_starting_together_migrate_once(db_url: str) -> None:
    """The shipped migrations, two runners at once: same end state as one."""
    a = await asyncpg.connect(db_url)
    b = await asyncpg.connect(db_url)
    try:
        results = await asyncio.gather(migrate(a), migrate(b))
        assert sorted(results[0] + results[1]) == [m.version for m in available()]
        assert await applied_versions(a) == [m.version for m in available()]
    finally:
        await a.close()
        await b.close()


async def test_a_database_from_a_newer_collector_raises_schema_too_new(
        db_url: str, conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await migrate(conn)
    newer = available()[-1].version + 1
    await conn.execute("INSERT INTO rundial_schema_migrations (version, name) VALUES ($1, $2)",
                       newer, "from_the_future")
    with pytest.raises(SchemaTooNew, match=f"version {newer}"):
        await migrate(conn)
    # Nothing was applied or removed, and the lock was released.
    assert await applied_versions(conn) == [*(m.version for m in available()), newer]
    await _assert_lock_free(db_url)


async def test_a_failing_migration_rolls_back_alone(
        db_url: str, conn: asyncpg.Connection[asyncpg.Record]) -> None:
    broken = [Migration(1, "good", "CREATE TABLE good (x INT);"),
              Migration(2, "bad", "CREATE TABLE half (x INT); INSERT INTO nowhere VALUES (1);"),
              Migration(3, "after", "CREATE TABLE after_bad (x INT);")]
    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate(conn, broken)
    assert await applied_versions(conn) == [1]
    tables = {r[0] for r in await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert "good" in tables
    assert "half" not in tables  # the failing file's own DDL rolled back with it
    assert "after_bad" not in tables  # nothing after it ran
    await _assert_lock_free(db_url)
    # Fixed, the run continues from where it stopped.
    fixed = [broken[0], Migration(2, "bad", "CREATE TABLE half (x INT);"), broken[2]]
    assert await migrate(conn, fixed) == [2, 3]



async def _assert_lock_free(db_url: str) -> None:
    """The migration lock was released: another session takes it at once (a session's own
    advisory locks are re-entrant, so this must be another session)."""
    other = await asyncpg.connect(db_url)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY) is True
    finally:
        await other.close()
