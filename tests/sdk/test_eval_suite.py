"""``rd.eval.suite`` and ``suite.run`` on a scripted transport: the control-plane requests they
send, and how refusals and malformed answers surface (``RundialRequestError``, ``RuntimeError``,
``ValueError`` before any call)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial import MockTransport, Request, Response


class Control:
    """Answers resolve-target, evals/suites and evals/runs; records every request body."""

    def __init__(self, suites: tuple[int, dict[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.suites = suites or (201, {"suite": {"suiteId": "evs_1"}, "dataset": {"name": "d"}})

    def __call__(self, request: Request) -> Response:
        raw = request.body or b"{}"
        if request.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        self.calls.append((request.path, body))
        if request.path.endswith("/runs/resolve-target"):
            return Response(200, json.dumps({"orgId": "org_local",
                                             "projectId": "prj_1"}).encode())
        if request.path.endswith("/evals/suites"):
            status, doc = self.suites
            return Response(status, json.dumps(doc).encode())
        if request.path.endswith("/evals/runs"):
            return Response(201, json.dumps({"evalRun": {"evalRunId": body.get("evalRunId")
                                                         or "evr_9", "runId": "run_9"}}).encode())
        if request.path.endswith("/runs/start"):  # attaching to the backing run
            return Response(200, json.dumps({"runId": body["runId"],
                                             "projectId": body["projectId"]}).encode())
        return Response(202, b"{}")

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


def suite(control: Control, tmp_path: Path, **kwargs: Any) -> rd.RundialEvalSuite:
    args: dict[str, Any] = {"dataset": "datasets/qa:v1", "scorers": ["exact"],
                            "workspace": "ws", "project": "proj",
                            "endpoint": "http://collector.test", "api_key": "rdk_t",
                            "transport": MockTransport(control),
                            "spool_directory": str(tmp_path / "spool"),
                            "system_metrics": False, **kwargs}
    return rd.eval.suite("qa", **args)


def test_suite_resolves_then_creates(isolated_env: Path, tmp_path: Path) -> None:
    control = Control()
    made = suite(control, tmp_path, scorers=["exact", {"name": "judge", "kind": "llm",
                                                        "config": {"t": 0}, "x": 1}])
    assert control.paths() == ["/api/v1/runs/resolve-target", "/api/v1/evals/suites"]
    assert control.calls[0][1] == {"workspace": "ws", "project": "proj"}
    assert control.calls[1][1] == {
        "orgId": "org_local", "projectId": "prj_1", "name": "qa",
        "dataset": {"name": "dataset", "artifactRef": "datasets/qa:v1",
                    "version": hashlib.sha256(b"datasets/qa:v1").hexdigest()[:16]},
        "scorers": [{"name": "exact"}, {"name": "judge", "kind": "llm", "config": {"t": 0}}]}
    assert (made.suite_id, made.project_id, made.org_id) == ("evs_1", "prj_1", "org_local")


def test_project_id_skips_resolution_and_run_creates_the_eval_run(isolated_env: Path,
                                                                  tmp_path: Path) -> None:
    control = Control()
    made = suite(control, tmp_path, project_id="prj_2", workspace=None, project=None,
                 dataset={"name": "d", "version": "3", "artifactRef": "d:3"},
                 dataset_version="4")
    assert control.paths() == ["/api/v1/evals/suites"]
    assert control.calls[0][1]["dataset"] == {"name": "d", "version": "4", "artifactRef": "d:3"}
    eval_run = made.run(config={"opt": {"lr": 0.1}}, eval_run_id="evr_x")
    created = [body for path, body in control.calls if path == "/api/v1/evals/runs"]
    assert created == [{"projectId": "prj_2", "suiteId": "evs_1", "config": {"opt.lr": 0.1},
                        "evalRunId": "evr_x"}]  # the run's worker may register meanwhile
    assert (eval_run.eval_run_id, eval_run.run.run_id) == ("evr_x", "run_9")
    assert eval_run.log_result("e", scores={"exact": True}, trace="d" * 32)
    # a generous budget: complete() returns as soon as everything is delivered
    assert eval_run.complete(timeout_seconds=30), eval_run.run.diagnostics()
    sent = [body for path, body in control.calls if path == "/api/v1/evals/results"]
    assert sent and sent[0]["evalRunId"] == "evr_x" and sent[0]["projectId"] == "prj_2"
    statuses = [body for path, body in control.calls if path == "/api/v1/runs/run_9/status"]
    assert statuses and statuses[0]["status"] == "completed"
    starts = [body for path, body in control.calls if path == "/api/v1/runs/start"]
    assert [(b["runId"], b["kind"], b["resume"]) for b in starts] == [("run_9", "eval", "allow")]


@pytest.mark.parametrize(("answer", "error", "text"), [
    ((403, {"error": {"code": "FORBIDDEN", "message": "no"}}), rd.RundialRequestError, "403"),
    ((201, {"suite": {"suiteId": "evs_1"}}), RuntimeError, "suite and dataset"),
    ((201, {"suite": {}, "dataset": {}}), RuntimeError, "suiteId"),
])
def test_refusals_and_bad_answers_raise(isolated_env: Path, tmp_path: Path,
                                        answer: tuple[int, dict[str, Any]],
                                        error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        suite(Control(answer), tmp_path)


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"dataset": {"name": "d", "artifactRef": "r"}}, "dataset version"),
    ({"dataset": ""}, "dataset"),
    ({"scorers": "exact"}, "scorers"),
    ({"scorers": [{"kind": "llm"}]}, "scorer name"),
    ({"workspace": None, "project": None}, "workspace= and project="),
])
def test_bad_arguments_raise_before_any_call(isolated_env: Path, tmp_path: Path,
                                             kwargs: dict[str, Any], text: str) -> None:
    control = Control()
    with pytest.raises(ValueError, match=text):
        suite(control, tmp_path, **kwargs)
    assert control.calls == []


def test_a_scorer_config_is_sent_as_plain_json(isolated_env: Path, tmp_path: Path) -> None:
    """A Path, a numpy number and a non-str key in a scorer's config reach the collector as
    JSON (str(), the number, the key as str), as eval meta does; they used to fail the
    suite request's encoding with orjson's bare TypeError."""
    import numpy as np
    control = Control()
    suite(control, tmp_path, scorers=[{"name": "judge", "config": {
        "rubric": Path("/r/rubric.md"), "n": np.int64(3), 1: [np.float32(0.5)]}}])
    assert control.calls[1][1]["scorers"] == [
        {"name": "judge", "config": {"rubric": "/r/rubric.md", "n": 3, "1": [0.5]}}]
