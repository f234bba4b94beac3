"""Eval routes over HTTP against a real collector (v1 doc §5.6, §7.6, §9): suites, eval runs
with their backing run, idempotent results ingest, the diff, and bad input (a 4xx envelope,
never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.control import (V1, Target, assert_error, call, details, new_key,
                                     new_target, unique)
from tests.helpers.collector_proc import CollectorProcess

DATASET = {"name": "qa", "version": "v1", "artifactRef": "datasets/qa:v1"}


def suite(proc: CollectorProcess, target: Target, **extra: Any) -> dict[str, Any]:
    body = {"orgId": "org_local", "projectId": target.project_id, "name": "qa-suite",
            "dataset": DATASET, "scorers": [{"name": "exact"}, {"name": "judge", "kind": "llm",
                                                                "config": {"t": 0}}], **extra}
    status, payload = call(proc, "POST", f"{V1}/evals/suites", body)
    assert status in (200, 201), payload
    return payload


def eval_run(proc: CollectorProcess, target: Target, suite_id: str, **extra: Any
             ) -> tuple[int, dict[str, Any]]:
    body = {"orgId": "org_local", "projectId": target.project_id, "suiteId": suite_id,
            "config": {"model": "a"}, **extra}
    return call(proc, "POST", f"{V1}/evals/runs", body)


def row(example: str, scorer: str, score: Any, passed: Any, **extra: Any) -> dict[str, Any]:
    return {"exampleId": example, "scorer": scorer, "score": score, "passed": passed,
            "traceId": "a" * 32, "evidenceRef": None, "meta": {}, **extra}


def results(proc: CollectorProcess, target: Target, eval_run_id: str, rows: list[Any],
            key: str | None = "admin", **kwargs: Any) -> tuple[int, Any]:
    body = {"projectId": target.project_id, "evalRunId": eval_run_id,
            "rows": [{"evalRunId": eval_run_id, **r} if isinstance(r, dict) else r
                     for r in rows]}
    return call(proc, "POST", f"{V1}/evals/results", body, key=key, **kwargs)


def diff(proc: CollectorProcess, target: Target, base: str, cand: str, **extra: Any
         ) -> tuple[int, Any]:
    body = {"projectId": target.project_id, "baselineEvalRunId": base,
            "candidateEvalRunId": cand, **extra}
    return call(proc, "POST", f"{V1}/query/evals/diff", body)


@pytest.mark.both_stores
def test_suite_and_eval_run_create_the_backing_run(store_backend: str,
                                                    collector: CollectorProcess) -> None:
    target = new_target(collector)
    created = suite(collector, target)
    assert created["created"] is True and created["dataset"]["artifactRef"] == "datasets/qa:v1"
    suite_id = created["suite"]["suiteId"]
    assert [s["name"] for s in created["suite"]["scorers"]] == ["exact", "judge"]
    again = suite(collector, target, suiteId=suite_id)
    assert again["created"] is False and again["suite"] == created["suite"]
    status, made = eval_run(collector, target, suite_id, evalRunId="evr-a")
    assert status == 201, made
    run_id = made["evalRun"]["runId"]
    assert made["evalRun"]["evalRunId"] == "evr-a" and made["evalRun"]["suiteId"] == suite_id
    run = details(collector, target, run_id)
    assert (run["kind"], run["status"], run["config"]) == ("eval", "running", {"model": "a"})
    status, repeat = eval_run(collector, target, suite_id, evalRunId="evr-a")
    assert status == 200 and repeat["evalRun"]["runId"] == run_id
    status, minted = eval_run(collector, target, suite_id)
    assert status == 201 and minted["evalRun"]["runId"] != run_id
    other = minted["evalRun"]["evalRunId"]
    status, reply = results(collector, target, "evr-a", [row("e", "exact", 1, True)],
                            gzip_body=True)
    assert (status, reply["accepted"]) == (202, 1), reply
    results(collector, target, other, [row("e", "exact", 0.5, False)])
    status, page = diff(collector, target, "evr-a", other)
    assert status == 200 and page["rows"] == [{
        "exampleId": "e", "scorer": "exact", "baselineScore": 1.0, "candidateScore": 0.5,
        "delta": -0.5, "baselinePassed": True, "candidatePassed": False, "regressed": True,
        "change": "regressed"}]


def test_results_are_idempotent_and_diffed_regressions_first(
        shared_collector: CollectorProcess) -> None:
    proc, target = shared_collector, new_target(shared_collector)
    suite_id = suite(proc, target)["suite"]["suiteId"]
    base = eval_run(proc, target, suite_id)[1]["evalRun"]["evalRunId"]
    cand = eval_run(proc, target, suite_id)[1]["evalRun"]["evalRunId"]
    base_rows = [row(f"ex{i}", "exact", 1.0, True) for i in range(5)]
    cand_rows = [row(f"ex{i}", "exact", 1.0 if i % 2 else 0.0, i % 2 == 1) for i in range(5)]
    for _ in range(2):  # an at-least-once re-send stores nothing new
        status, reply = results(proc, target, base, base_rows, gzip_body=True)
        assert (status, reply["accepted"], reply["rejected"]) == (202, 5, 0), reply
    status, reply = results(proc, target, cand, cand_rows)
    assert status == 202 and reply["accepted"] == 5
    status, page = diff(proc, target, base, cand, limit=2)
    assert status == 200, page
    assert [(r["exampleId"], r["regressed"], r["delta"]) for r in page["rows"]] == [
        ("ex0", True, -1.0), ("ex2", True, -1.0)]
    assert page["summary"] == {"total": 5, "regressed": 3, "improved": 0, "added": 0,
                               "removed": 0}
    seen = [r["exampleId"] for r in page["rows"]]
    while page["page"]["hasMore"]:
        status, page = diff(proc, target, base, cand, limit=2, cursor=page["page"]["nextCursor"])
        seen += [r["exampleId"] for r in page["rows"]]
    assert seen == ["ex0", "ex2", "ex4", "ex1", "ex3"]
    status, stored = call(proc, "GET", f"{V1}/evals/runs/{base}/results?limit=10")
    assert status == 200 and len(stored["rows"]) == 5, stored
    assert stored["rows"][0] == {"exampleId": "ex0", "scorer": "exact", "score": 1.0,
                                 "passed": True, "traceId": "a" * 32, "evidenceRef": None,
                                 "meta": {}, "acceptedAtMs": stored["rows"][0]["acceptedAtMs"]}


def test_bad_rows_are_rejected_one_by_one(shared_collector: CollectorProcess) -> None:
    proc, target = shared_collector, new_target(shared_collector)
    eval_run_id = unique("evr")
    bad = [row("", "s", 1, True), row("x" * 257, "s", 1, True), row("e", "", 1, True),
           row("e", "s", "1", True), row("e", "s", 1, "yes"), row("e", "s", 10**400, True),
           row("e", "s", 1, True, traceId=None), row("e", "s", 1, True, meta=[1]),
           row("e", "s", 1, True, meta={"m": "x" * 9000}), row("e", "s", 1, True,
                                                                evidenceRef={"path": "p"}),
           row("e", "s", 1, True, evalRunId="other"), "not an object"]
    good = row("ok", "s", True, True, traceId=None, evidenceRef={"artifactId": "a", "path": "p"})
    status, reply = results(proc, target, eval_run_id, [*bad, good])
    assert status == 202, reply
    assert (reply["accepted"], reply["rejected"]) == (1, len(bad))
    assert {e["field"] for e in reply["errors"]} >= {"rows[0].exampleId", "rows[3].score",
                                                     "rows[6].traceId", "rows[8].meta"}
    status, stored = call(proc, "GET", f"{V1}/evals/runs/{eval_run_id}/results"
                          f"?projectId={target.project_id}")
    assert status == 200 and [(r["exampleId"], r["score"], r["evidenceRef"])
                              for r in stored["rows"]] == [("ok", 1.0,
                                                            {"artifactId": "a", "path": "p"})]


@pytest.mark.parametrize(("route", "body", "status", "code", "field"), [
    ("evals/suites", {"projectId": "P", "name": "n", "dataset": DATASET, "scorers": []},
     400, "INVALID_REQUEST", "scorers"),
    ("evals/suites", {"projectId": "P", "name": "n", "dataset": {"name": "d"},
                      "scorers": [{"name": "s"}]}, 400, "INVALID_REQUEST", "dataset.version"),
    ("evals/suites", {"projectId": "P", "name": "n", "dataset": DATASET,
                      "scorers": [{"name": "s"}, {"name": "s"}]}, 400, "INVALID_REQUEST",
     "scorers[1].name"),
    ("evals/suites", {"projectId": "P", "name": "  ", "dataset": DATASET,
                      "scorers": [{"name": "s"}]}, 400, "INVALID_REQUEST", "name"),
    ("evals/suites", {"projectId": "P", "name": "n", "dataset": DATASET, "orgId": "org_x",
                      "scorers": [{"name": "s"}]}, 404, "NOT_FOUND", None),
    ("evals/suites", {"projectId": "prj_nope", "name": "n", "dataset": DATASET,
                      "scorers": [{"name": "s"}]}, 404, "NOT_FOUND", None),
    ("evals/runs", {"projectId": "P", "suiteId": "evs_nope"}, 404, "NOT_FOUND", None),
    ("evals/runs", {"projectId": "P", "suiteId": "a/b"}, 400, "INVALID_REQUEST", "suiteId"),
    ("evals/runs", {"projectId": "P", "suiteId": "s", "config": {"x": {"y": 1}}},
     400, "INVALID_REQUEST", "config[...]"),
    ("evals/results", {"projectId": "P", "evalRunId": "e", "rows": {}}, 400,
     "INVALID_REQUEST", "rows"),
    ("evals/results", {"projectId": "P", "rows": []}, 400, "INVALID_REQUEST", "evalRunId"),
    ("evals/results", {"evalRunId": "e", "rows": []}, 400, "INVALID_REQUEST", "projectId"),
    ("query/evals/diff", {"projectId": "P", "baselineEvalRunId": "nope",
                          "candidateEvalRunId": "nope2"}, 404, "NOT_FOUND",
     "baselineEvalRunId"),
    ("query/evals/diff", {"projectId": "P", "baselineEvalRunId": "a",
                          "candidateEvalRunId": "b", "limit": 0}, 400, "INVALID_REQUEST",
     "limit"),
])
def test_bad_input_is_a_4xx_envelope(shared_collector: CollectorProcess, route: str,
                                     body: dict[str, Any], status: int, code: str,
                                     field: str | None) -> None:
    target = new_target(shared_collector)
    if body.get("projectId") == "P":
        body = {**body, "projectId": target.project_id}
    got, payload = call(shared_collector, "POST", f"{V1}/{route}", body)
    assert_error(got, payload, status, code, field)


def test_bad_cursor_and_foreign_eval_run(shared_collector: CollectorProcess) -> None:
    proc = shared_collector
    target, other = new_target(proc), new_target(proc)
    suite_id = suite(proc, target)["suite"]["suiteId"]
    eval_run_id = eval_run(proc, target, suite_id)[1]["evalRun"]["evalRunId"]
    results(proc, target, eval_run_id, [row("e", "s", 1, True)])
    assert_error(*diff(proc, target, eval_run_id, eval_run_id, cursor="bad!"), 400,
                 "INVALID_REQUEST", "cursor")
    assert_error(*results(proc, other, eval_run_id, [row("e", "s", 1, True)]), 409, "CONFLICT",
                 "evalRunId")
    assert_error(*diff(proc, other, eval_run_id, eval_run_id), 404, "NOT_FOUND")
    assert_error(*eval_run(proc, other, suite_id), 404, "NOT_FOUND")


def test_scopes_are_checked(shared_collector: CollectorProcess) -> None:
    proc = shared_collector
    target = new_target(proc)
    reader = new_key(proc, target, ["project:read"])["apiKey"]
    writer = new_key(proc, target, ["metrics:write"])["apiKey"]
    assert_error(*results(proc, target, "e", [row("e", "s", 1, True)], key=writer), 403,
                 "FORBIDDEN")
    assert_error(*results(proc, target, "e", [row("e", "s", 1, True)], key=None), 401,
                 "UNAUTHORIZED")
    body = {"projectId": target.project_id, "name": "n", "dataset": DATASET,
            "scorers": [{"name": "s"}]}
    assert_error(*call(proc, "POST", f"{V1}/evals/suites", body, key=reader), 403, "FORBIDDEN")
    status, _ = call(proc, "POST", f"{V1}/evals/suites", body, key=writer)
    assert status == 201


def test_backing_run_rules(shared_collector: CollectorProcess) -> None:
    """A given runId of a training run, or of a finished run, cannot back an eval run (409)."""
    proc = shared_collector
    target = new_target(proc)
    suite_id = suite(proc, target)["suite"]["suiteId"]
    training = unique("run")
    status, _ = call(proc, "POST", f"{V1}/runs/start", {
        "projectId": target.project_id, "runId": training, "kind": "training"})
    assert status == 201
    assert_error(*eval_run(proc, target, suite_id, runId=training), 409, "CONFLICT", "runId")
    status, made = eval_run(proc, target, suite_id)
    backing = made["evalRun"]["runId"]
    status, _ = call(proc, "POST", f"{V1}/runs/{backing}/status", {"status": "completed"})
    assert status == 200
    assert_error(*eval_run(proc, target, suite_id, runId=backing), 409, "CONFLICT")
    status, again = eval_run(proc, target, suite_id, evalRunId=made["evalRun"]["evalRunId"])
    assert status == 200 and again["evalRun"]["runId"] == backing  # the existing eval run
