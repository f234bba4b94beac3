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


@pytest.mark.parametrize("bad", ["1e999", "null"])  # the float-matrix path, the row-by-row path
def test_wide_row_errors_name_the_row_as_sent(shared_collector: CollectorProcess,
                                              bad: str) -> None:
    """After rows rejected for their step and timestamp, a bad value's error names its own
    position in ``rows``: ``rows[3]``, not ``rows[1]``."""
    rows = ('[[0, 1, {"x": 1.0}], [-1, 1, {"x": 1.0}], [1, -1, {"x": 1.0}],'
            f' [2, 1, {{"x": {bad}}}], [3, 1, {{"x": 2.0}}]]')
    status, _, reply = post(shared_collector, "ingest/metrics", None,
                            raw=_raw_rows(project_id(shared_collector), run_id(), rows),
                            headers={"content-type": "application/json"})
    assert status == 202 and reply["accepted"] == 2, reply
    assert [(e["index"], e["field"]) for e in reply["errors"]] == [
        (1, "rows[1]"), (2, "rows[2]"), (3, "rows[3][2].x")], reply


@pytest.mark.parametrize(("values", "field"), [
    ([[1, 2]], "points[0].value"), ([1.0, [1, 2]], "points[1].value"),
    ([[1.0], [2.0]], "points[0].value"), ([2.0, [1, [2]]], "points[1].value"),
    ([{"a": 1}], "points[0].value")])
def test_array_valued_point_is_400_naming_it(shared_collector: CollectorProcess,
                                             values: list[Any], field: str) -> None:
    """An array (or object) metric value is a 400 naming the value, never a 500."""
    pid, run = project_id(shared_collector), run_id()
    body = {"points": [point(pid, run, "k", s, v) for s, v in enumerate(values)]}
    status, _, reply = post(shared_collector, "ingest/metrics", body)
    assert status == 400 and reply["error"]["details"]["field"] == field, reply


@pytest.mark.parametrize(("rows", "field"), [
    ([[0, 1, {"x": [1, 2]}]], "rows[0][2].x"),
    ([[0, 1, {"x": [1, 2]}], [1, 1, {"x": [3, 4]}]], "rows[0][2].x"),
    ([[0, 1, {"x": 1.0}], [1, 1, {"x": [3, 4]}]], "rows[1][2].x"),
    ([[0, 1, {"x": [1]}], [1, 1, {"x": [3, [4]]}]], "rows[0][2].x")])
def test_array_valued_row_value_is_400_naming_it(shared_collector: CollectorProcess,
                                                 rows: list[Any], field: str) -> None:
    """The same for wide rows, on the uniform and the ragged paths."""
    body = {"projectId": project_id(shared_collector), "runId": run_id(), "rows": rows}
    status, _, reply = post(shared_collector, "ingest/metrics", body)
    assert status == 400 and reply["error"]["details"]["field"] == field, reply


MISSING = [("ingest/metrics", {}, "points"), ("ingest/metrics", {"points": None}, "points"),
           ("ingest/metrics", {"runId": "r", "rank": 0}, "points"),
           ("ingest/logs", {"runId": "r"}, "lines"), ("ingest/logs", {"lines": None}, "lines"),
           ("ingest/traces", {"runId": "r"}, "spans"), ("ingest/media", {"runId": "r"}, "items")]


@pytest.mark.parametrize(("route", "body", "field"), MISSING)
def test_body_without_its_items_is_400_naming_the_field(shared_collector: CollectorProcess,
                                                        route: str, body: dict[str, Any],
                                                        field: str) -> None:
    """A body with no item list at all is a 400 naming it, never a 202 ``accepted: 0``."""
    status, _, reply = post(shared_collector, route,
                            {"projectId": project_id(shared_collector), **body})
    assert status == 400 and reply["error"]["code"] == "INVALID_REQUEST", reply
    assert reply["error"]["details"]["field"] == field, reply


@pytest.mark.parametrize(("path", "field"), [("status", "status"), ("config", "config")])
def test_run_write_without_its_field_is_400(shared_collector: CollectorProcess, path: str,
                                            field: str) -> None:
    """The run status and config routes name their missing required field."""
    run = call(shared_collector, "POST", f"{V1}/runs/start",
               {"projectId": project_id(shared_collector), "kind": "training",
                "resume": "never"})[1]["runId"]
    status, reply = call(shared_collector, "POST", f"{V1}/runs/{run}/{path}", {})
    assert status == 400 and reply["error"]["details"]["field"] == field, reply


def _span(**fields: Any) -> dict[str, Any]:
    return {"traceId": "c" * 32, "spanId": uuid.uuid4().hex[:16], "name": "s", "startNs": "1",
            **fields}


def _line(**fields: Any) -> dict[str, Any]:
    return {"timestampMs": 1, "sequence": 0, "level": "info", "message": "m", **fields}


@pytest.mark.parametrize(("route", "items", "field"), [
    ("ingest/traces", {"spans": [_span(), _span(kind="sideways")]}, "spans[1].kind"),
    ("ingest/traces", {"spans": [_span(kind="Internal")]}, "spans[0].kind"),
    ("ingest/traces", {"spans": [_span(status="fine")]}, "spans[0].status"),
    ("ingest/logs", {"lines": [_line(), _line(sequence=1, level="warning")]}, "lines[1].level"),
])
def test_value_outside_a_documented_enum_is_400(shared_collector: CollectorProcess, route: str,
                                                items: dict[str, Any], field: str) -> None:
    """Span kind and status and log level outside their documented values: 400 naming the
    field, and nothing of the request is stored."""
    pid, run = project_id(shared_collector), run_id()
    status, _, reply = post(shared_collector, route, {"projectId": pid, "runId": run, **items})
    assert status == 400 and reply["error"]["details"]["field"] == field, reply
    status, _, _ = post(shared_collector, "query/logs", {"projectId": pid, "runId": run})
    assert status == 404


@pytest.mark.parametrize("kind", ["internal", "server", "client", "producer", "consumer", "tool"])
def test_every_documented_span_kind_is_accepted(shared_collector: CollectorProcess,
                                                kind: str) -> None:
    body = {"projectId": project_id(shared_collector), "runId": run_id(),
            "spans": [_span(kind=kind, status=status) for status in ("unset", "ok", "error")]}
    status, _, reply = post(shared_collector, "ingest/traces", body)
    assert status == 202 and reply["accepted"] == 3, reply
