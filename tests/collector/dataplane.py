"""Helpers for data-plane tests: build ingest bodies, post them, read series and pages back.

Everything goes over HTTP to a real collector subprocess (no mocks).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from tests.collector.control import V1, call
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

_PROJECT_IDS: dict[tuple[str, str, str], str] = {}


def run_id() -> str:
    """A run id no other test uses."""
    return f"run-{uuid.uuid4().hex[:12]}"


def project_id(proc: CollectorProcess) -> str:
    """The bootstrap project's ``prj_`` id (resolved once per collector instance: its random
    admin key, not its URL, since an ephemeral port is reused by later collectors)."""
    cache_key = (proc.api_key, proc.url, proc.workspace, proc.project)
    if cache_key not in _PROJECT_IDS:
        status, payload = call(proc, "POST", f"{V1}/runs/resolve-target",
                               {"workspace": proc.workspace, "project": proc.project})
        assert status == 200, payload
        _PROJECT_IDS[cache_key] = payload["projectId"]
    return _PROJECT_IDS[cache_key]


def point(pid: str, run: str, key: str, step: int, value: Any, ts: int | None = None
          ) -> dict[str, Any]:
    """One rc1 metric point."""
    return {"projectId": pid, "runId": run, "metricKey": key, "step": step,
            "timestampMs": 1_700_000_000_000 + step if ts is None else ts, "value": value}


def post(proc: CollectorProcess, route: str, body: Any, key: str | None = "admin",
         **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """POST to ``/api/v1/<route>``; returns (status, headers, payload)."""
    api_key = proc.api_key if key == "admin" else key
    return request("POST", f"{proc.url}{V1}/{route}", body, api_key=api_key, **kwargs)


def ingest(proc: CollectorProcess, kind: str, body: Any, expect: int = 202,
           **kwargs: Any) -> dict[str, Any]:
    """POST ``ingest/<kind>`` and assert the status; returns the JSON reply."""
    status, _, payload = post(proc, f"ingest/{kind}", body, **kwargs)
    assert status == expect, payload
    return payload


def series(proc: CollectorProcess, pid: str, run: str, keys: list[str], **extra: Any
           ) -> dict[str, Any]:
    """``query/series`` reply entries by metric key (asserting a 200)."""
    body = {"projectId": pid, "runId": run, "metricKeys": keys, "range": "full_run",
            "maxPointsPerSeries": 25, "order": "asc", **extra}
    status, _, payload = post(proc, "query/series", body)
    assert status == 200, payload
    return {entry["metricKey"]: entry for entry in payload["series"]}


def steps_values(entry: dict[str, Any]) -> list[tuple[int, float]]:
    return [(p["step"], p["value"]) for p in entry["points"]]


def pages(proc: CollectorProcess, route: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every JSON page of a paged route, following ``page.nextCursor``."""
    cursor = None
    while True:
        status, _, payload = post(proc, route, {**body, **({"cursor": cursor} if cursor else {})})
        assert status == 200, payload
        yield payload
        if not payload["page"]["hasMore"]:
            return
        cursor = payload["page"]["nextCursor"]
        assert cursor


@contextmanager
def database(proc: CollectorProcess) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the collector's SQLite file (for tables without a route)."""
    path = proc.data_dir / "rundial.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        yield conn
