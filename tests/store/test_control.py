"""ControlStore contract (workspaces, projects, API keys, runs), on SQLite and PostgreSQL.

Every test talks to the :class:`Store` protocol only, so both backends must give the same
results and raise the same StoreConflict/StoreNotFound for the same calls.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from rundial_collector.store.base import Store
from rundial_collector.store.control_base import (NewApiKey, Project, RunQuery, RunStart,
                                                  StoreConflict, StoreNotFound)


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _project(store: Store, ws: str = "ws", slug: str = "proj") -> Project:
    workspace = await store.create_workspace(ws, ws.upper(), exist_ok=True)
    return await store.create_project(workspace.workspace_id, slug, slug.upper(), exist_ok=True)


def _start(project: Project, run_id: str, resume: str = "allow", **fields: Any) -> RunStart:
    return RunStart(run_id=run_id, run_id_given=True, project_id=project.project_id,
                    kind="training", resume=resume, **fields)


async def test_workspaces_unique_by_slug_and_listed_by_slug(store: Store) -> None:
    b = await store.create_workspace("b-ws", "B")
    a = await store.create_workspace("a-ws", "A")
    with pytest.raises(StoreConflict) as info:
        await store.create_workspace("b-ws", "again")
    assert info.value.field == "slug"
    assert await store.create_workspace("b-ws", "again", exist_ok=True) == b
    assert await store.get_workspace("b-ws") == b
    assert await store.get_workspace(b.workspace_id) == b
    assert await store.get_workspace("nope") is None
    assert [w.slug for w in await store.list_workspaces(None, None, 10)] == ["a-ws", "b-ws"]
    assert await store.list_workspaces(None, "a-ws", 10) == [b]
    assert await store.list_workspaces(a.workspace_id, None, 10) == [a]
    assert len(await store.list_workspaces(None, None, 1)) == 1


async def test_projects_unique_per_workspace_with_run_counts(store: Store) -> None:
    ws = await store.create_workspace("ws", "W")
    other = await store.create_workspace("other", "O")
    p = await store.create_project(ws.workspace_id, "p", "P")
    with pytest.raises(StoreConflict):
        await store.create_project(ws.workspace_id, "p", "P2")
    assert await store.create_project(ws.workspace_id, "p", "P2", exist_ok=True) == p
    q = await store.create_project(other.workspace_id, "p", "P")  # same slug, other workspace
    assert (p.workspace_slug, p.workspace_name, p.name) == ("ws", "W", "P")
    assert await store.get_project(p.project_id) == p
    assert await store.get_project_by_slugs("ws", "p") == p
    assert await store.get_project_by_slugs(other.workspace_id, q.project_id) == q
    assert await store.get_project_by_slugs("ws", "missing") is None
    found = await store.find_projects_by_slug("p", None, None)
    assert [x.project_id for x in found] == [q.project_id, p.project_id]  # by workspace slug
    assert await store.find_projects_by_slug("p", ws.workspace_id, None) == [p]
    await store.start_run(_start(p, "r1"), 1_000)
    await store.start_run(_start(p, "r2"), 2_000)
    listed = await store.list_projects(ws.workspace_id, None, None, 10)
    assert [(x.slug, x.run_count, x.last_activity_ms) for x in listed] == [("p", 2, 2_000)]
    await store.delete_run(p.project_id, "r2", "key", 3_000)
    listed = await store.list_projects(ws.workspace_id, p.project_id, None, 10)
    assert [x.run_count for x in listed] == [1]
    assert await store.list_projects(ws.workspace_id, None, "p", 10) == []


async def test_api_keys_by_hash_listed_and_revoked(store: Store) -> None:
    p = await _project(store)
    first = await store.create_api_key(NewApiKey("k1", "h1", p.workspace_id, p.project_id,
                                                 ("project:read", "runs:write"), "ci", 9_000))
    assert (first.scopes, first.label, first.expires_ms, first.revoked_ms) == (
        ("project:read", "runs:write"), "ci", 9_000, None)
    with pytest.raises(StoreConflict):
        await store.create_api_key(NewApiKey("k9", "h1", None, None, ("admin",)))
    assert await store.create_api_key(NewApiKey("k9", "h1", None, None, ("admin",)),
                                      exist_ok=True) == first
    await store.create_api_key(NewApiKey("k2", "h2", None, None, ("admin",)))
    assert await store.find_api_key("h1") == first
    assert await store.find_api_key("missing") is None
    assert await store.count_api_keys() == 2
    assert [k.key_id for k in await store.list_api_keys(p.project_id)] == ["k1"]
    revoked = await store.revoke_api_key(p.project_id, "k1", 5_000)
    assert revoked.revoked_ms == 5_000
    assert (await store.revoke_api_key(p.project_id, "k1", 6_000)).revoked_ms == 5_000
    assert await store.find_api_key("h1") == revoked
    with pytest.raises(StoreNotFound):
        await store.revoke_api_key(p.project_id, "k2", 5_000)  # not bound to this project


async def test_resume_matrix(store: Store) -> None:
    p = await _project(store)
    other = await _project(store, slug="other")
    with pytest.raises(StoreNotFound):
        await store.start_run(_start(p, "r", "must"), 1_000)
    run, created = await store.start_run(
        _start(p, "r", "never", name="n", tags=("a", "b"), config={"x": 1},
               client={"host": "h1"}), 1_000)
    assert created and (run.status, run.name, run.tags, run.config) == (
        "running", "n", ("a", "b"), {"x": 1})
    assert run.client == {"host": "h1"} and run.started_ms == run.updated_ms == 1_000
    with pytest.raises(StoreConflict):
        await store.start_run(_start(p, "r", "never"), 2_000)
    with pytest.raises(StoreConflict):
        await store.start_run(_start(other, "r", "allow"), 2_000)  # another project's id
    run, created = await store.start_run(
        _start(p, "r", "allow", tags=("b", "c"), config={"y": 2}, started_ms=500), 2_000)
    assert not created and (run.name, run.tags, run.config, run.started_ms) == (
        "n", ("a", "b", "c"), {"x": 1, "y": 2}, 500)
    await store.finish_run("r", "failed", "boom", 3_000, 3_000)
    with pytest.raises(StoreConflict):
        await store.start_run(_start(p, "r", "allow"), 4_000)  # allow never reopens
    run, created = await store.start_run(_start(p, "r", "must", name="m"), 4_000)
    assert not created and (run.status, run.reason, run.finished_ms, run.name) == (
        "running", None, None, "m")


async def test_start_token_repeat_is_unchanged(store: Store) -> None:
    p = await _project(store)
    first, created = await store.start_run(_start(p, "t", "never", start_token="tok"), 1_000)
    assert created
    again, created = await store.start_run(
        _start(p, "t", "never", start_token="tok", name="ignored"), 2_000)
    assert not created and again == first
    with pytest.raises(StoreConflict):
        await store.start_run(_start(p, "t", "never", start_token="other"), 2_000)


async def test_finish_and_config_rules(store: Store) -> None:
    p = await _project(store)
    await store.start_run(_start(p, "f", config={"a": 1}), 1_000)
    run = await store.merge_run_config("f", {"b": 2}, 1_500)
    assert run.config == {"a": 1, "b": 2} and run.updated_ms == 1_500
    run, changed = await store.finish_run("f", "completed", None, 2_000, 2_000)
    assert changed and (run.status, run.finished_ms, run.updated_ms) == ("completed", 2_000,
                                                                         2_000)
    run, changed = await store.finish_run("f", "completed", None, 9_000, 9_000)
    assert not changed and run.finished_ms == 2_000
    with pytest.raises(StoreConflict):
        await store.finish_run("f", "failed", None, 3_000, 3_000)
    with pytest.raises(StoreConflict):
        await store.merge_run_config("f", {"c": 3}, 3_000)
    with pytest.raises(StoreNotFound):
        await store.finish_run("missing", "completed", None, 3_000, 3_000)
    with pytest.raises(StoreNotFound):
        await store.merge_run_config("missing", {}, 3_000)


async def test_lost_is_derived_and_a_heartbeat_revives(store: Store) -> None:
    p = await _project(store)
    await store.start_run(_start(p, "old"), 1_000)  # heartbeat long ago: lost
    run = await store.get_run("old")
    assert run is not None and run.status == "lost"
    page, _ = await store.query_runs(RunQuery(p.project_id, 10, "asc", "runId",
                                              statuses=frozenset({"lost"})), _now_ms())
    assert [r.run_id for r in page] == ["old"]
    await store.record_heartbeat(p.project_id, "old", _now_ms())
    run = await store.get_run("old")
    assert run is not None and run.status == "running"
    await store.record_heartbeat(p.project_id, "unknown", _now_ms())  # ignored
    assert await store.get_run("unknown") is None
