"""Evals end to end against a real collector over HTTP: ``rd.eval.suite`` → ``suite.run`` →
``log_result`` (inside spans) → finish, read back through the collector's routes; and the pytest
plugin (``pytest -p rundial.eval_pytest_plugin``) in a real pytest subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

V1 = "/api/v1"


def get(proc: CollectorProcess, path: str) -> Any:
    status, _, payload = request("GET", proc.url + V1 + path, api_key=proc.api_key)
    assert status == 200, payload
    return payload


def post(proc: CollectorProcess, path: str, body: dict[str, Any]) -> Any:
    status, _, payload = request("POST", proc.url + V1 + path, body, api_key=proc.api_key)
    assert status == 200, payload
    return payload


def results(proc: CollectorProcess, eval_run_id: str) -> list[dict[str, Any]]:
    return list(get(proc, f"/evals/runs/{eval_run_id}/results?limit=1000")["rows"])


@pytest.fixture
def sdk_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_collector: CollectorProcess
            ) -> CollectorProcess:
    for name in list(os.environ):
        if name.startswith("RUNDIAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RUNDIAL_SPOOL_DIR", str(tmp_path / "spool"))
    return shared_collector


def test_suite_runs_results_and_diff(sdk_env: CollectorProcess) -> None:
    proc = sdk_env
    suite = rd.eval.suite("qa", dataset="datasets/qa:v3", scorers=["exact", {"name": "judge"}],
                          workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key)
    assert suite.suite_id.startswith("evs_") and suite.dataset["name"] == "dataset"
    outcomes: dict[str, dict[str, bool]] = {"base": {"a": True, "b": True, "c": False},
                                            "cand": {"a": True, "b": False, "c": True}}
    eval_ids: dict[str, str] = {}
    for label, passed in outcomes.items():
        with suite.run(config={"model": label}) as eval_run:
            eval_ids[label] = eval_run.eval_run_id
            for example, ok in passed.items():
                with eval_run.run.trace(f"example {example}"):
                    assert eval_run.log_result(example, scores={"exact": ok,
                                                                "judge": 0.9 if ok else 0.1},
                                               passed={"judge": ok}, meta={"label": label})
        assert eval_run.run.state == "completed"
        details = get(proc, f"/workspaces/{proc.workspace}/projects/{proc.project}/runs/"
                            f"{eval_run.run.run_id}")
        assert (details["kind"], details["status"]) == ("eval", "completed")
        assert details["config"]["model"] == label
        rows = results(proc, eval_run.eval_run_id)
        assert sorted((r["exampleId"], r["scorer"], r["passed"]) for r in rows) == sorted(
            (example, scorer, ok) for example, ok in passed.items()
            for scorer in ("exact", "judge"))
        assert all(r["meta"] == {"label": label} and len(r["traceId"]) == 32 for r in rows)
    pid = suite.project_id
    diff = post(proc, "/query/evals/diff", {"projectId": pid, "baselineEvalRunId":
                                            eval_ids["base"], "candidateEvalRunId":
                                            eval_ids["cand"]})
    assert [(r["exampleId"], r["scorer"]) for r in diff["rows"] if r["regressed"]] == [
        ("b", "exact"), ("b", "judge")]
    assert diff["summary"]["improved"] == 2 and diff["rows"][0]["delta"] == -1.0


def test_disabled_suite_makes_no_call(sdk_env: CollectorProcess) -> None:
    suite = rd.eval.suite("qa", dataset="d:v1", scorers=["s"], project="p", mode="disabled",
                          endpoint="http://127.0.0.1:9")  # nothing listens there
    with suite.run() as eval_run:
        assert eval_run.log_result("e", scores={"s": True}) is True
    with pytest.raises(ValueError, match="offline"):
        rd.eval.suite("qa", dataset="d:v1", scorers=["s"], project="p", mode="offline")
    with pytest.raises(ValueError, match="scorers"):
        rd.eval.suite("qa", dataset="d:v1", scorers=[], project="p", mode="disabled")


def test_suite_against_a_stopped_collector_raises(sdk_env: CollectorProcess) -> None:
    with pytest.raises(rd.RundialRequestError, match="resolve-target"):
        rd.eval.suite("qa", dataset="d:v1", scorers=["s"], workspace="w", project="p",
                      endpoint="http://127.0.0.1:9", api_key="rdk_x",
                      request_timeout_seconds=2)


PLUGIN_TESTS = """
def test_passes():
    assert 1 + 1 == 2

def test_fails():
    assert 1 + 1 == 3
"""


def test_pytest_plugin_logs_one_result_per_test(sdk_env: CollectorProcess,
                                                tmp_path: Path) -> None:
    proc = sdk_env
    suite = rd.eval.suite("ci", dataset="d:v1", scorers=["unit"], workspace=proc.workspace,
                          project=proc.project, endpoint=proc.url, api_key=proc.api_key)
    eval_run = suite.run()
    (tmp_path / "test_sample.py").write_text(PLUGIN_TESTS)
    env = {**os.environ, "RUNDIAL_ENDPOINT": proc.url, "RUNDIAL_API_KEY": proc.api_key,
           "RUNDIAL_PROJECT_ID": suite.project_id, "RUNDIAL_RUN_ID": eval_run.run.run_id,
           "RUNDIAL_EVAL_RUN_ID": eval_run.eval_run_id, "RUNDIAL_EVAL_SCORER": "unit"}
    proc_run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "rundial.eval_pytest_plugin", "test_sample.py"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc_run.returncode == 1, proc_run.stdout + proc_run.stderr  # one test failed
    rows = {r["exampleId"]: r for r in results(proc, eval_run.eval_run_id)}
    assert {k: (r["scorer"], r["score"], r["passed"], r["meta"]) for k, r in rows.items()} == {
        "test_sample.py::test_passes": ("unit", 1.0, True, {"pytestWhen": "call"}),
        "test_sample.py::test_fails": ("unit", 0.0, False, {"pytestWhen": "call"})}
    spans = post(proc, "/query/spans", {"projectId": suite.project_id,
                                        "runId": eval_run.run.run_id})["spans"]
    by_name = {s["name"]: s for s in spans}
    assert by_name["pytest:test_sample.py::test_fails"]["status"] == "error"
    assert rows["test_sample.py::test_fails"]["traceId"] == \
        by_name["pytest:test_sample.py::test_fails"]["traceId"]
    details = get(proc, f"/workspaces/{proc.workspace}/projects/{proc.project}/runs/"
                        f"{eval_run.run.run_id}")
    assert details["status"] == "running"  # the plugin never ends the run
    assert eval_run.complete(timeout_seconds=30)


@pytest.mark.parametrize(("extra", "warning"), [
    ({"RUNDIAL_RUN_ID": "a/b"}, "eval plugin disabled"),
    ({"RUNDIAL_EVAL_SCORER": "s" * 129}, "not logged"),
])
def test_pytest_plugin_never_fails_the_session(tmp_path: Path, extra: dict[str, str],
                                               warning: str) -> None:
    """Ids or settings the SDK refuses only warn; the tests' own outcome decides the exit."""
    (tmp_path / "test_one.py").write_text("def test_passes():\n    assert True\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")},
           "HOME": str(tmp_path), "RUNDIAL_ENDPOINT": "http://127.0.0.1:9",
           "RUNDIAL_PROJECT_ID": "prj_x", "RUNDIAL_RUN_ID": "run_x",
           "RUNDIAL_EVAL_RUN_ID": "evr_x", "RUNDIAL_SPOOL_DIR": str(tmp_path / "spool"), **extra}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "rundial.eval_pytest_plugin", "test_one.py"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert warning in ran.stdout
