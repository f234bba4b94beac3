"""Many concurrent clients against one collector: every accepted point is read back exactly."""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

from tests.collector.control import V1, call
from tests.collector.dataplane import ingest, point, post, project_id, run_id, series
from tests.helpers.collector_proc import CollectorProcess

THREADS = 16
BATCHES = 12
ROWS = 50  # per wide-rows batch (3 keys each) and points per rc1 batch


def _client(proc: CollectorProcess, pid: str, run: str, index: int, errors: list[str]) -> None:
    """Even clients send wide rows (keys shared by all), odd ones rc1 points and log lines."""
    try:
        for b in range(BATCHES):
            first = (index * BATCHES + b) * ROWS
            steps = range(first, first + ROWS)
            if index % 2 == 0:
                body: dict[str, Any] = {"projectId": pid, "runId": run, "rows": [
                    [s, s, {"shared/a": 1.0, "shared/b": 2.0, f"own/{index}": float(s)}]
                    for s in steps]}
                ingest(proc, "metrics", body, gzip_body=True)
            else:
                ingest(proc, "metrics", {"points": [point(pid, run, f"own/{index}", s, 1.0)
                                                    for s in steps]})
                ingest(proc, "logs", {"lines": [
                    {"projectId": pid, "runId": run, "timestampMs": s, "sequence": s + 1,
                     "level": "info", "message": f"client {index}", "truncated": False}
                    for s in steps]})
    except AssertionError as exc:  # pragma: no cover - reported by the test
        errors.append(str(exc))


def test_concurrent_clients_lose_nothing(shared_collector: CollectorProcess) -> None:
    """16 threads x 12 batches of mixed bodies: the exact number of points and lines is stored."""
    pid, run = project_id(shared_collector), run_id()
    errors: list[str] = []
    pool = [threading.Thread(target=_client, args=(shared_collector, pid, run, i, errors))
            for i in range(THREADS)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    per_client = BATCHES * ROWS
    wide_clients = THREADS // 2
    keys = ["shared/a", "shared/b", *(f"own/{i}" for i in range(THREADS))]
    got = series(shared_collector, pid, run, keys, maxPointsPerSeries=100_000)
    assert got["shared/a"]["totalPoints"] == wide_clients * per_client
    assert got["shared/b"]["supersededPoints"] == 0
    for i in range(THREADS):
        first = i * per_client
        assert [p["step"] for p in got[f"own/{i}"]["points"]] == list(
            range(first, first + per_client))
    query = urllib.parse.urlencode({"projectId": pid, "runId": run, "limit": 100})
    status, listing = call(shared_collector, "GET", f"{V1}/metrics/keys?{query}")
    assert status == 200
    assert sum(k["pointCount"] for k in listing["keys"]) == (
        2 * wide_clients * per_client + THREADS * per_client)
    status, _, logs = post(shared_collector, "export/logs", {
        "projectId": pid, "runId": run, "startMs": 0, "endMs": 10**9, "limit": 100_000})
    assert status == 200 and len(logs["rows"]) == (THREADS - wide_clients) * per_client
