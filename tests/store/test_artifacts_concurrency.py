"""Artifact numbering, initiate retries and expiry under concurrency, and the GC sweep lock.

``peer_store`` (tests/store/conftest.py) is a second store on the same database: on
PostgreSQL another :class:`PostgresStore` (its own pool, as another collector would have), on
SQLite a second store on the same file. Both stores' calls are interleaved with
``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from rundial_collector.store.artifacts_base import MediaQuery
from rundial_collector.store.base import Store
from rundial_collector.store.postgres.artifacts import insert_media
from rundial_collector.store.postgres.store import PostgresStore
from tests.helpers.postgres import PgCluster
from tests.store.artifact_data import NOW_MS, PROJECT, media, new_version

VERSIONS = 24


async def test_concurrent_finalizes_get_distinct_gap_free_numbers(store: Store,
                                                                   peer_store: Store) -> None:
    pending = [await store.begin_artifact_upload(new_version("shared", aliases=(f"a{i % 3}",)))
               for i in range(VERSIONS)]
    outcomes = await asyncio.gather(*(
        (store if i % 2 else peer_store).finalize_artifact_version(v.artifact_id, NOW_MS + i)
        for i, v in enumerate(pending)))
    numbers = sorted(o.version.version or 0 for o in outcomes)
    assert numbers == list(range(1, VERSIONS + 1))
    by_number = {o.version.version: o.version.artifact_id for o in outcomes}
    latest = await peer_store.resolve_artifact(PROJECT, "shared", "latest", None)
    assert latest is not None and latest.artifact_id == by_number[VERSIONS]
    for alias in ("a0", "a1", "a2"):  # each alias ends on the last version that asked for it
        holder = await store.resolve_artifact(PROJECT, "shared", alias, None)
        askers = [o.version.version or 0 for o in outcomes
                  if alias in o.version.requested_aliases]
        assert holder is not None and holder.version == max(askers)
    listed = await store.list_artifact_versions(PROJECT, "shared", include_deleted=False)
    assert [v.version for v in listed] == list(range(1, VERSIONS + 1))


async def test_concurrent_finalizes_with_retention_keep_the_newest(store: Store,
                                                                   peer_store: Store) -> None:
    pending = [await store.begin_artifact_upload(new_version("ckpt", keep_last=3))
               for _ in range(12)]
    await asyncio.gather(*((store if i % 2 else peer_store).finalize_artifact_version(
        v.artifact_id, NOW_MS) for i, v in enumerate(pending)))
    kept = await store.list_artifact_versions(PROJECT, "ckpt", include_deleted=False)
    assert [v.version for v in kept] == [10, 11, 12]


async def test_a_retried_initiate_reaching_two_collectors_reuses_one_row(store: Store,
                                                                         peer_store: Store) -> None:
    began = await asyncio.gather(*(
        (store if i % 2 else peer_store).begin_artifact_upload(new_version(idempotency_key="same"))
        for i in range(8)))
    assert len({v.artifact_id for v in began}) == 1
    final = await peer_store.finalize_artifact_version(began[0].artifact_id, NOW_MS)
    assert final.version.version == 1


async def test_concurrent_expiry_releases_each_upload_once(store: Store, peer_store: Store) -> None:
    for i in range(10):
        await store.begin_artifact_upload(new_version(
            f"n{i}", expires_ms=NOW_MS - 1, files=()))
        await store.begin_artifact_upload(new_version(f"m{i}", expires_ms=NOW_MS - 1))
    released = await asyncio.gather(store.expire_artifact_uploads(NOW_MS),
                                     peer_store.expire_artifact_uploads(NOW_MS))
    both = released[0] + released[1]
    assert len(both) == len(set(both)) == 10  # each pending upload's blob, released once
    assert await store.expire_artifact_uploads(NOW_MS) == []


async def test_one_sweeper_at_a_time_across_postgres_stores(
        two_pg_stores: list[PostgresStore]) -> None:
    first, second = two_pg_stores
    async with first.sweep_lock() as held:
        assert held is True
        async with second.sweep_lock() as other:
            assert other is False
        async with first.sweep_lock() as same_store_again:
            assert same_store_again is False  # one sweep per database, even in one collector
    async with second.sweep_lock() as after:
        assert after is True


async def test_a_media_pager_never_skips_an_item_committed_late(
        two_pg_stores: list[PostgresStore], pg_cluster: PgCluster) -> None:
    """Collector A has inserted a media item but not committed (its id is drawn) when collector
    B stores another item of the same run. A reader paging by id must still see A's item once
    it commits: B's item may not become visible with a larger id before A's."""
    store = two_pg_stores[0]
    url = store.engine.settings.url  # type: ignore[attr-defined]
    conn = await asyncpg.connect(url)
    try:
        tx = conn.transaction()
        await tx.start()
        await insert_media(conn, [media("r", "k", 1)])  # collector A, not committed yet
        later = asyncio.create_task(store.add_media_items([media("r", "k", 2)]))
        await eventually_waits_or_done(conn, later)
        first = await store.query_media(MediaQuery(PROJECT, "r"))
        await tx.commit()
        assert await later == 1
        after = first[-1].item_id if first else 0
        rest = await store.query_media(MediaQuery(PROJECT, "r", after_id=after or 0))
        assert sorted(m.step for m in first + rest) == [1, 2]
    finally:
        await conn.close()


async def eventually_waits_or_done(conn: asyncpg.Connection, task: asyncio.Task[int]) -> None:
    """Until ``task`` finished or some session waits for a lock (no sleeping on a guess)."""
    deadline = time.monotonic() + 10.0
    while not task.done():
        waiting = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted")
        if waiting:
            return
        assert time.monotonic() < deadline, "neither finished nor waiting"
        await asyncio.sleep(0.01)
