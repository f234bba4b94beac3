"""Walking skeleton: our SDK logs to the real collector over HTTP and every point arrives."""

from __future__ import annotations

from pathlib import Path

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

KEYS = [f"m{i}" for i in range(10)]


def test_hundred_steps_of_ten_metrics_arrive_exactly(collector: CollectorProcess,
                                                     tmp_path: Path) -> None:
    """rd.init, 100 steps x 10 metrics, finish: the collector holds exactly 1,000 points."""
    with rd.init(workspace=collector.workspace, project=collector.project,
                 endpoint=collector.url, api_key=collector.api_key,
                 spool_directory=str(tmp_path / "spool"), system_metrics=False) as run:
        for step in range(100):
            run.log({key: step * 10 + i for i, key in enumerate(KEYS)}, step=step)
    status, _, body = request("POST", collector.url + "/api/v1/query/series", api_key=collector.api_key,
                              body={"projectId": collector.project, "runId": run.run_id,
                                    "metricKeys": KEYS, "maxPointsPerSeries": 1000,
                                    "mode": "full"})
    assert status == 200, body
    points = {(s["metricKey"], p["step"]): p["value"] for s in body["series"] for p in s["points"]}
    assert len(points) == 1000
    assert all(points[(f"m{i}", step)] == step * 10 + i for i in range(10) for step in range(100))
    status, _, details = request(
        "GET", f"{collector.url}/api/v1/workspaces/{collector.workspace}/projects/"
               f"{collector.project}/runs/{run.run_id}", api_key=collector.api_key)
    assert status == 200 and details["status"] == "completed", details
