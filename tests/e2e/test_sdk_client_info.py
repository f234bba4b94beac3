"""End to end: what the SDK tells the collector about its process — the ``client`` object of
``runs/start`` (host, pid, python, platform, rank) and ``clientDiagnostics`` snapshots
(docs/protocol.md §4.12, §4.13), read back through the runs table, run details and the run
diagnostics route."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import init_run, run_details

V1 = "/api/v1"


def _project_path(proc: CollectorProcess) -> str:
    return f"{proc.url}{V1}/workspaces/{proc.workspace}/projects/{proc.project}"


def _diagnostics(proc: CollectorProcess, run_id: str) -> dict[str, Any]:
    status, _, body = request("GET", f"{_project_path(proc)}/runs/{run_id}/diagnostics",
                              api_key=proc.api_key)
    assert status == 200, body
    return dict(body)


def _table_host(proc: CollectorProcess, run_id: str) -> Any:
    status, _, body = request("GET", f"{_project_path(proc)}/runs-table", api_key=proc.api_key)
    assert status == 200, body
    columns = body["columns"]
    return columns["host"][columns["runId"].index(run_id)]


def test_init_reports_the_host_in_the_table_details_and_diagnostics(
        shared_collector: CollectorProcess, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """rd.init's runs/start carries host, pid, python, platform and the launcher's rank."""
    monkeypatch.setenv("RANK", "0")
    with init_run(shared_collector, tmp_path / "spool") as run:
        run.log({"loss": 1.0})
    assert run.state == "completed"
    host = socket.gethostname()
    assert _table_host(shared_collector, run.id) == host
    status, details = run_details(shared_collector, run.id)
    assert status == 200 and details["host"] == host, details
    client = _diagnostics(shared_collector, run.id)["client"]
    assert client["name"] == "rundial-python" and client["host"] == host
    assert client["pid"] == os.getpid() and client["python"] == platform.python_version()
    assert client["platform"].startswith(platform.system())
    assert client["rank"] == 0 and client["distributed"] == "rank0"


def test_a_run_without_a_known_rank_reports_no_rank(shared_collector: CollectorProcess,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from rundial._run.rank import RANK_VARIABLES
    for name in RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with init_run(shared_collector, tmp_path / "spool") as run:
        pass
    client = wait_until(lambda: _diagnostics(shared_collector, run.id)["client"], 10,
                        message="the stored client")
    assert "rank" not in client and client["host"] == socket.gethostname()


def test_diagnostics_snapshot_matches_the_run_after_finish(shared_collector: CollectorProcess,
                                                           tmp_path: Path) -> None:
    """A run that drops points (tiny queue, ``on_queue_full="drop"``) and NaNs: the snapshot the
    collector keeps after finish carries the run's own final counters."""
    # No timed flush during the loop: a record logged after the worker's last drain is left
    # for the final drain, whose batch carries the final snapshot.
    run = init_run(shared_collector, tmp_path / "spool", queue_capacity=4,
                   flush_at_records=10_000, flush_interval_seconds=60, on_queue_full="drop")
    with pytest.warns(RuntimeWarning):
        for step in range(2_000):
            run.log({"loss": float(step), "bad": float("nan")}, step=step)
        assert run.finish() is True
    local = run.diagnostics()
    assert local.dropped_points_queue_full > 0
    body = _diagnostics(shared_collector, run.id)
    snapshot = body["diagnostics"]
    assert snapshot is not None and body["capturedAtMs"] == snapshot["capturedAtMs"]
    assert snapshot["droppedPointsQueueFull"] == local.dropped_points_queue_full
    assert snapshot["droppedPointsNonFinite"] == local.dropped_points_non_finite > 0
    assert snapshot["nonFiniteDroppedByMetric"] == local.non_finite_dropped
    assert snapshot["droppedPoints"] == (local.dropped_points_queue_full
                                         + local.dropped_points_non_finite)
    assert snapshot["droppedLogLinesQueueFull"] == local.dropped_log_lines_queue_full
