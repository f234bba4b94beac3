"""Eval store contract (store/evals_base.py), on SQLite and PostgreSQL alike: suites and eval
runs are get-or-create per id and project, result rows are replaced per key (a re-send changes
nothing), and the diff pages regressions first with counts over the whole diff."""

from __future__ import annotations

import asyncio

import pytest

from rundial_collector.store.base import Store
from rundial_collector.store.control_base import Project, RunStart, StoreConflict
from rundial_collector.store.evals_base import EvalDiffQuery, EvalResult, EvalRun, EvalSuite


async def _project(store: Store, slug: str = "proj") -> Project:
    workspace = await store.create_workspace("ws", "WS", exist_ok=True)
    return await store.create_project(workspace.workspace_id, slug, slug.upper(), exist_ok=True)


def _suite(project_id: str, suite_id: str = "evs_1", name: str = "qa") -> EvalSuite:
    return EvalSuite(suite_id, project_id, name, "ds_1", "dataset", "v1", "datasets/qa:v1",
                     '[{"name":"exact"}]', 1000)


async def _eval_run(store: Store, project_id: str, eval_run_id: str, suite_id: str = "evs_1"
                    ) -> EvalRun:
    run_id = "run_" + eval_run_id
    await store.start_run(RunStart(run_id, True, project_id, "eval", "allow"), 1000)
    stored, _ = await store.create_eval_run(
        EvalRun(eval_run_id, project_id, suite_id, run_id, '{"model":"a"}', 1000))
    return stored


def _row(project_id: str, eval_run_id: str, example: str, scorer: str, score: float,
         passed: bool, accepted_ms: int = 1) -> EvalResult:
    return EvalResult(project_id, eval_run_id, example, scorer, score, passed, "t" * 32, None,
                      "{}", accepted_ms)


async def test_suite_is_get_or_create_per_project(store: Store) -> None:
    project = await _project(store)
    other = await _project(store, "other")
    suite, created = await store.create_eval_suite(_suite(project.project_id))
    assert created and suite == _suite(project.project_id)
    again, created = await store.create_eval_suite(_suite(project.project_id, name="renamed"))
    assert not created and again == suite  # stored suite unchanged
    with pytest.raises(StoreConflict):
        await store.create_eval_suite(_suite(other.project_id))
    assert await store.get_eval_suite("evs_1") == suite
    assert await store.get_eval_suite("evs_unknown") is None


async def test_eval_run_is_get_or_create_per_suite(store: Store) -> None:
    project = await _project(store)
    await store.create_eval_suite(_suite(project.project_id))
    await store.create_eval_suite(_suite(project.project_id, "evs_2"))
    first = await _eval_run(store, project.project_id, "evr_1")
    assert first.run_id == "run_evr_1" and first.config_json == '{"model":"a"}'
    same, created = await store.create_eval_run(
        EvalRun("evr_1", project.project_id, "evs_1", "run_other", "{}", 2000))
    assert not created and same == first
    with pytest.raises(StoreConflict):
        await store.create_eval_run(
            EvalRun("evr_1", project.project_id, "evs_2", "run_evr_1", "{}", 2000))
    assert await store.get_eval_run("evr_1") == first
    assert await store.get_eval_run("evr_missing") is None


async def test_results_replace_per_key_and_page(store: Store) -> None:
    project = await _project(store)
    pid = project.project_id
    rows = [_row(pid, "evr_1", f"ex{i}", scorer, i, True) for i in range(3)
            for scorer in ("b", "a")]
    assert await store.ingest_eval_results(rows) == 6
    assert await store.ingest_eval_results(rows) == 6  # an at-least-once re-send
    later = EvalResult(pid, "evr_1", "ex1", "a", 0.25, False, None,
                       '{"artifactId":"art_1","path":"e.txt"}', '{"k":1}', 5)
    await store.ingest_eval_results([_row(pid, "evr_1", "ex1", "a", 9, True), later])
    first, more = await store.eval_results_page(pid, "evr_1", None, 4)
    assert more and [(r.example_id, r.scorer) for r in first] == [
        ("ex0", "a"), ("ex0", "b"), ("ex1", "a"), ("ex1", "b")]
    assert first[2] == later  # the row accepted last wins, every field kept
    rest, more = await store.eval_results_page(pid, "evr_1", ("ex1", "b"), 4)
    assert not more and [(r.example_id, r.scorer) for r in rest] == [("ex2", "a"), ("ex2", "b")]
    assert await store.eval_results_page("prj_other", "evr_1", None, 10) == ([], False)


async def test_diff_orders_regressions_first_and_counts_everything(store: Store) -> None:
    pid = (await _project(store)).project_id
    base = [_row(pid, "base", "a", "s", 1.0, True), _row(pid, "base", "b", "s", 0.0, False),
            _row(pid, "base", "c", "s", 1.0, True), _row(pid, "base", "d", "s", 1.0, True),
            _row(pid, "base", "z", "s", 1.0, True), _row(pid, "base", "z", "t", 1.0, True)]
    cand = [_row(pid, "cand", "a", "s", 1.0, True), _row(pid, "cand", "b", "s", 1.0, True),
            _row(pid, "cand", "c", "s", 0.5, False), _row(pid, "cand", "e", "s", 1.0, True),
            _row(pid, "cand", "z", "s", 0.0, False), _row(pid, "cand", "z", "t", 0.0, False)]
    await store.ingest_eval_results(base + cand)
    query = EvalDiffQuery(pid, "base", "cand", limit=4)
    rows, more, counts = await store.diff_eval_runs(query)
    assert more
    assert [(r.example_id, r.scorer, r.regressed) for r in rows] == [
        ("c", "s", True), ("z", "s", True), ("z", "t", True), ("a", "s", False)]
    assert (rows[0].baseline_score, rows[0].candidate_score) == (1.0, 0.5)
    assert (rows[0].baseline_passed, rows[0].candidate_passed) == (True, False)
    assert (counts.total, counts.regressed, counts.improved, counts.added, counts.removed) == (
        7, 3, 1, 1, 1)
    last = rows[-1]
    rest, more, _ = await store.diff_eval_runs(
        EvalDiffQuery(pid, "base", "cand", 4, after=(last.rank, last.example_id, last.scorer)))
    assert not more and [(r.example_id, r.baseline_score, r.candidate_score) for r in rest] == [
        ("b", 0.0, 1.0), ("d", 1.0, None), ("e", None, 1.0)]
    only_t, _, counts_t = await store.diff_eval_runs(EvalDiffQuery(pid, "base", "cand", 10, "t"))
    assert [(r.example_id, r.scorer) for r in only_t] == [("z", "t")]
    assert counts_t.total == 1 and counts_t.regressed == 1


async def test_diff_of_unknown_eval_runs_is_empty(store: Store) -> None:
    pid = (await _project(store)).project_id
    rows, more, counts = await store.diff_eval_runs(EvalDiffQuery(pid, "x", "y", 10))
    assert (rows, more, counts.total, counts.regressed) == ([], False, 0, 0)


async def test_two_stores_racing_create_one_suite_and_eval_run(store: Store,
                                                               peer_store: Store) -> None:
    """Two collectors (two stores on one database) creating the same suite and eval run at
    once: exactly one creates each, both answer the same row, no database error (a 500)."""
    pid = (await _project(store)).project_id
    await store.start_run(RunStart("run_race", True, pid, "eval", "allow"), 1000)
    for i in range(8):
        suite = _suite(pid, f"evs_race{i}")
        made = await asyncio.gather(store.create_eval_suite(suite),
                                    peer_store.create_eval_suite(suite))
        assert sorted(created for _, created in made) == [False, True]
        assert made[0][0] == made[1][0] == suite
        eval_run = EvalRun(f"evr_race{i}", pid, suite.suite_id, "run_race", "{}", 1000)
        runs = await asyncio.gather(store.create_eval_run(eval_run),
                                    peer_store.create_eval_run(eval_run))
        assert sorted(created for _, created in runs) == [False, True]
        rows = [_row(pid, f"evr_race{i}", "e", "s", float(i), True, accepted_ms=i)]
        await asyncio.gather(store.ingest_eval_results(rows), peer_store.ingest_eval_results(rows))
        page, _ = await peer_store.eval_results_page(pid, f"evr_race{i}", None, 10)
        assert [(r.example_id, r.score) for r in page] == [("e", float(i))]
