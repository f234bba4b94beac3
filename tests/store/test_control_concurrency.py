"""Two stores on one database (two collectors) racing on the control plane, on SQLite and
PostgreSQL: a check-then-insert never lets both win, never fails with a database error (what
would be a 500), and one store sees what the other committed.

Each race is started with ``asyncio.gather`` on both stores (two connection pools, so the
statements really interleave on PostgreSQL) and repeated, since a race may not show every time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rundial_collector.store.base import Store
from rundial_collector.store.control_base import (NewApiKey, Project, RunStart, StoreConflict,
                                                  StoreNotFound)
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.store.sessions_base import NewUiSession

ROUNDS = 12


async def _both(*calls: Any) -> list[Any]:
    """Run the calls at once; their results, with StoreConflict/StoreNotFound as values."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


def _check(results: list[Any]) -> None:
    """Only the store's own errors are allowed (a database error would be a 500)."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(
                result, (StoreConflict, StoreNotFound)):
            raise result


async def _project(store: Store) -> Project:
    ws = await store.create_workspace("ws", "W", exist_ok=True)
    return await store.create_project(ws.workspace_id, "p", "P", exist_ok=True)


async def test_same_workspace_slug_one_wins(store: Store, peer_store: Store) -> None:
    for i in range(ROUNDS):
        results = await _both(store.create_workspace(f"w{i}", "A"),
                              peer_store.create_workspace(f"w{i}", "B"))
        _check(results)
        assert sorted(type(r).__name__ for r in results) == ["StoreConflict", "Workspace"]
        same = await _both(store.create_workspace(f"x{i}", "A", exist_ok=True),
                           peer_store.create_workspace(f"x{i}", "B", exist_ok=True))
        _check(same)
        assert same[0] == same[1]


async def test_same_project_slug_one_wins(store: Store, peer_store: Store) -> None:
    ws = await store.create_workspace("ws", "W")
    for i in range(ROUNDS):
        results = await _both(store.create_project(ws.workspace_id, f"p{i}", "A"),
                              peer_store.create_project(ws.workspace_id, f"p{i}", "B"))
        _check(results)
        assert sorted(type(r).__name__ for r in results) == ["Project", "StoreConflict"]
        same = await _both(store.create_project(ws.workspace_id, f"q{i}", "A", exist_ok=True),
                           peer_store.create_project(ws.workspace_id, f"q{i}", "B", exist_ok=True))
        _check(same)
        assert same[0] == same[1]


async def test_same_key_hash_stored_once(store: Store, peer_store: Store) -> None:
    for i in range(ROUNDS):
        results = await _both(
            store.create_api_key(NewApiKey(f"a{i}", f"h{i}", None, None, ("admin",)),
                                 exist_ok=True),
            peer_store.create_api_key(NewApiKey(f"b{i}", f"h{i}", None, None, ("admin",)),
                                 exist_ok=True))
        _check(results)
        assert results[0] == results[1]
    assert await peer_store.count_api_keys() == ROUNDS


async def test_concurrent_starts_of_one_run_create_it_once(store: Store, peer_store: Store) -> None:
    p = await _project(store)
    for i in range(ROUNDS):
        allow = await _both(
            store.start_run(RunStart(f"a{i}", True, p.project_id, "training", "allow",
                                     tags=("x",), config={"a": 1}), 1_000),
            peer_store.start_run(RunStart(f"a{i}", True, p.project_id, "training", "allow",
                                     tags=("y",), config={"b": 2}), 1_000))
        _check(allow)
        assert sorted(created for _, created in allow) == [False, True]
        final = await store.get_run(f"a{i}")
        assert final is not None and final.config == {"a": 1, "b": 2}
        assert sorted(final.tags) == ["x", "y"]
        never = await _both(
            store.start_run(RunStart(f"n{i}", True, p.project_id, "training", "never"), 1_000),
            peer_store.start_run(RunStart(f"n{i}", True, p.project_id, "training", "never"), 1_000))
        _check(never)
        assert sorted(type(r).__name__ for r in never) == ["StoreConflict", "tuple"]


async def test_same_start_token_is_idempotent_across_stores(store: Store, peer_store: Store) -> None:
    p = await _project(store)
    for i in range(ROUNDS):
        start = RunStart(f"t{i}", True, p.project_id, "training", "never", start_token="tok")
        results = await _both(store.start_run(start, 1_000), peer_store.start_run(start, 1_000))
        _check(results)
        assert sorted(created for _, created in results) == [False, True]
        assert results[0][0] == results[1][0]


async def test_concurrent_config_merges_and_edits_lose_nothing(store: Store,
                                                               peer_store: Store) -> None:
    p = await _project(store)
    await store.start_run(RunStart("m", True, p.project_id, "training", "never"), 1_000)
    for i in range(ROUNDS):
        _check(await _both(store.merge_run_config("m", {f"a{i}": i}, 2_000),
                           peer_store.merge_run_config("m", {f"b{i}": i}, 2_000),
                           store.edit_run(p.project_id, "m", RunEdit(notes=f"n{i}"), "k",
                                          2_000)))
    run = await peer_store.get_run("m")
    assert run is not None
    assert run.config == {**{f"a{i}": i for i in range(ROUNDS)},
                          **{f"b{i}": i for i in range(ROUNDS)}}


async def test_finish_races_a_start_and_a_delete(store: Store, peer_store: Store) -> None:
    p = await _project(store)
    for i in range(ROUNDS):
        run_id = f"f{i}"
        await store.start_run(RunStart(run_id, True, p.project_id, "training", "never"), 1_000)
        results = await _both(store.finish_run(run_id, "completed", None, 2_000, 2_000),
                              peer_store.finish_run(run_id, "failed", None, 2_000, 2_000),
                              peer_store.delete_run(p.project_id, run_id, "k", 2_000))
        _check(results)
        assert [type(r).__name__ for r in results[:2]].count("tuple") <= 1  # one terminal status
        assert await store.get_run(run_id) is None  # the delete always happened


async def test_a_login_token_is_consumed_once(store: Store, peer_store: Store) -> None:
    p = await _project(store)
    await store.create_api_key(NewApiKey("k1", "h1", None, p.project_id, ("admin",)))
    for i in range(ROUNDS):
        await store.create_ui_session(NewUiSession(f"o{i}", "once", "k1", 1_000, 9_000))
        results = await _both(store.consume_login_token(f"o{i}", 2_000),
                              peer_store.consume_login_token(f"o{i}", 2_000))
        _check(results)
        assert sorted(r is None for r in results) == [False, True]


async def test_a_revocation_is_seen_by_the_other_store(store: Store, peer_store: Store) -> None:
    p = await _project(store)
    await store.create_api_key(NewApiKey("k1", "h1", None, p.project_id, ("admin",)))
    await peer_store.create_ui_session(NewUiSession("s1", "session", "k1", 1_000, 9_000))
    before = await peer_store.find_api_key("h1")
    assert before is not None and before.revoked_ms is None
    await store.revoke_api_key(p.project_id, "k1", 1_500)
    after = await peer_store.find_api_key("h1")
    assert after is not None and after.revoked_ms == 1_500
    via_session = await peer_store.find_ui_session("s1", 2_000)
    assert via_session is not None and via_session.revoked_ms == 1_500


async def test_only_one_first_key_is_stored_when_two_collectors_bootstrap(
        store: Store, peer_store: Store) -> None:
    """Two collectors starting on one fresh database: exactly one first key wins."""
    keys = [NewApiKey(f"key_first_{n}", f"hash_first_{n}", None, None, ("admin",), "first")
            for n in range(2)]
    results = await _both(store.create_first_api_key(keys[0]),
                          peer_store.create_first_api_key(keys[1]))
    _check(results)
    assert sum(result is not None for result in results) == 1, results
    assert await store.count_api_keys() == 1
    assert await peer_store.create_first_api_key(
        NewApiKey("key_late", "hash_late", None, None, ("admin",), "late")) is None
