"""A W&B-docs-style script, with only the import swapped, against the real collector: history
rows at W&B's steps, config, summary, images, tables, histograms, the alert line and a saved file
read back over HTTP."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial.compat.wandb as wandb
from rundial.compat.wandb import _session
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import read_logs, read_points


def _get(c: CollectorProcess, path: str) -> Any:
    status, _, body = request("GET", c.url + path, api_key=c.api_key)
    assert status == 200, body
    return body


def _run_doc(c: CollectorProcess, run_id: str) -> dict[str, Any]:
    found = _get(c, f"/api/v1/workspaces/{c.workspace}/projects/{c.project}/runs/{run_id}")
    return dict(found.get("run", found))


@pytest.fixture
def env(collector: CollectorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in list(os.environ):
        if name.startswith(("WANDB_", "RUNDIAL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("WANDB_ENTITY", collector.workspace)
    monkeypatch.setenv("WANDB_PROJECT", collector.project)
    monkeypatch.chdir(tmp_path)
    yield {"endpoint": collector.url, "api_key": collector.api_key,
           "spool_directory": str(tmp_path / "spool"), "system_metrics": False}
    for run in list(_session._open):
        run.finish()


def test_a_wandb_training_script_records_everything(collector: CollectorProcess,
                                                    env: dict[str, Any], tmp_path: Path) -> None:
    args = argparse.Namespace(lr=0.01, epochs=3)
    (tmp_path / "model.txt").write_text("weights v1")
    run = wandb.init(config=args, name="wandb-e2e", tags=["shim"], job_type="train",
                     notes="from a W&B script", **env)
    wandb.config.update({"arch": {"layers": 2}})
    run.tags = ("shim", "edited")  # W&B sends tag edits made after init
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch", summary="min")
    for epoch in range(wandb.config.epochs):
        for batch in range(2):
            wandb.log({"train/loss": 1.0 / (epoch * 2 + batch + 1)})
        wandb.log({"epoch": epoch, "val/loss": [0.9, 0.5, 0.7][epoch]}, commit=False)
        wandb.log({"hist": wandb.Histogram(np.arange(10), num_bins=5)})
    pixels = np.zeros((4, 6, 3), dtype=np.float32)
    pixels[:, :3] = 1.0
    table = wandb.Table(columns=["id", "pred", "input"])
    table.add_data(1, 0.5, wandb.Image(pixels))
    table.add_data(2, 0.25, "n/a")
    wandb.log({"preds": table, "samples": [wandb.Image(pixels, caption="left"),
                                          wandb.Image(pixels * 0.5, caption="dim")]}, step=20)
    run.summary["best_acc"] = 0.97
    wandb.alert(title="loss low", text="below 0.2", level=wandb.AlertLevel.WARN)
    wandb.save(str(tmp_path / "model.txt"), policy="now")
    wandb.finish()
    rid = run.id

    points = read_points(collector, rid, ["train/loss", "epoch", "val/loss"])
    assert points["train/loss"] == {0: 1.0, 1: 0.5, 3: 1 / 3, 4: 0.25, 6: 0.2, 7: 1 / 6}
    assert points["epoch"] == {2: 0, 5: 1, 8: 2} and points["val/loss"] == {2: 0.9, 5: 0.5, 8: 0.7}

    doc = _run_doc(collector, rid)
    assert (doc["runName"], doc["tags"], doc["jobType"], doc["status"], doc["notes"]) == (
        "wandb-e2e", ["shim", "edited"], "train", "completed", "from a W&B script")
    cfg = doc["config"]
    assert {k: cfg[k] for k in ("lr", "epochs", "arch.layers")} == {"lr": 0.01, "epochs": 3,
                                                                    "arch.layers": 2}
    assert cfg["summary.val/loss.min"] == 0.5 and cfg["summary.best_acc"] == 0.97
    assert cfg["summary.train/loss"] == pytest.approx(1 / 6) and cfg["summary.epoch"] == 2

    media = _get(collector, f"/api/v1/media?workspace={collector.workspace}&project="
                            f"{collector.project}&runId={rid}&limit=100")["items"]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in media:
        by_key.setdefault(item["mediaKey"], []).append(item)
    assert sorted(i["step"] for i in by_key["hist"]) == [2, 5, 8]
    assert all(i["mediaType"] == "table" and i["metadata"]["rundial.kind"] == "histogram"
               for i in by_key["hist"])
    assert [(i["step"], i["mediaType"]) for i in by_key["preds"]] == [(20, "table")]
    assert sorted((i["step"], i["caption"], i["width"]) for i in by_key["samples"]) == [
        (20, "dim", 6), (20, "left", 6)]
    hist_table = _download_json(collector, by_key["hist"][0])
    assert hist_table["columns"] == ["bin_start", "bin_end", "count"]
    assert [row[2] for row in hist_table["rows"]] == [2, 2, 2, 2, 2]
    assert _download_json(collector, by_key["preds"][0])["rows"] == [
        [1, 0.5, "media:preds/input#0"], [2, 0.25, "n/a"]]
    [cell] = by_key["preds/input"]
    assert (cell["step"], cell["metadata"]["row"], cell["metadata"]["column"]) == (20, 0, "input")

    lines = read_logs(collector, rid)
    assert [(line["level"], line["message"]) for line in lines] == [
        ("warn", "[ALERT WARN] loss low: below 0.2")]

    lineage = _get(collector, f"/api/v1/artifacts/lineage?workspace={collector.workspace}"
                              f"&project={collector.project}&runId={rid}")["produced"]
    saved = [v for v in lineage if v["artifactType"] == "run_file"]
    assert [(v["name"], v["metadata"]["path"]) for v in saved] == [("file-model.txt", "model.txt")]
    status, _, body = request(
        "GET", collector.url + f"/api/v1/workspaces/{collector.workspace}/projects/"
        f"{collector.project}/artifacts/{saved[0]['artifactId']}/file?path=model.txt",
        api_key=collector.api_key)
    assert status == 200 and body == b"weights v1"


def _download_json(c: CollectorProcess, item: dict[str, Any]) -> Any:
    status, _, body = request(
        "GET", c.url + f"/api/v1/workspaces/{c.workspace}/projects/{c.project}/artifacts/"
        f"{item['artifactId']}/file?path={item['artifactPath']}", api_key=c.api_key)
    assert status == 200  # the helper parses a JSON body
    return body


def _media_by_key(c: CollectorProcess, run_id: str) -> dict[str, list[int]]:
    """mediaKey -> sorted steps of its items (every page)."""
    out: dict[str, list[int]] = {}
    cursor = ""
    while True:
        page = _get(c, f"/api/v1/media?workspace={c.workspace}&project={c.project}"
                       f"&runId={run_id}&limit=1000{cursor}")
        for item in page["items"]:
            out.setdefault(item["mediaKey"], []).append(item["step"])
        if not page.get("nextCursor"):
            return {k: sorted(v) for k, v in out.items()}
        cursor = f"&cursor={page['nextCursor']}"


def test_watch_gradient_histograms_land_at_the_committed_steps(
        collector: CollectorProcess, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from rundial.compat.wandb import _watch

    monkeypatch.setattr(_watch, "_watched", 0)  # the process's first watched model: no prefix
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    run = wandb.init(config={"log_freq": 3}, **env)
    wandb.watch(model, log="gradients", log_freq=wandb.config.log_freq)
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    for _batch in range(7):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        wandb.log({"loss": loss})
    wandb.finish()
    media = _media_by_key(collector, run.id)
    assert media == {f"gradients/{name}": [2, 5] for name in
                     ("0.weight", "0.bias", "2.weight", "2.bias")}
    assert sorted(read_points(collector, run.id, ["loss"])["loss"]) == list(range(7))


EXIT_SCRIPT = """
import rundial.compat.wandb as wandb
run = wandb.init(config={{"lr": 0.5}}, endpoint={url!r}, api_key={key!r},
                 spool_directory={spool!r}, system_metrics=False)
wandb.log({{"loss": 2.0}})
wandb.log({{"loss": 1.0}}, step=4)
print(run.id)
"""


def test_a_script_without_finish_is_completed_at_exit(collector: CollectorProcess,
                                                      env: dict[str, Any], tmp_path: Path) -> None:
    import subprocess
    import sys

    script = EXIT_SCRIPT.format(url=collector.url, key=collector.api_key,
                                spool=str(tmp_path / "spool-exit"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    assert read_points(collector, run_id, ["loss"])["loss"] == {0: 2.0, 4: 1.0}
    doc = _run_doc(collector, run_id)
    assert doc["status"] == "completed" and doc["config"]["summary.loss"] == 1.0
    assert doc["config"]["lr"] == 0.5
