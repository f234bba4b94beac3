"""Run lifecycle and run reads: resolve-target, start + resume matrix, status, config, query."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.collector.control import (V1, Target, assert_error, call, details, finish, new_key,
                                     new_target, start_run, unique)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

RESOLVE = f"{V1}/runs/resolve-target"

pytestmark = pytest.mark.both_stores


@pytest.fixture(scope="module")
def target(shared_collector: CollectorProcess) -> Target:
    """One project shared by the tests of this module (each test uses its own run ids)."""
    return new_target(shared_collector)


# -- resolve-target ---------------------------------------------------------------------------
def test_resolve_target_six_fields(shared_collector: CollectorProcess, target: Target) -> None:
    """resolve-target answers all six canonical fields as non-empty strings."""
    status, payload = call(shared_collector, "POST", RESOLVE,
                           {"workspace": f" {target.workspace} ", "project": target.project})
    assert status == 200
    for field in ("orgId", "workspaceSlug", "workspaceName", "projectSlug", "projectName",
                  "projectId"):
        assert isinstance(payload[field], str) and payload[field], field
    assert payload["projectId"] == target.project_id


@pytest.mark.parametrize("which", ["workspace", "project"])
def test_resolve_target_unknown_is_404(shared_collector: CollectorProcess, target: Target,
                                       which: str) -> None:
    """An unknown workspace or project is a 404 with the error envelope (never auto-created)."""
    body = {"workspace": target.workspace, "project": target.project, which: unique("none")}
    status, payload = call(shared_collector, "POST", RESOLVE, body)
    assert_error(status, payload, 404, "NOT_FOUND")


def test_resolve_target_validation(shared_collector: CollectorProcess) -> None:
    """Missing or empty fields are a 400 naming the field."""
    status, payload = call(shared_collector, "POST", RESOLVE, {"project": "p"})
    assert_error(status, payload, 400, "INVALID_REQUEST", "workspace")
    status, payload = call(shared_collector, "POST", RESOLVE, {"workspace": "w", "project": ""})
    assert_error(status, payload, 400, "INVALID_REQUEST", "project")


# -- runs/start -------------------------------------------------------------------------------
def test_start_mints_run_id(shared_collector: CollectorProcess, target: Target) -> None:
    """Without runId the server mints run_<32 hex> and answers 201 with the run."""
    status, run = start_run(shared_collector, target, runName="first", tags=["a"],
                            config={"lr": 0.1}, group="g", jobType="train")
    assert status == 201
    assert re.fullmatch(r"run_[0-9a-f]{32}", run["runId"])
    assert (run["projectId"], run["kind"], run["status"]) == (target.project_id, "training",
                                                             "running")
    assert (run["runName"], run["tags"], run["config"]) == ("first", ["a"], {"lr": 0.1})


def test_start_with_workspace_and_project_slugs(shared_collector: CollectorProcess,
                                                target: Target) -> None:
    """The workspace + project extension works in place of projectId."""
    status, run = call(shared_collector, "POST", f"{V1}/runs/start",
                       {"workspace": target.workspace, "project": target.project,
                        "kind": "agent", "resume": "never"})
    assert status == 201 and run["projectId"] == target.project_id and run["kind"] == "agent"


@pytest.mark.parametrize(("body", "field"), [
    ({"runName": 5}, "runName"), ({"kind": "batch"}, "kind"), ({"resume": "yes"}, "resume"),
    ({"tags": [1]}, "tags[0]"), ({"runId": "a/b"}, "runId"), ({"runId": ""}, "runId"),
    ({"config": {"x": {"y": 1}}}, "config[...]"),
    ({"config": {"x": [1, {"y": 1}]}}, "config.x"), ({"config": {"x": [[[[[[[[[1]]]]]]]]]}}, "config.x"), ({"projectId": None}, "projectId"),
    ({"resume": "must"}, "runId"),
])
def test_start_validation(shared_collector: CollectorProcess, target: Target,
                          body: dict[str, Any], field: str | None) -> None:
    """Bad start bodies are a 400 INVALID_REQUEST naming the field."""
    status, payload = start_run(shared_collector, target, **body)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'"x"'])
def test_start_rejects_non_objects(shared_collector: CollectorProcess, raw: bytes) -> None:
    """Malformed JSON or a non-object body is a 400, and the collector keeps serving."""
    status, payload = call(shared_collector, "POST", f"{V1}/runs/start", raw=raw,
                           headers={"content-type": "application/json"})
    assert_error(status, payload, 400, "INVALID_REQUEST")
    assert call(shared_collector, "GET", "/health/ready", key=None)[0] == 200


def _prepare(proc: CollectorProcess, target: Target, state: str) -> str:
    run_id = unique("run")
    if state != "unknown":
        assert start_run(proc, target, runId=run_id)[0] == 201
    if state == "terminal":
        assert finish(proc, run_id, "failed", reason="boom")[0] == 200
    return run_id


@pytest.mark.parametrize(("resume", "state", "expected"), [
    ("never", "unknown", 201), ("never", "running", 409), ("never", "terminal", 409),
    ("allow", "unknown", 201), ("allow", "running", 200), ("allow", "terminal", 409),
    ("must", "unknown", 404), ("must", "running", 200), ("must", "terminal", 200),
])
def test_resume_matrix(shared_collector: CollectorProcess, target: Target, resume: str,
                       state: str, expected: int) -> None:
    """runs/start applies the v1 resume matrix (must reopens a terminal run)."""
    run_id = _prepare(shared_collector, target, state)
    status, payload = start_run(shared_collector, target, runId=run_id, resume=resume)
    assert status == expected, payload
    if status >= 400:
        assert_error(status, payload, expected, {404: "NOT_FOUND", 409: "CONFLICT"}[expected])
        return
    assert payload["runId"] == run_id and payload["status"] == "running"
    assert payload["finishedAtMs"] is None and payload["reason"] is None


def test_run_id_of_other_project_is_409(shared_collector: CollectorProcess,
                                        target: Target) -> None:
    """A runId that exists in another project is a 409, whatever the resume mode."""
    run_id = _prepare(shared_collector, target, "running")
    other = new_target(shared_collector, workspace=target.workspace)
    status, payload = start_run(shared_collector, other, runId=run_id, resume="allow")
    assert_error(status, payload, 409, "CONFLICT", "runId")


def test_concurrent_allow_starts_are_race_safe(shared_collector: CollectorProcess,
                                               target: Target) -> None:
    """Concurrent resume=allow starts of a missing id: exactly one 201, the others attach."""
    run_id = unique("rank")
    barrier = threading.Barrier(8)

    def start(_: int) -> tuple[int, Any]:
        barrier.wait()
        return start_run(shared_collector, target, runId=run_id, resume="allow")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(start, range(8)))
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert {payload["runId"] for _, payload in results} == {run_id}


# -- status -----------------------------------------------------------------------------------
def test_status_idempotent_and_conflicting(shared_collector: CollectorProcess,
                                           target: Target) -> None:
    """Same terminal status again is 200; a different terminal status is 409."""
    run_id = _prepare(shared_collector, target, "running")
    status, run = finish(shared_collector, run_id, "completed", finishedAtMs=1234)
    assert status == 200 and (run["status"], run["finishedAtMs"]) == ("completed", 1234)
    status, run = finish(shared_collector, run_id, "completed", finishedAtMs=9999)
    assert status == 200 and run["finishedAtMs"] == 1234 and run["changed"] is False
    status, payload = finish(shared_collector, run_id, "failed")
    assert_error(status, payload, 409, "CONFLICT")


def test_status_defaults_and_reason(shared_collector: CollectorProcess, target: Target) -> None:
    """finishedAtMs defaults to now; reason is stored cut to 512 chars; killed is accepted."""
    run_id = _prepare(shared_collector, target, "running")
    before = int(time.time() * 1000)
    status, run = finish(shared_collector, run_id, "killed", reason="r" * 600)
    assert status == 200 and run["status"] == "killed"
    assert before <= run["finishedAtMs"] <= int(time.time() * 1000)
    assert details(shared_collector, target, run_id)["reason"] == "r" * 512


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "running"}, "status"), ({}, "status"),
    ({"status": "completed", "finishedAtMs": "now"}, "finishedAtMs"),
])
def test_status_validation(shared_collector: CollectorProcess, target: Target,
                           body: dict[str, Any], field: str) -> None:
    """Bad status bodies are a 400 naming the field."""
    run_id = _prepare(shared_collector, target, "running")
    status, payload = call(shared_collector, "POST", f"{V1}/runs/{run_id}/status", body)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


def test_status_stores_dropped_step_ranges_in_the_summary(shared_collector: CollectorProcess,
                                                          target: Target) -> None:
    """``droppedStepRanges`` land in the config as ``summary.dropped_step_ranges`` (#13.8)."""
    run_id = _prepare(shared_collector, target, "running")
    status, run = finish(shared_collector, run_id, "completed",
                         droppedStepRanges=[[5, 9], [20, 20]])
    assert status == 200
    stored = details(shared_collector, target, run_id)["config"]["summary.dropped_step_ranges"]
    assert json.loads(stored) == [[5, 9], [20, 20]] == json.loads(run["config"]["summary.dropped_step_ranges"])


@pytest.mark.parametrize("ranges", [[[9, 5]], [[1]], [[-1, 2]], [[0, 1]] * 257, "0-5"])
def test_status_refuses_bad_dropped_step_ranges(shared_collector: CollectorProcess,
                                                target: Target, ranges: Any) -> None:
    """Reversed, short, negative, too many or non-list ranges are a 400; the run stays running."""
    run_id = _prepare(shared_collector, target, "running")
    status, payload = finish(shared_collector, run_id, "completed", droppedStepRanges=ranges)
    assert_error(status, payload, 400, "INVALID_REQUEST")
    assert details(shared_collector, target, run_id)["status"] == "running"


def test_status_unknown_run_is_404(shared_collector: CollectorProcess) -> None:
    """Finishing a run id that does not exist is a 404."""
    status, payload = finish(shared_collector, unique("ghost"))
    assert_error(status, payload, 404, "NOT_FOUND")


def test_status_needs_write_access(shared_collector: CollectorProcess, target: Target) -> None:
    """A key of another workspace, or a read-only key, cannot finish the run (403)."""
    run_id = _prepare(shared_collector, target, "running")
    stranger = new_key(shared_collector, new_target(shared_collector), ["admin"])["apiKey"]
    reader = new_key(shared_collector, target, ["project:read"])["apiKey"]
    for key in (stranger, reader):
        assert_error(*finish(shared_collector, run_id, key=key), 403, "FORBIDDEN")


# -- config -----------------------------------------------------------------------------------
def test_config_merges(shared_collector: CollectorProcess, target: Target) -> None:
    """Config patches merge into the stored config and the reply carries the full config."""
    run_id = unique("cfg")
    assert start_run(shared_collector, target, runId=run_id, config={"a": 1, "b": "x"})[0] == 201
    path = f"{V1}/runs/{run_id}/config"
    status, run = call(shared_collector, "POST", path, {"config": {"b": "y", "c": None}})
    assert status == 200 and run["config"] == {"a": 1, "b": "y", "c": None}
    status, run = call(shared_collector, "POST", path, {"config": {"d": True}})
    assert run["config"] == {"a": 1, "b": "y", "c": None, "d": True}
    assert details(shared_collector, target, run_id)["config"] == run["config"]


def test_config_rules(shared_collector: CollectorProcess, target: Target) -> None:
    """A terminal run's config is 409, bad values 400, unknown runs 404."""
    run_id = _prepare(shared_collector, target, "terminal")
    status, payload = call(shared_collector, "POST", f"{V1}/runs/{run_id}/config",
                           {"config": {"a": 1}})
    assert_error(status, payload, 409, "CONFLICT")
    live = _prepare(shared_collector, target, "running")
    status, payload = call(shared_collector, "POST", f"{V1}/runs/{live}/config",
                           {"config": {"a": {"nested": 1}}})
    assert_error(status, payload, 400, "INVALID_REQUEST", "config[...]")
    status, payload = call(shared_collector, "POST", f"{V1}/runs/{unique('x')}/config",
                           {"config": {}})
    assert_error(status, payload, 404, "NOT_FOUND")


# -- details ----------------------------------------------------------------------------------
def test_run_details_shape(shared_collector: CollectorProcess, target: Target) -> None:
    """Run details are top-level with integer ms fields, projectId, tags, config, group, jobType."""
    status, run = start_run(shared_collector, target, runName="d", group="g", jobType="j",
                            tags=["t"])
    payload = details(shared_collector, target, run["runId"])
    assert payload["projectId"] == target.project_id and payload["status"] == "running"
    for field in ("startedAtMs", "updatedAtMs", "lastHeartbeatMs"):
        assert type(payload[field]) is int, field
    assert payload["finishedAtMs"] is None
    assert (payload["group"], payload["jobType"], payload["tags"]) == ("g", "j", ["t"])
    finish(shared_collector, run["runId"])
    assert type(details(shared_collector, target, run["runId"])["finishedAtMs"]) is int


def test_run_details_404(shared_collector: CollectorProcess, target: Target) -> None:
    """Unknown runs, runs of another project and unknown projects are 404 envelopes."""
    status, payload = call(shared_collector, "GET", f"{target.path}/runs/{unique('no')}")
    assert_error(status, payload, 404, "NOT_FOUND")
    run_id = _prepare(shared_collector, target, "running")
    other = new_target(shared_collector, workspace=target.workspace)
    status, payload = call(shared_collector, "GET", f"{other.path}/runs/{run_id}")
    assert_error(status, payload, 404, "NOT_FOUND")
    status, payload = call(shared_collector, "GET",
                           f"{V1}/workspaces/{target.workspace}/projects/nope/runs/{run_id}")
    assert_error(status, payload, 404, "NOT_FOUND")


# -- text the database cannot hold ------------------------------------------------------------
def test_nul_in_text_is_never_a_500(shared_collector: CollectorProcess, target: Target) -> None:
    """A NUL (U+0000) in a name, label, reason, note, search or reference is bad input, never
    a 500, and answered alike on both backends (tests/collector/test_nul_items.py and
    test_nul_names.py): a run's name, group, reason or notes, a workspace's name or a key's
    label holding one is a 400 naming the field; a project reference holding one is a 404; a
    search holding one matches nothing."""
    nul = "a\u0000b"
    run_id = _prepare(shared_collector, target, "running")
    replies = {
        "runName": start_run(shared_collector, target, runId=unique("nul"), runName=nul),
        "group": start_run(shared_collector, target, runId=unique("nul"), group=nul),
        "ref": call(shared_collector, "POST", f"{V1}/runs/start",
                    {"workspace": nul, "project": target.project, "kind": "training"}),
        "reason": call(shared_collector, "POST", f"{V1}/runs/{run_id}/status",
                       {"status": "failed", "reason": nul}),
        "workspace": call(shared_collector, "POST", f"{V1}/workspaces",
                          {"slug": unique("nulws"), "name": nul}),
        "label": call(shared_collector, "POST", f"{target.path}/api-keys",
                      {"scopes": ["project:read"], "label": nul}),
        "search": call(shared_collector, "GET", f"{target.path}/runs/query?search=a%00b"),
        "notes": call(shared_collector, "PATCH", f"{target.path}/runs/{run_id}",
                      {"notes": nul}),
    }
    for field in ("runName", "group", "reason", "notes"):
        assert_error(*replies.pop(field), 400, "INVALID_REQUEST", field)
    assert_error(*replies.pop("workspace"), 400, "INVALID_REQUEST", "name")
    assert_error(*replies.pop("label"), 400, "INVALID_REQUEST", "label")
    assert_error(*replies.pop("ref"), 404, "NOT_FOUND")
    status, payload = replies.pop("search")
    assert (status, payload["runs"]) == (200, []), payload
    assert not replies
