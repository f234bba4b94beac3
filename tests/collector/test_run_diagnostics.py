"""``GET …/runs/{runId}/diagnostics`` (docs/protocol.md §4.9): a run's client info and its
latest ``clientDiagnostics`` snapshot, for the run page's overview."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


def _start(proc: CollectorProcess) -> str:
    status, _, run = request("POST", proc.url + "/api/v1/runs/start", {
        "projectId": proc.project, "kind": "training", "resume": "never",
        "client": {"name": "probe", "version": "9.1"}}, api_key=proc.api_key)
    assert status == 201, run
    return str(run["runId"])


def _get(proc: CollectorProcess, run_id: str, key: str | None = "admin") -> tuple[int, Any]:
    path = (f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}"
            f"/runs/{run_id}/diagnostics")
    status, _, body = request("GET", path, api_key=proc.api_key if key == "admin" else key)
    return status, body


def _log_with_diagnostics(proc: CollectorProcess, run_id: str, snapshot: Any) -> None:
    now = int(time.time() * 1000)
    status, _, reply = request("POST", proc.url + "/api/v1/ingest/logs", {
        "projectId": proc.project, "runId": run_id, "clientDiagnostics": snapshot,
        "lines": [{"timestampMs": now, "sequence": 1, "level": "info", "message": "x"}]},
        api_key=proc.api_key)
    assert status == 202, reply


def test_diagnostics_return_the_client_and_the_latest_snapshot(
        shared_collector: CollectorProcess) -> None:
    run_id = _start(shared_collector)
    status, body = _get(shared_collector, run_id)
    assert status == 200, body
    assert body["client"] == {"name": "probe", "version": "9.1"}
    assert body["diagnostics"] is None and body["capturedAtMs"] is None
    _log_with_diagnostics(shared_collector, run_id, {"capturedAtMs": 1_000, "queueDepth": 3,
                                                     "nonFinite": {"loss": 2}})
    _log_with_diagnostics(shared_collector, run_id, {"capturedAtMs": 500, "queueDepth": 99})
    status, body = _get(shared_collector, run_id)
    assert status == 200, body
    assert body["capturedAtMs"] == 1_000
    assert body["diagnostics"] == {"capturedAtMs": 1_000, "queueDepth": 3,
                                   "nonFinite": {"loss": 2}}
    assert body["runId"] == run_id


def test_diagnostics_of_an_unknown_run_or_without_a_key_are_refused(
        shared_collector: CollectorProcess) -> None:
    status, body = _get(shared_collector, "run_does_not_exist")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND", body
    run_id = _start(shared_collector)
    status, body = _get(shared_collector, run_id, key=None)
    assert status == 401, body
    path = (f"{shared_collector.url}/api/v1/workspaces/{shared_collector.workspace}"
            f"/projects/no-such-project/runs/{run_id}/diagnostics")
    status, _, body = request("GET", path, api_key=shared_collector.api_key)
    assert status == 404, body
