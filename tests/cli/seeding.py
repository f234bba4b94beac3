"""Create runs with metrics and log lines on a collector over HTTP (admin key)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request


def api(collector: CollectorProcess, method: str, path: str, body: Any = None) -> Any:
    """One admin call to the collector; asserts a 2xx and returns the JSON body."""
    status, _, payload = request(method, collector.url + path, body, api_key=collector.api_key)
    assert 200 <= status < 300, (status, payload)
    return payload


def seed_run(collector: CollectorProcess, steps: int = 20, log_lines: int = 5,
             name: str = "seeded") -> str:
    """A run with metrics ``loss``/``acc`` at ``steps`` steps and ``log_lines`` log lines."""
    run_id = "run_cli_" + uuid.uuid4().hex[:12]
    api(collector, "POST", "/api/v1/runs/start",
        {"projectId": collector.project, "runId": run_id, "runName": name, "kind": "training",
         "resume": "never", "client": {"name": "tests", "version": "0"}})
    now = int(time.time() * 1000)
    points = [{"projectId": collector.project, "runId": run_id, "metricKey": key, "step": step,
               "timestampMs": now + step, "value": value}
              for step in range(steps) for key, value in (("loss", 1 / (step + 1)),
                                                          ("acc", -step / 10))]
    api(collector, "POST", "/api/v1/ingest/metrics", {"points": points})
    add_logs(collector, run_id, range(1, log_lines + 1))
    return run_id


def add_logs(collector: CollectorProcess, run_id: str, sequences: Any,
             level: str = "info") -> None:
    """Ingest one log line per sequence number (message ``line <seq>``)."""
    now = int(time.time() * 1000)
    lines = [{"projectId": collector.project, "runId": run_id, "timestampMs": now + seq,
              "sequence": seq, "level": level, "message": f"line {seq}", "truncated": False}
             for seq in sequences]
    api(collector, "POST", "/api/v1/ingest/logs", {"lines": lines})
