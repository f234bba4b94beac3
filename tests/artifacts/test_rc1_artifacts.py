"""The published rundial 1.0.0rc1 SDK, unmodified, uses our artifact routes (v1 doc §6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image as PILImage

from rundial._artifacts.journal import sha256_file
from tests.artifacts.conftest import SMALL_PART_BYTES, api, versions
from tests.compat.conftest import rc1_python, run_rc1  # noqa: F401  (fixture)
from tests.helpers.collector_proc import CollectorProcess

pytestmark = pytest.mark.compat

SCRIPT = r"""
import json, os
import rundial as rd

ws, proj, url, key, src, dst = (os.environ[k] for k in ("WS", "PROJ", "URL", "KEY", "SRC", "DST"))
with rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, system_metrics=False) as run:
    queued = [run.checkpoint(os.path.join(src, f"model-{i}.bin"), step=i, keep_last=2)
              for i in range(3)]
    logged = run.log({"samples": rd.Image(os.path.join(src, "img.png")), "loss": 0.5}, step=4)
    with run.trace("tool", attrs={"evidence": "x" * 20000}):
        pass
    flushed = run.flush(30)
    handle = run.use_artifact("checkpoint:latest")
    out = handle.download(os.path.join(dst, "ckpt"))
    diag = run.diagnostics()
    print(json.dumps({"queued": queued, "logged": logged, "flushed": flushed,
                      "runId": run.run_id, "artifact": handle.artifact, "out": str(out),
                      "lastError": diag.last_error,
                      "dropped": diag.dropped_points_non_retryable}))
"""


def test_rc1_checkpoint_media_evidence_and_use_artifact(
        rc1_python: Path, small_parts_collector: CollectorProcess, tmp_path: Path) -> None:
    """rc1's run.checkpoint (multipart), rd.Image, trace evidence and use().download() work."""
    c = small_parts_collector
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"model-{i}.bin").write_bytes(os.urandom(2 * SMALL_PART_BYTES + 17 * i))
    PILImage.new("RGB", (4, 5), "red").save(src / "img.png")
    env = {"WS": c.workspace, "PROJ": c.project, "URL": c.url, "KEY": c.api_key,
           "SRC": str(src), "DST": str(tmp_path / "dst")}
    proc = run_rc1(rc1_python, SCRIPT, env, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["queued"] == [True, True, True] and out["logged"] and out["flushed"]
    assert (out["lastError"], out["dropped"]) == (None, 0)
    assert out["artifact"]["version"] == 3 and out["artifact"]["runId"] == out["runId"]
    restored = Path(out["out"]) / "model-2.bin"
    assert sha256_file(restored) == sha256_file(src / "model-2.bin")
    assert [v["version"] for v in versions(c, "checkpoint")] == [2, 3]
    status, _, media = api(c, "GET", f"/api/v1/media?workspace={c.workspace}"
                                     f"&project={c.project}&runId={out['runId']}")
    assert status == 200 and [m["mediaKey"] for m in media["items"]] == ["samples"]
    evidence = [v for v in versions(c, f"trace-evidence-{'0' * 15}2")]
    assert evidence and evidence[0]["artifactType"] == "trace_evidence"
