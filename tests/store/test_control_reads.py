"""Run reads, run edits, UI sessions and runs_by_id: the store contract on SQLite and
PostgreSQL (same pages, same order, same errors)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from rundial_collector.store.base import Store
from rundial_collector.store.control_base import (NewApiKey, Project, RunQuery, RunStart,
                                                  StoreConflict, StoreNotFound)
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.store.sessions_base import NewUiSession

NAMES = {"r-a": "Beta", "r-b": None, "r-c": "alpha_1", "r-d": "Zeta", "r-e": "b\u00e9ta",
         "r-f": "ALPHA%1"}


async def _project(store: Store, slug: str = "proj") -> Project:
    ws = await store.create_workspace("ws", "W", exist_ok=True)
    return await store.create_project(ws.workspace_id, slug, slug, exist_ok=True)


async def _seed(store: Store) -> Project:
    p = await _project(store)
    for i, (run_id, name) in enumerate(sorted(NAMES.items())):
        await store.start_run(RunStart(run_id, True, p.project_id, "training", "never",
                                       name=name, client={"host": f"h{i}"} if i % 2 else None),
                              1_000 + 10 * (i % 3))
    return p


async def _all_pages(store: Store, query: RunQuery) -> list[str]:
    """Every run id, walking the keyset pages of ``query`` (limit 2)."""
    seen: list[str] = []
    while True:
        page, more = await store.query_runs(query, 1_000)
        seen += [r.run_id for r in page]
        if not more:
            return seen
        last = page[-1]
        value = {"runId": last.run_id, "startedAtMs": last.started_ms,
                 "updatedAtMs": last.updated_ms, "runName": last.name or ""}[query.order_by]
        query = RunQuery(query.project_id, query.limit, query.order, query.order_by,
                         after=(value, last.run_id), search=query.search)


@pytest.mark.parametrize("order_by", ["runId", "startedAtMs", "updatedAtMs", "runName"])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_keyset_pages_cover_every_run_once_in_order(store: Store, order_by: Any,
                                                          order: Any) -> None:
    p = await _seed(store)
    ids = await _all_pages(store, RunQuery(p.project_id, 2, order, order_by))
    whole, more = await store.query_runs(RunQuery(p.project_id, 100, order, order_by), 1_000)
    assert not more and ids == [r.run_id for r in whole] and sorted(ids) == sorted(NAMES)
    if order_by == "runName":  # byte order, missing names as ""
        expected = sorted(NAMES, key=lambda r: ((NAMES[r] or "").encode(), r),
                          reverse=order == "desc")
        assert ids == expected


@pytest.mark.parametrize(("search", "expected"), [
    ("alpha", ["r-c", "r-f"]), ("ALPHA_", ["r-c"]), ("%", ["r-f"]), ("\u00c9", []),
    ("b\u00e9", ["r-e"]), ("R-B", ["r-b"])])
async def test_search_is_a_substring_ascii_case_insensitive(store: Store, search: str,
                                                            expected: list[str]) -> None:
    p = await _seed(store)
    page, _ = await store.query_runs(RunQuery(p.project_id, 100, "asc", "runId",
                                              search=search), 1_000)
    assert [r.run_id for r in page] == expected


async def test_table_rows_match_runs_and_read_the_client_host(store: Store) -> None:
    p = await _seed(store)
    await store.start_run(RunStart("r-g", True, p.project_id, "eval", "never",
                                   client={"host": 5}, tags=("x",), config={"k": [1]}), 2_000)
    query = RunQuery(p.project_id, 100, "desc", "startedAtMs")
    rows, _ = await store.query_table_rows(query, 1_000)
    runs, _ = await store.query_runs(query, 1_000)
    assert [r.run_id for r in rows] == [r.run_id for r in runs]
    by_id = {r.run_id: r for r in rows}
    assert by_id["r-b"].host == "h1" and by_id["r-a"].host is None
    assert by_id["r-g"].host is None  # not a string
    assert orjson.loads(by_id["r-g"].tags_json) == ["x"]
    assert orjson.loads(by_id["r-g"].config_json) == {"k": [1]}


async def test_edits_update_log_and_delete_hides_for_good(store: Store) -> None:
    p = await _seed(store)
    other = await _project(store, "other")
    run = await store.edit_run(p.project_id, "r-a", RunEdit(name="new", tags=("t",),
                                                            notes="hi"), "key1", 5_000)
    assert (run.name, run.tags, run.notes, run.updated_ms) == ("new", ("t",), "hi", 5_000)
    run = await store.edit_run(p.project_id, "r-a", RunEdit(notes="again"), "key1", 10)
    assert (run.notes, run.updated_ms) == ("again", 5_000)  # updatedAtMs never moves back
    with pytest.raises(StoreNotFound):
        await store.edit_run(other.project_id, "r-a", RunEdit(name="x"), "key1", 6_000)
    await store.delete_run(p.project_id, "r-a", "key1", 7_000)
    assert await store.get_run("r-a") is None
    assert await store.runs_by_id(p.project_id, ["r-a"]) == []
    page, _ = await store.query_runs(RunQuery(p.project_id, 100, "asc", "runId"), 1_000)
    assert "r-a" not in [r.run_id for r in page]
    for call in (store.delete_run(p.project_id, "r-a", "key1", 8_000),
                 store.edit_run(p.project_id, "r-a", RunEdit(name="x"), "key1", 8_000),
                 store.finish_run("r-a", "completed", None, 8_000, 8_000)):
        with pytest.raises(StoreNotFound):
            await call
    with pytest.raises(StoreConflict):
        await store.start_run(RunStart("r-a", True, p.project_id, "training", "must"), 9_000)


async def test_runs_by_id_in_asked_order_of_the_project(store: Store) -> None:
    p = await _seed(store)
    other = await _project(store, "other")
    await store.start_run(RunStart("o-1", True, other.project_id, "training", "never"), 1_000)
    runs = await store.runs_by_id(p.project_id, ["r-c", "o-1", "missing", "r-a", "r-c"])
    assert [r.run_id for r in runs] == ["r-c", "r-a", "r-c"]
    assert all(r.status == "lost" for r in runs)  # derived, as get_run
    assert runs[0] == await store.get_run("r-c")


async def test_sessions_expire_and_login_tokens_are_single_use(store: Store) -> None:
    p = await _project(store)
    await store.create_api_key(NewApiKey("k1", "h1", None, p.project_id, ("admin",)))
    await store.create_ui_session(NewUiSession("s1", "session", "k1", 1_000, 2_000))
    await store.create_ui_session(NewUiSession("o1", "once", "k1", 1_000, 2_000))
    found = await store.find_ui_session("s1", 1_999)
    assert found is not None and found.key_id == "k1"
    assert await store.find_ui_session("s1", 2_000) is None
    assert await store.find_ui_session("o1", 1_500) is None  # a login token is no session
    assert await store.consume_login_token("s1", 1_500) is None  # a session is no login token
    await store.revoke_api_key(p.project_id, "k1", 1_200)
    consumed = await store.consume_login_token("o1", 1_500)
    assert consumed is not None and consumed.revoked_ms == 1_200  # caller sees the revocation
    assert await store.consume_login_token("o1", 1_500) is None
    await store.create_ui_session(NewUiSession("o2", "once", "k1", 1_000, 2_000))
    assert await store.consume_login_token("o2", 2_000) is None  # expired
    await store.delete_ui_session("s1")
    await store.delete_ui_session("s1")
    assert await store.find_ui_session("s1", 1_500) is None
    await store.create_ui_session(NewUiSession("s2", "session", "k1", 3_000, 9_000))
    assert await store.find_ui_session("s2", 3_000) is not None
