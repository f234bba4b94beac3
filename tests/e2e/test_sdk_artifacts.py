"""Artifacts through the run API (rd.init): checkpoints, media in run.log, lineage, offline + sync."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial as rd
from rundial._artifacts.uploader import resume_journal
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request


def _init(c: CollectorProcess, spool: Path, **extra: Any) -> rd.Run:
    run = rd.init(workspace=c.workspace, project=c.project, endpoint=c.url, api_key=c.api_key,
                  spool_directory=str(spool), **extra)
    assert isinstance(run, rd.Run)
    return run


def _get(c: CollectorProcess, path: str) -> Any:
    status, _, body = request("GET", c.url + path, api_key=c.api_key)
    assert status == 200, body
    return body


def _versions(c: CollectorProcess, name: str) -> list[dict[str, Any]]:
    return list(_get(c, f"/api/v1/artifacts/versions?workspace={c.workspace}&project="
                        f"{c.project}&name={name}")["versions"])


def test_checkpoint_then_use_artifact_downloads_identical_bytes(collector: CollectorProcess,
                                                                tmp_path: Path) -> None:
    """run.checkpoint and rd.checkpoint upload; another run's use_artifact downloads them intact."""
    first, second = tmp_path / "model-1.pt", tmp_path / "model-2.pt"
    first.write_bytes(os.urandom(300_000))
    second.write_bytes(os.urandom(200_000))
    with _init(collector, tmp_path / "spool", name="producer") as producer:
        producer.log({"loss": 0.5}, step=1)
        assert producer.checkpoint(first, step=1) is True
        assert rd.checkpoint(second, step=2) is True  # the current run is `producer`
        assert producer.flush(30.0)
    assert [v["version"] for v in _versions(collector, "checkpoint")] == [1, 2]
    with _init(collector, tmp_path / "spool", name="consumer") as consumer:
        handle = consumer.use_artifact("checkpoint:latest")
        out = Path(handle.download(tmp_path / "dl"))
    assert (out / "model-2.pt").read_bytes() == second.read_bytes()
    base = f"/api/v1/artifacts/lineage?workspace={collector.workspace}&project={collector.project}"
    used = _get(collector, f"{base}&runId={consumer.run_id}")["used"]
    produced = _get(collector, f"{base}&runId={producer.run_id}")["produced"]
    assert [(u["name"], u["version"], u["ref"]) for u in used] == [
        ("checkpoint", 2, "checkpoint:latest")]
    assert sorted(v["version"] for v in produced) == [1, 2]


def test_media_values_in_log_are_uploaded_and_the_numbers_still_arrive(
        collector: CollectorProcess, tmp_path: Path) -> None:
    """An rd.Image and an rd.Table inside run.log go to the uploader; the floats are kept."""
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    with _init(collector, tmp_path / "spool") as run:
        run.log({"loss": 0.25, "sample": rd.Image(pixels, caption="c"),
                 "preds": rd.Table(columns=["a", "b"], rows=[[1, 2]])}, step=7)
        assert run.flush(30.0)
        diag = run.diagnostics()
    assert diag.artifacts["completed_jobs"] == 2 and diag.dropped == {}
    items = _get(collector, f"/api/v1/media?workspace={collector.workspace}&project="
                            f"{collector.project}&runId={run.run_id}&step=7")["items"]
    assert sorted((i["mediaKey"], i["mediaType"]) for i in items) == [
        ("preds", "table"), ("sample", "image")]
    status, _, body = request("POST", collector.url + "/api/v1/query/series",
                              api_key=collector.api_key,
                              body={"projectId": collector.project, "runId": run.run_id,
                                    "metricKeys": ["loss", "sample"], "mode": "full"})
    assert status == 200
    assert {s["metricKey"]: [p["value"] for p in s["points"]] for s in body["series"]
            if s["points"]} == {"loss": [0.25]}


def test_offline_checkpoints_are_journaled_and_uploaded_by_sync(collector: CollectorProcess,
                                                                tmp_path: Path) -> None:
    """Offline, a checkpoint is journaled (not sent); a later resume_journal uploads it."""
    ckpt = tmp_path / "offline.pt"
    ckpt.write_bytes(os.urandom(50_000))
    spool = tmp_path / "spool"
    with _init(collector, spool, mode="offline", name="offline") as run:
        assert run.checkpoint(ckpt, step=1) is True
        assert run.diagnostics().artifacts["journaled_offline"] == 1
        with pytest.raises(RuntimeError, match="offline"):
            run.use_artifact("checkpoint:latest")
    assert _versions(collector, "checkpoint") == []
    assert resume_journal(spool, collector.url, collector.api_key, timeout_s=30) == 1
    assert [v["version"] for v in _versions(collector, "checkpoint")] == [1]


def test_bad_artifact_arguments_raise_and_noop_runs_queue_nothing(tmp_path: Path) -> None:
    """A missing path is a ValueError; a disabled run queues nothing and refuses use_artifact."""
    run = rd.init(project="p", mode="offline", spool_directory=str(tmp_path / "spool"),
                  start_worker_on_init=False)
    with pytest.raises(ValueError, match="does not exist"):
        run.log_artifact(tmp_path / "missing.bin")
    run.finish(1.0)
    noop = rd.init(project="p", mode="disabled")
    assert noop.checkpoint(tmp_path) is False and noop.log_artifact(tmp_path) is False
    with pytest.raises(RuntimeError, match="use_artifact"):
        noop.use_artifact("checkpoint:latest")
