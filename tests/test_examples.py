"""``make run``'s example (examples/simulated_training.py) logs, through the real SDK into a real
collector, the sweep the web UI opens on: five runs with their configs, loss/lr/eval curves,
simulated system metrics, logs at info and warn, spans, images, an artifact, one failed run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

REPO = Path(__file__).resolve().parents[1]
STEPS = 600  # shorter than the default, still past the diverging run's stop (~30% + ~75)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess, Any]]:
    """A collector after one run of the example; yields it and its runs (by name)."""
    base = tmp_path_factory.mktemp("example")
    proc = CollectorProcess(base / "data")
    proc.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")}
        env.update(RUNDIAL_ENDPOINT=proc.url, RUNDIAL_API_KEY=proc.api_key,
                   RUNDIAL_WORKSPACE=proc.workspace, RUNDIAL_PROJECT=proc.project,
                   RUNDIAL_SPOOL_DIR=str(base / "spool"))
        done = subprocess.run([sys.executable, str(REPO / "examples" / "simulated_training.py"),
                               "--steps", str(STEPS)], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        status, _, body = request(
            "GET", f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}"
                   "/runs/query?limit=50", api_key=proc.api_key)
        assert status == 200, body
        yield proc, {run["runName"]: run for run in body["runs"]}
    finally:
        proc.stop()


def _post(proc: CollectorProcess, path: str, body: dict[str, Any]) -> Any:
    status, _, reply = request("POST", proc.url + path, body, api_key=proc.api_key)
    assert status == 200, reply
    return reply


def test_the_sweep_has_five_runs_with_their_configs(example: tuple[CollectorProcess, Any]
                                                     ) -> None:
    _, runs = example
    assert len(runs) == 5, sorted(runs)
    lrs = sorted(run["config"]["lr"] for run in runs.values())
    assert lrs == [3e-4, 1e-3, 1e-3, 3e-3, 3e-2]
    assert {run["config"]["batch_size"] for run in runs.values()} == {32, 64}
    statuses = sorted(run["status"] for run in runs.values())
    assert statuses == ["completed"] * 4 + ["failed"]
    failed = next(run for run in runs.values() if run["status"] == "failed")
    assert failed["config"]["lr"] == 3e-2 and "diverged" in failed["reason"]


def test_curves_are_logged_at_every_step_with_eval_every_n(
        example: tuple[CollectorProcess, Any]) -> None:
    proc, runs = example
    run_id = runs["adamw-lr0.001-bs32"]["runId"]
    pid = runs["adamw-lr0.001-bs32"]["projectId"]
    keys = ["train/loss", "train/lr", "eval/accuracy", "system/gpu.0.util"]
    reply = _post(proc, "/api/v1/query/chart", {
        "projectId": pid, "buckets": 4000,
        "series": [{"runId": run_id, "metricKey": key} for key in keys]})
    counts = {s["metricKey"]: s["pointsInRange"] for s in reply["series"]}
    assert counts == {"train/loss": STEPS, "train/lr": STEPS, "eval/accuracy": 3,
                      "system/gpu.0.util": STEPS // 20}
    loss = next(s for s in reply["series"] if s["metricKey"] == "train/loss")["values"]
    assert loss[-1] < loss[0] / 2, "the loss decays"
    assert max(loss[STEPS // 5:]) > 2 * sorted(loss[STEPS // 5:])[len(loss) // 2], "a spike"


def test_logs_spans_images_and_artifact(example: tuple[CollectorProcess, Any]) -> None:
    proc, runs = example
    run = runs["adamw-lr0.001-bs32"]
    target = {"projectId": run["projectId"], "runId": run["runId"]}
    logs = _post(proc, "/api/v1/query/logs", {**target, "limit": 1000})
    levels = {line["level"] for line in logs["rows"]}
    assert {"info", "warn"} <= levels, levels
    spans = _post(proc, "/api/v1/query/spans", target)
    assert spans["spanCount"] == 3 * 3, spans["spanCount"]  # 3 evals, each with 2 batches
    assert all(root["name"] == "eval" and len(root["children"]) == 2
               for root in spans["spans"])
    status, _, media = request("GET", f"{proc.url}/api/v1/media?projectId={run['projectId']}"
                                      f"&runId={run['runId']}", api_key=proc.api_key)
    assert status == 200 and len(media["items"]) == 3, media
    status, _, lineage = request("GET", f"{proc.url}/api/v1/artifacts/lineage?projectId="
                                        f"{run['projectId']}&runId={run['runId']}",
                                 api_key=proc.api_key)
    assert status == 200, lineage
    assert "model" in [a.get("name") for a in lineage["produced"]], lineage
