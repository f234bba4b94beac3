"""The published rundial 1.0.0rc1 SDK and CLI, unmodified, use our eval routes (v1 doc §5.6,
§7.6, §9, §10): ``rd.eval.suite`` → ``suite.run`` → ``log_result`` → ``complete``, its client's
``query_eval_diff``, its pytest plugin and its ``rundial evals diff``; everything is read back
from our collector over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.eval_seeding import seed_eval_diff
from tests.compat.conftest import run_rc1, run_rc1_against
from tests.compat.test_rc1_cli import RC1_CLI
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

pytestmark = pytest.mark.compat
V1 = "/api/v1"

SUITE = r"""
import json, os
import rundial as rd

ws, proj, url, key = (os.environ[k] for k in ("WS", "PROJ", "URL", "KEY"))
suite = rd.eval.suite("qa", dataset="datasets/qa:v1", scorers=["exact", {"name": "judge",
                      "kind": "llm"}], workspace=ws, project=proj, endpoint=url, api_key=key,
                      system_metrics=False)
eval_run = suite.run(config={"model": "small"}, eval_run_id="evr-rc1-" + os.urandom(4).hex())
with eval_run.run.trace("example e1") as span:
    inside = eval_run.log_result("e1", scores={"exact": 1.0, "judge": {"score": 0.8,
                                 "passed": True}}, passed={"exact": True}, meta={"k": 1})
outside = eval_run.log_result("e2", scores={"exact": False, "judge": 0.1},
                              passed={"judge": False}, trace=span)
flushed = eval_run.flush(10.0)
# rc1's flush() can return while its worker holds a dequeued batch not yet staged (see the test):
# wait, with a deadline, until our collector serves the 4 rows, so the SDK's race cannot decide.
import time, urllib.request
results = f"{url}/api/v1/evals/runs/{eval_run.eval_run_id}/results"
deadline = time.monotonic() + 30.0
while time.monotonic() < deadline:
    ask = urllib.request.Request(results, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(ask, timeout=5) as answer:
        if len(json.loads(answer.read())["rows"]) >= 4:
            break
    time.sleep(0.05)
completed = eval_run.complete(timeout_seconds=10.0)
diag = eval_run.run.diagnostics()
print(json.dumps({"suiteId": suite.suite_id, "projectId": suite.project_id,
                  "orgId": suite.org_id, "dataset": suite.dataset,
                  "evalRunId": eval_run.eval_run_id, "runId": eval_run.run.run_id,
                  "traceId": span.trace_id, "inside": inside, "outside": outside,
                  "flushed": flushed, "completed": completed,
                  "dropped": diag.dropped_points_non_retryable, "lastError": diag.last_error}))
"""


def _get(proc: CollectorProcess, path: str) -> Any:
    status, _, payload = request("GET", proc.url + V1 + path, api_key=proc.api_key)
    assert status == 200, payload
    return payload


# Run alone: under load the results once read back empty although flush() and complete() had
# returned True. The published rc1 SDK's flush() can see its worker idle while the worker holds a
# batch it took off the queue and has not yet staged (is_idle checks queue, spool and "sending"
# only), so the results stay in its spool. The SDK is published and not ours to change: the
# script waits (deadline 30 s) until our collector serves the rows before it completes the run.
@pytest.mark.serial
def test_rc1_suite_run_and_results(rc1_python: Path, shared_collector: CollectorProcess,
                                   tmp_path: Path) -> None:
    out = run_rc1_against(rc1_python, SUITE, shared_collector, tmp_path)
    assert (out["inside"], out["outside"], out["flushed"], out["completed"]) == (
        True, True, True, True), out
    assert (out["dropped"], out["lastError"], out["orgId"]) == (0, None, "org_local")
    assert out["dataset"]["artifactRef"] == "datasets/qa:v1"
    proc = shared_collector
    run = _get(proc, f"/workspaces/{proc.workspace}/projects/{proc.project}/runs/{out['runId']}")
    assert (run["kind"], run["status"], run["config"]["model"]) == ("eval", "completed", "small")
    rows = {(r["exampleId"], r["scorer"]): r
            for r in _get(proc, f"/evals/runs/{out['evalRunId']}/results")["rows"]}
    assert {key: (r["score"], r["passed"]) for key, r in rows.items()} == {
        ("e1", "exact"): (1.0, True), ("e1", "judge"): (0.8, True),
        ("e2", "exact"): (0.0, False), ("e2", "judge"): (0.1, False)}
    assert {r["traceId"] for r in rows.values()} == {out["traceId"]}
    assert rows[("e1", "exact")]["meta"] == {"k": 1}


DIFF = r"""
import json, os, sys
from rundial_sdk import RundialClient

client = RundialClient(endpoint=os.environ["URL"], api_key=os.environ["KEY"])
print(json.dumps(client.query_eval_diff(project_id=os.environ["PID"],
                                        baseline_eval_run_id=os.environ["BASE"],
                                        candidate_eval_run_id=os.environ["CAND"], limit=5)))
client.close(timeout_seconds=1.0, drain=False)
"""


def test_rc1_diff_client_and_cli(rc1_python: Path, shared_collector: CollectorProcess,
                                  tmp_path: Path) -> None:
    proc = shared_collector
    seeded = seed_eval_diff(proc, examples=150, regressed=[149])
    env = {"URL": proc.url, "KEY": proc.api_key, "PID": seeded.project_id,
           "BASE": seeded.baseline, "CAND": seeded.candidate}
    diff = run_rc1(rc1_python, DIFF, env, tmp_path)
    assert diff.returncode == 0, diff.stderr[-2000:]
    payload = json.loads(diff.stdout)
    assert len(payload["rows"]) == 5 and payload["rows"][0]["exampleId"] == "ex0149"
    assert payload["rows"][0]["regressed"] is True and payload["rows"][0]["delta"] == -1.0
    cli_env = {"RUNDIAL_ENDPOINT": proc.url, "RUNDIAL_API_KEY": proc.api_key,
               "RUNDIAL_WORKSPACE": proc.workspace, "RUNDIAL_PROJECT": proc.project}

    def rc1_cli(*args: str) -> subprocess.CompletedProcess[str]:
        script = f"import sys; sys.argv = ['rundial', *{list(args)!r}]\n" + RC1_CLI
        return run_rc1(rc1_python, script, cli_env, tmp_path, timeout_seconds=60)

    shown = rc1_cli("--json", "evals", "diff", seeded.baseline, seeded.candidate)
    assert shown.returncode == 0, shown.stderr[-2000:]
    doc = json.loads(shown.stdout.strip().splitlines()[-1])
    assert (doc["ok"], doc["regressions"]) == (True, 1)  # on page one of 100: listed first
    failed = rc1_cli("--json", "evals", "diff", seeded.baseline, seeded.candidate,
                     "--fail-on-regression")
    assert failed.returncode == 1, failed.stdout + failed.stderr[-2000:]
    same = rc1_cli("--json", "evals", "diff", seeded.baseline, seeded.baseline,
                   "--fail-on-regression")
    assert same.returncode == 0 and json.loads(same.stdout.splitlines()[-1])["regressions"] == 0


PLUGIN_TESTS = """
def test_ok():
    assert True

def test_bad():
    assert False
"""


def test_rc1_pytest_plugin(rc1_python: Path, shared_collector: CollectorProcess,
                           tmp_path: Path) -> None:
    """rc1's plugin needs pytest, which its venv lacks: it runs under our pytest with the rc1
    packages first on the path (so ``rundial`` is rc1's). rc1 bug: its hook reads
    ``outcome.excinfo.value`` but pluggy's ``excinfo`` is a tuple, so a failing test raises
    AttributeError in the hook and logs nothing; only the passing test's result arrives."""
    proc = shared_collector
    seeded = seed_eval_diff(proc, examples=1, regressed=[])
    status, _, made = request("POST", proc.url + V1 + "/evals/runs", {
        "projectId": seeded.project_id, "suiteId": seeded.suite_id}, api_key=proc.api_key)
    assert status == 201, made
    (tmp_path / "test_rc1_sample.py").write_text(PLUGIN_TESTS)
    site = next((rc1_python.parent.parent / "lib").glob("python3*/site-packages"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")},
           "PYTHONPATH": str(site), "RUNDIAL_ENDPOINT": proc.url, "RUNDIAL_API_KEY": proc.api_key,
           "RUNDIAL_PROJECT_ID": seeded.project_id, "RUNDIAL_RUN_ID": made["evalRun"]["runId"],
           "RUNDIAL_EVAL_RUN_ID": made["evalRun"]["evalRunId"],
           "RUNDIAL_SPOOL_DIR": str(tmp_path / "spool")}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                          "rundial.eval_pytest_plugin", "test_rc1_sample.py"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "rc1-venv" in subprocess.run(
        [sys.executable, "-c", "import rundial; print(rundial.__file__)"], env=env,
        capture_output=True, text=True, timeout=60).stdout  # the plugin that ran was rc1's
    rows = _get(proc, f"/evals/runs/{made['evalRun']['evalRunId']}/results")["rows"]
    assert {r["exampleId"]: (r["scorer"], r["score"], r["passed"], r["meta"]) for r in rows} == {
        "test_rc1_sample.py::test_ok": ("pytest", 1.0, True, {"pytestWhen": "call"})}
    assert "'tuple' object has no attribute 'value'" in ran.stdout  # the rc1 bug above
