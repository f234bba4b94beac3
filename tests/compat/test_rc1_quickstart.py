"""The published rundial 1.0.0rc1 SDK, unmodified, runs its README quickstart against us.

Everything it logs is read back through its own client calls (query, export, logs, run
details), so both the write path and the read path are exercised over real HTTP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.conftest import run_rc1_against
from tests.helpers.collector_proc import CollectorProcess

pytestmark = pytest.mark.compat

QUICKSTART = r"""
import json, os, time
import rundial as rd

ws, proj, url, key = (os.environ[k] for k in ("WS", "PROJ", "URL", "KEY"))
with rd.init(workspace=ws, project=proj, name="baseline-001", kind="training", endpoint=url,
             api_key=key, mode="online", system_metrics=False) as run:
    run.log({"train/loss": 0.42, "train/acc": 0.91}, step=1)
    run.log({"train/loss": 0.40, "train/acc": 0.92}, step=2)
    run.log({"train/loss": 0.39}, step=2)          # duplicate step: the later one wins
    run.log_metric("eval/loss", value=0.31, time_ms=1_760_000_000_000)
    run.log_text("starting eval loop", level="info")
    run.log_text("something odd", level="warn")
    with run.trace("planner.step", attrs={"phase": "plan"}) as span:
        span.event("prompt.ready", {"tokens": 128})
    run_id, project_id = run.run_id, run.project_id
    flushed = run.flush(10.0)
    diag = run.diagnostics()

client = rd.Client(endpoint=url, api_key=key, system_metrics=False, start_worker_on_init=False)
now_ms = int(time.time() * 1000)
out = {
    "runId": run_id, "projectId": project_id, "flushed": flushed,
    "accepted": diag.accepted_points, "dropped": diag.dropped_points_non_retryable,
    "details": client.get_run_details(workspace_slug=ws, project_slug=proj, run_id=run_id),
    "keys": client.list_metric_keys(project_id=project_id, run_id=run_id, limit=20),
    "series": client.query_series(project_id=project_id, run_id=run_id,
                                  metric_keys=["train/loss", "train/acc", "eval/loss"]),
    "export": client.export_metrics_page(project_id=project_id, run_id=run_id, start_ms=0,
                                         end_ms=now_ms + 3_600_000, limit=1000),
    "logs": client.query_logs(project_id=project_id, run_id=run_id, min_level="info"),
    "logExport": client.export_logs_page(project_id=project_id, run_id=run_id, start_ms=0,
                                         end_ms=now_ms + 3_600_000),
    "whoami": client.whoami(),
}
client.close()
print(json.dumps(out))
"""


def _series_points(result: dict, key: str) -> dict[int, float]:
    series = {s["metricKey"]: s for s in result["series"]["series"]}
    return {p["step"]: p["value"] for p in series[key]["points"]}


def test_rc1_quickstart_round_trip(rc1_python: Path, collector: CollectorProcess,
                                   tmp_path: Path) -> None:
    """The rc1 quickstart logs, finishes and reads back exactly what it logged."""
    out = run_rc1_against(rc1_python, QUICKSTART, collector, tmp_path)
    assert out["flushed"] is True
    assert out["dropped"] == 0
    assert out["details"]["status"] == "completed"
    assert out["details"]["runName"] == "baseline-001"
    assert {k["metricKey"] for k in out["keys"]} == {"train/loss", "train/acc", "eval/loss"}
    assert _series_points(out, "train/loss") == {1: 0.42, 2: 0.39}
    assert _series_points(out, "train/acc") == {1: 0.91, 2: 0.92}
    assert list(_series_points(out, "eval/loss").values()) == [0.31]
    exported = {(r["metricKey"], r["step"]): r["value"] for r in out["export"]["rows"]}
    assert exported[("train/loss", 2)] == 0.39 and len(exported) == 5
    assert [r["message"] for r in out["logs"]["rows"]] == ["something odd", "starting eval loop"]
    assert [r["level"] for r in out["logExport"]["rows"]] == ["info", "warn"]
    assert out["whoami"]["authenticated"] is True
