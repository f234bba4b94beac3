"""Rejected items leave no trace, and rejections name the item as sent (issue 14)."""

from __future__ import annotations

import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.collector.control import V1, call, details, new_key, new_target, start_run
from tests.collector.dataplane import point, post, project_id, run_id
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until


def _keys(proc: CollectorProcess, pid: str, run: str | None = None) -> tuple[int, list[str]]:
    query = {"projectId": pid, "limit": 1000, **({"runId": run} if run else {})}
    status, payload = call(proc, "GET", f"{V1}/metrics/keys?{urllib.parse.urlencode(query)}")
    keys = [k["metricKey"] for k in payload["keys"]] if status == 200 else []
    return status, keys


def _raw_rows(pid: str, run: str, rows: str) -> bytes:
    return f'{{"projectId": "{pid}", "runId": "{run}", "rows": {rows}}}'.encode()


@pytest.mark.parametrize("rows", [
    '[[0, 1, {{"{k}": 1e999}}], [1, 2, {{"{k}": -1e999}}]]',  # uniform: the matrix path
    '[[0, 1, {{"{k}": null}}], [1, 2, {{"{k}": 1e999, "{k}2": null}}]]',  # ragged rows
])
def test_key_whose_every_value_was_rejected_is_not_listed(shared_collector: CollectorProcess,
                                                          rows: str) -> None:
    """Rows whose only values are non-finite store nothing: no key, no known run (#14.5)."""
    pid, run, key = project_id(shared_collector), run_id(), f"bad-{uuid.uuid4().hex[:8]}"
    status, _, reply = post(shared_collector, "ingest/metrics", None,
                            raw=_raw_rows(pid, run, rows.format(k=key)),
                            headers={"content-type": "application/json"})
    assert status == 202 and reply["accepted"] == 0 and reply["rejected"] > 0, reply
    assert key not in _keys(shared_collector, pid)[1]
    assert _keys(shared_collector, pid, run)[0] == 404
    status, _, payload = post(shared_collector, "query/series",
                              {"projectId": pid, "runId": run, "metricKeys": [key]})
    assert status == 404 and payload["error"]["code"] == "NOT_FOUND", payload


def _ingest_rows(proc: CollectorProcess, rows: list[Any]) -> dict[str, Any]:
    body = {"projectId": project_id(proc), "runId": run_id(), "rows": rows}
    status, _, reply = post(proc, "ingest/metrics", body)
    assert status == 202, reply
    return reply


def test_ingest_of_another_project_does_not_touch_a_run(tmp_path: Path) -> None:
    """A key of project B ingesting into ``B/victim`` leaves project A's lost run ``victim``
    lost and its heartbeat unchanged; A's own ingest still revives it (#14.6)."""
    proc = CollectorProcess(tmp_path / "data",
                            extra_env={"RUNDIAL_COLLECTOR_LOST_AFTER_SECONDS": "1.5"})
    proc.start()
    try:
        a, b = new_target(proc), new_target(proc)
        victim = start_run(proc, a)[1]["runId"]
        lost = wait_until(lambda: (d := details(proc, a, victim))["status"] == "lost" and d,
                          timeout_seconds=20, interval_seconds=0.05, message="run reads as lost")
        kinds = ("metrics", "logs", "traces")
        for kind, body in zip(kinds, _bodies(b.project_id, victim)):
            key_b = new_key(proc, b, [f"{kind}:write"])["apiKey"]
            status, _, reply = post(proc, f"ingest/{kind}", body, key=key_b)
            assert status == 202 and reply["accepted"] == 1, reply
        after = details(proc, a, victim)
        assert (after["status"], after["lastHeartbeatMs"]) == ("lost", lost["lastHeartbeatMs"])
        status, _, reply = post(proc, "ingest/metrics", _bodies(a.project_id, victim)[0])
        assert status == 202 and details(proc, a, victim)["status"] == "running", reply
    finally:
        proc.stop()


def _bodies(pid: str, run: str) -> tuple[dict[str, Any], ...]:
    """One metrics, one logs and one traces body, each with one valid item for ``run``."""
    return ({"points": [point(pid, run, "k", 0, 1.0)]},
            {"projectId": pid, "runId": run, "lines": [
                {"timestampMs": 1, "sequence": 0, "level": "info", "message": "hi"}]},
            {"projectId": pid, "runId": run, "spans": [
                {"traceId": "a" * 32, "spanId": "b" * 16, "name": "s", "startNs": "1"}]})
