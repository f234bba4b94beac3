"""Rejected items leave no trace, and rejections name the item as sent (issue 14)."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from tests.collector.control import V1, call
from tests.collector.dataplane import post, project_id, run_id
from tests.helpers.collector_proc import CollectorProcess


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
