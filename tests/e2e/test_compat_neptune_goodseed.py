"""End to end: scripts written as Neptune's and goodseed's docs write them (only the import
swapped) run against the real collector; everything is read back over HTTP."""

from __future__ import annotations

import datetime
import os
import pickle
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from rundial.compat.goodseed import restore_types
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import read_logs, read_points, run_details

NEPTUNE_SCRIPT = """
    import numpy as np
    import rundial.compat.neptune as neptune
    from rundial.compat.neptune.types import File
    from rundial.compat.neptune.utils import stringify_unsupported

    run = neptune.init_run(name="neptune-e2e", tags=["quickstart", "script"],
                           capture_hardware_metrics=False)
    params = {"lr": 0.001, "batch_size": 64, "optimizer": {"name": "adam"}, "layers": [64, 32]}
    run["parameters"] = stringify_unsupported(params)
    run["sys/tags"].add(["e2e"])
    for epoch in range(5):
        run["train/loss"].append(1.0 / (epoch + 1))
        run["train/acc"].append(epoch / 10, step=epoch * 10)
    run["eval/f1"] = 0.85
    run["logs"].append("epoch done")
    with open("weights.bin", "wb") as fh:
        fh.write(b"\\x00weights")
    run["model/weights"].upload("weights.bin")
    run["samples/first"].upload(File.as_image(np.linspace(0, 1, 24).reshape(4, 6)))
    for epoch in range(2):
        run["train/predictions"].append(File.as_image(np.full((4, 4, 3), epoch / 2)))
    print("hello from stdout")
    run.sync()
    run["sys/name"] = "neptune-e2e-final"
    # no run.stop(): the run is stopped at interpreter exit
"""

GOODSEED_SCRIPT = """
    from datetime import datetime, timezone
    from rundial.compat import goodseed

    with goodseed.Run(name="goodseed-e2e", tags=["gs"], capture_hardware_metrics=False) as run:
        run["parameters"] = {"lr": 0.001, "batch_size": 32, "train": {"max_epochs": 10}}
        run.log_configs({"use_amp": False, "ratio": 3.0, "seed": None,
                         "started": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
                         "classes": {"cat", "dog"}})
        for step in range(5):
            run.log_metrics({"loss": 1 / (step + 1), "accuracy": step / 5}, step=step)
            run.log_strings({"sample": f"text {step}"}, step=step)
        run["train/loss"].log(0.1, step=100)
        run["eval/f1"] = 0.9
"""

GOODSEED_FAILING = """
    from rundial.compat import goodseed

    with goodseed.Run(name="diverges", capture_hardware_metrics=False) as run:
        run.log_metrics({"loss": 1.0}, step=0)
        raise RuntimeError("loss diverged")
"""


def _run_script(proc: CollectorProcess, tmp_path: Path, body: str,
                library: str) -> tuple[str, str, dict[str, Any]]:
    """Run ``body`` in a fresh interpreter pointed at ``proc`` by environment only (the
    library's project and run-id variables, rundial's endpoint, key and spool); returns
    ``(run id, "rc=… stderr=…", the run's details)``."""
    run_id = f"run_{library}_" + uuid.uuid4().hex[:12]
    prefix = library.upper()
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "RUNDIAL_ENDPOINT": proc.url, "RUNDIAL_API_KEY": proc.api_key,
           "RUNDIAL_SPOOL_DIR": str(tmp_path / "spool"),
           f"{prefix}_PROJECT": f"{proc.workspace}/{proc.project}",
           "NEPTUNE_CUSTOM_RUN_ID" if library == "neptune" else "GOODSEED_RUN_ID": run_id}
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path,
                          capture_output=True, timeout=120)
    outcome = f"rc={done.returncode} stderr={done.stderr.decode()[-3000:]}"
    status, run = run_details(proc, run_id)
    assert status == 200, (run, outcome)
    return run_id, outcome, run


def _get(proc: CollectorProcess, path: str) -> Any:
    """``GET`` a route under the collector's test project."""
    base = f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}"
    status, _, body = request("GET", base + path, api_key=proc.api_key)
    assert status == 200, body
    return body


def _artifacts(proc: CollectorProcess, run_id: str) -> list[dict[str, Any]]:
    return list(_get(proc, f"/runs/{run_id}/artifacts")["produced"])


def _file_bytes(proc: CollectorProcess, artifact_id: str, path: str) -> bytes:
    import urllib.request

    url = (f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}/artifacts/"
           f"{artifact_id}/file?path={path}")
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {proc.api_key}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return bytes(resp.read())


def test_neptune_script_records_what_neptune_records(shared_collector: CollectorProcess,
                                                     tmp_path: Path) -> None:
    """Series at Neptune's implicit and explicit steps, assigned values as config, name and
    tags (changed after registration too), string series and stdout as log lines, the
    uploaded file and images (File.as_image, one and a series), and status completed although
    the script never calls stop()."""
    proc = shared_collector
    run_id, outcome, run = _run_script(proc, tmp_path, NEPTUNE_SCRIPT, "neptune")
    assert outcome.startswith("rc=0"), outcome
    assert (run["status"], run["runName"]) == ("completed", "neptune-e2e-final"), outcome
    assert sorted(run["tags"]) == ["e2e", "quickstart", "script"]
    config = restore_types(run["config"])
    assert {k: v for k, v in config.items() if not k.startswith("sys/")} == {
        "parameters/lr": 0.001, "parameters/batch_size": 64, "parameters/optimizer/name": "adam",
        "parameters/layers": "[64, 32]", "eval/f1": 0.85}
    assert config["sys/tags"] == {"quickstart", "script", "e2e"}
    assert config["sys/name"] == "neptune-e2e-final"
    series = read_points(proc, run_id, ["train/loss", "train/acc"])
    assert series["train/loss"] == {step: 1.0 / (step + 1) for step in range(5)}
    assert series["train/acc"] == {epoch * 10: epoch / 10 for epoch in range(5)}
    lines = [row["message"] for row in read_logs(proc, run_id)]
    assert "[logs step=0] epoch done" in lines and "hello from stdout" in lines
    [artifact] = _artifacts(proc, run_id)
    assert (artifact["name"], artifact["artifactType"], artifact["fileCount"]) == (
        "model.weights", "file", 1)
    assert artifact["metadata"] == {"field": "model/weights"}
    assert _file_bytes(proc, artifact["artifactId"], "weights.bin") == b"\x00weights"
    media = {k["mediaKey"]: (k["mediaType"], k["stepCount"], k["minStep"], k["maxStep"])
             for k in _get(proc, f"/runs/{run_id}/media/keys")["keys"]}
    assert media == {"samples/first": ("image", 1, 0, 0), "train/predictions": ("image", 2, 0, 1)}


def test_goodseed_script_keeps_config_types(shared_collector: CollectorProcess,
                                            tmp_path: Path) -> None:
    """Typed configs read back with their types; metrics at the given steps; strings as log
    lines; sys/* fields; status completed from the context manager."""
    proc = shared_collector
    run_id, outcome, run = _run_script(proc, tmp_path, GOODSEED_SCRIPT, "goodseed")
    assert outcome.startswith("rc=0"), outcome
    assert (run["status"], run["runName"], run["tags"]) == ("completed", "goodseed-e2e", ["gs"])
    config = restore_types(run["config"])
    expected = {"parameters/lr": 0.001, "parameters/batch_size": 32,
                "parameters/train/max_epochs": 10, "use_amp": False, "ratio": 3.0, "seed": None,
                "started": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
                "classes": {"cat", "dog"}, "eval/f1": 0.9, "sys/id": run_id,
                "sys/name": "goodseed-e2e", "sys/tags": {"gs"}, "sys/state": "finished"}
    for key, value in expected.items():
        assert config[key] == value and type(config[key]) is type(value), (key, config.get(key))
    series = read_points(proc, run_id, ["loss", "accuracy", "train/loss"])
    assert series["loss"] == {step: 1 / (step + 1) for step in range(5)}
    assert series["accuracy"] == {step: step / 5 for step in range(5)}
    assert series["train/loss"] == {100: 0.1}
    lines = [row["message"] for row in read_logs(proc, run_id)]
    assert [line for line in lines if line.startswith("[sample")] == [
        f"[sample step={step}] text {step}" for step in range(5)]


def test_goodseed_exception_fails_the_run(shared_collector: CollectorProcess,
                                          tmp_path: Path) -> None:
    """An exception in `with goodseed.Run()` ends the run failed with its reason, sys/state
    failed and the traceback as an error line; the logged metric still arrives."""
    proc = shared_collector
    run_id, outcome, run = _run_script(proc, tmp_path, GOODSEED_FAILING, "goodseed")
    assert outcome.startswith("rc=1") and "loss diverged" in outcome, outcome
    assert run["status"] == "failed" and "loss diverged" in (run["reason"] or "")
    assert run["config"]["sys/state"] == "failed"
    assert read_points(proc, run_id, ["loss"])["loss"] == {0: 1.0}
    errors = read_logs(proc, run_id, minLevel="error")
    assert any("RuntimeError: loss diverged" in row["message"] for row in errors)


NEPTUNE_CONTENT_SCRIPT = """
    import io
    import rundial.compat.neptune as neptune
    from rundial.compat.neptune.types import File

    run = neptune.init_run(capture_hardware_metrics=False)
    run["report/summary"].upload(File.from_content("<p>ok</p>", extension="html"))
    run["data/sample"].upload(File.from_stream(io.BytesIO(b"skip:a,b\\n1,2\\n"), seek=5,
                                               extension="csv"))
    run["model"] = File.as_pickle({"w": [1, 2]})
    run.stop()
"""


def test_neptune_in_memory_files_are_uploaded_and_then_removed(
        shared_collector: CollectorProcess, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """File.from_content/from_stream/as_pickle are uploaded as artifact files named
    ``<last path segment>.<extension>`` holding Neptune's bytes; once stop() has delivered
    them, the shim's staging directory is gone."""
    staging = tmp_path / "tmp"
    staging.mkdir()
    monkeypatch.setenv("TMPDIR", str(staging))
    proc = shared_collector
    run_id, outcome, run = _run_script(proc, tmp_path, NEPTUNE_CONTENT_SCRIPT, "neptune")
    assert outcome.startswith("rc=0") and run["status"] == "completed", outcome
    files = {}
    for artifact in _artifacts(proc, run_id):
        [entry] = _get(proc, f"/artifacts/{artifact['artifactId']}/files")["files"]
        files[artifact["metadata"]["field"]] = (
            entry["path"], _file_bytes(proc, artifact["artifactId"], entry["path"]))
    assert files == {"report/summary": ("summary.html", b"<p>ok</p>"),
                     "data/sample": ("sample.csv", b"a,b\n1,2\n"),
                     "model": ("model.pkl", pickle.dumps({"w": [1, 2]}))}
    assert list(staging.glob("rundial-neptune-*")) == []
