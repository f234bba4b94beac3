"""Log reads the issue asks for that ``tests/collector/test_query.py`` does not cover yet:
tail semantics, ascending filtered paging, and the time/level/text filters on both routes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores

LEVELS = ("debug", "info", "warn", "error")


def _post(proc: CollectorProcess, path: str, body: Any) -> Any:
    status, _, payload = request("POST", proc.url + "/api/v1" + path, body,
                                 api_key=proc.api_key)
    assert status in (200, 201, 202), payload
    return payload


def _run_with_lines(proc: CollectorProcess, count: int = 12) -> tuple[str, str]:
    """A run whose line i has timestampMs 1000+i, sequence i+1, level LEVELS[i % 4] and the
    word "needle" when i is even."""
    run = _post(proc, "/runs/start", {"projectId": proc.project, "kind": "training",
                                      "resume": "never", "client": {"name": "t", "version": "0"}})
    pid, rid = run["projectId"], run["runId"]
    _post(proc, "/ingest/logs", {"lines": [
        {"projectId": pid, "runId": rid, "timestampMs": 1000 + i, "sequence": i + 1,
         "level": LEVELS[i % 4], "message": f"line {i}" + (" needle" if i % 2 == 0 else ""),
         "truncated": False} for i in range(count)]})
    return pid, rid


def _all_rows(proc: CollectorProcess, route: str, body: dict[str, Any]) -> list[int]:
    """Follow the cursor to the end; the zero-based line numbers in reply order."""
    out: list[int] = []
    cursor = None
    while True:
        reply = _post(proc, route, {**body, **({"cursor": cursor} if cursor else {})})
        out += [row["sequence"] - 1 for row in reply["rows"]]
        cursor = reply["page"]["nextCursor"]
        if not reply["page"]["hasMore"]:
            return out


def test_tail_returns_the_newest_lines_first(shared_collector: CollectorProcess) -> None:
    """``limit`` N with the default order is the tail: the last N lines, newest first."""
    pid, rid = _run_with_lines(shared_collector)
    reply = _post(shared_collector, "/query/logs", {"projectId": pid, "runId": rid, "limit": 3})
    assert [row["sequence"] - 1 for row in reply["rows"]] == [11, 10, 9]
    assert reply["page"]["hasMore"] is True


def test_ascending_filtered_pages_cover_every_match_once(
        shared_collector: CollectorProcess) -> None:
    """minLevel and text combine with ascending keyset paging without gaps or repeats."""
    pid, rid = _run_with_lines(shared_collector)
    rows = _all_rows(shared_collector, "/query/logs", {
        "projectId": pid, "runId": rid, "limit": 2, "order": "asc", "minLevel": "warn",
        "text": "needle"})
    assert rows == [i for i in range(12) if i % 4 >= 2 and i % 2 == 0]


def test_query_logs_time_window(shared_collector: CollectorProcess) -> None:
    """query/logs keeps only lines with startMs <= timestampMs <= endMs."""
    pid, rid = _run_with_lines(shared_collector)
    rows = _all_rows(shared_collector, "/query/logs", {
        "projectId": pid, "runId": rid, "order": "asc", "startMs": 1003, "endMs": 1006})
    assert rows == [3, 4, 5, 6]


def test_export_logs_level_and_text(shared_collector: CollectorProcess) -> None:
    """export/logs applies minLevel and text inside its time window."""
    pid, rid = _run_with_lines(shared_collector)
    rows = _all_rows(shared_collector, "/export/logs", {
        "projectId": pid, "runId": rid, "startMs": 1000, "endMs": 1011, "limit": 2,
        "minLevel": "warn", "text": "needle"})
    assert rows == [2, 6, 10]
