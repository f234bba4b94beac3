"""``POST /api/v1/query/spans``: the run's span tree, linked by (runId, parentSpanId)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


def _post(proc: CollectorProcess, path: str, body: Any, key: str | None = "admin"
          ) -> tuple[int, Any]:
    api_key = proc.api_key if key == "admin" else key
    status, _, payload = request("POST", proc.url + "/api/v1" + path, body, api_key=api_key)
    return status, payload


def _start(proc: CollectorProcess) -> tuple[str, str]:
    status, run = _post(proc, "/runs/start", {"projectId": proc.project, "kind": "agent",
                                              "resume": "never",
                                              "client": {"name": "t", "version": "0"}})
    assert status == 201, run
    return run["projectId"], run["runId"]


def _span(pid: str, rid: str, trace: str, span: str, parent: str | None, name: str,
          start: int, end: int | None, kind: str = "internal") -> dict[str, Any]:
    return {"projectId": pid, "runId": rid, "traceId": trace * 32, "spanId": span,
            "parentSpanId": parent, "name": name, "kind": kind, "startNs": str(start),
            "endNs": None if end is None else str(end), "status": "ok",
            "attrsJson": '{"k": 1}', "events": [{"name": "e", "timestampNs": str(start),
                                                  "attrsJson": "{}"}]}


def _ingest(proc: CollectorProcess, spans: list[dict[str, Any]]) -> None:
    status, reply = _post(proc, "/ingest/traces", {"spans": spans})
    assert status == 202 and reply["accepted"] == len(spans), reply


def _query(proc: CollectorProcess, pid: str, rid: str, **extra: Any) -> dict[str, Any]:
    status, reply = _post(proc, "/query/spans", {"projectId": pid, "runId": rid, **extra})
    assert status == 200, reply
    return dict(reply)


def _shape(node: dict[str, Any]) -> Any:
    """(name, [children shapes]) of a span tree."""
    return node["name"], [_shape(child) for child in node["children"]]


def test_nested_spans_with_different_trace_ids_form_a_tree(
        shared_collector: CollectorProcess) -> None:
    """Children link by parentSpanId across trace ids; repeated span ids from a second process
    attach to the span that was open; a missing parent makes a root."""
    pid, rid = _start(shared_collector)
    first = "0000000000000002"
    _ingest(shared_collector, [
        _span(pid, rid, "b", "0000000000000003", first, "plan", 110, 200),
        _span(pid, rid, "a", first, None, "agent", 100, 500),
        _span(pid, rid, "c", "0000000000000004", "0000000000000003", "llm", 120, 150),
        _span(pid, rid, "d", "0000000000000005", first, "tool:search", 300, 310, "tool"),
        _span(pid, rid, "e", "0000000000000009", "00000000000000ff", "orphan", 150, 160),
        _span(pid, rid, "f", first, None, "agent (resumed)", 1_000, 2_000),
        _span(pid, rid, "9", "0000000000000003", first, "plan (resumed)", 1_100, 1_200)])
    reply = _query(shared_collector, pid, rid)
    assert [_shape(root) for root in reply["spans"]] == [
        ("agent", [("plan", [("llm", [])]), ("tool:search", [])]),
        ("orphan", []),
        ("agent (resumed)", [("plan (resumed)", [])])]
    root = reply["spans"][0]
    assert root["traceId"] == "a" * 32 and root["children"][0]["traceId"] == "b" * 32
    assert root["startNs"] == "100" and root["endNs"] == "500"
    assert root["events"][0]["name"] == "e" and root["attrsJson"] == '{"k": 1}'
    assert reply["spanCount"] == 7 and reply["truncated"] is False
    assert reply["page"] == {"hasMore": False, "nextCursor": None}


def test_roots_are_paged_with_a_cursor(shared_collector: CollectorProcess) -> None:
    """``limit`` counts roots; the cursor continues after the last root shown."""
    pid, rid = _start(shared_collector)
    _ingest(shared_collector, [_span(pid, rid, str(i), f"{i:016x}", None, f"root{i}",
                                     1000 * i, 1000 * i + 1) for i in range(1, 6)])
    names: list[str] = []
    cursor = None
    while True:
        reply = _query(shared_collector, pid, rid, limit=2,
                       **({"cursor": cursor} if cursor else {}))
        names += [span["name"] for span in reply["spans"]]
        cursor = reply["page"]["nextCursor"]
        if not reply["page"]["hasMore"]:
            break
    assert names == [f"root{i}" for i in range(1, 6)]


def test_very_deep_nesting_is_flattened_not_an_error(shared_collector: CollectorProcess) -> None:
    """A 150-level chain answers 200; the spans below level 100 (the documented depth) are
    flattened into the span at level 100, keep their parentSpanId and carry "flattened"."""
    pid, rid = _start(shared_collector)
    _ingest(shared_collector, [_span(pid, rid, "a", f"{i + 1:016x}", f"{i:016x}" if i else None,
                                     f"s{i}", i, 10_000 - i) for i in range(150)])
    reply = _query(shared_collector, pid, rid)
    path, node = [], reply["spans"][0]
    while node["children"] and not node["children"][0].get("flattened"):
        path.append(node["name"])
        assert len(node["children"]) == 1 and "flattened" not in node
        node = node["children"][0]
    assert path + [node["name"]] == [f"s{i}" for i in range(100)]  # node is at level 100
    flat = node["children"]
    assert [child["name"] for child in flat] == [f"s{i}" for i in range(100, 150)]
    assert all(child["flattened"] is True and child["children"] == [] for child in flat)
    assert [child["parentSpanId"] for child in flat] == [f"{i:016x}" for i in range(100, 150)]
    assert reply["spanCount"] == 150


def test_cycles_from_repeated_span_ids_do_not_hang(shared_collector: CollectorProcess) -> None:
    """Two spans naming each other as parent still come back, one of them as a root."""
    pid, rid = _start(shared_collector)
    _ingest(shared_collector, [_span(pid, rid, "a", "01", "02", "x", 10, 20),
                               _span(pid, rid, "b", "02", "01", "y", 10, 20)])
    reply = _query(shared_collector, pid, rid)
    assert len(reply["spans"]) == 1 and len(reply["spans"][0]["children"]) == 1


@pytest.mark.parametrize(("body", "expected", "code", "field"), [
    ({"runId": "run-without-spans-or-row"}, 404, "NOT_FOUND", None),
    ({"projectId": "no-such-project"}, 404, "NOT_FOUND", None),
    ({"cursor": "garbage"}, 400, "INVALID_REQUEST", "cursor"),
    ({"limit": 0}, 400, "INVALID_REQUEST", "limit"),
    ({"runId": 5}, 400, "INVALID_REQUEST", "runId")])
def test_span_query_errors(shared_collector: CollectorProcess, body: dict[str, Any],
                           expected: int, code: str, field: str | None) -> None:
    """Unknown runs/projects are 404; bad fields are 400 naming the field."""
    pid, rid = _start(shared_collector)
    status, reply = _post(shared_collector, "/query/spans",
                          {"projectId": pid, "runId": rid, **body})
    assert status == expected and reply["error"]["code"] == code, reply
    assert reply["error"]["details"].get("field") == field


def test_span_query_needs_project_read(shared_collector: CollectorProcess) -> None:
    """A write-only key gets 403."""
    proc = shared_collector
    pid, rid = _start(proc)
    status, created = _post(proc, f"/workspaces/{proc.workspace}/projects/{proc.project}"
                            "/api-keys", {"scopes": ["traces:write"]})
    assert status == 201, created
    status, reply = _post(proc, "/query/spans", {"projectId": pid, "runId": rid},
                          key=created["apiKey"])
    assert status == 403 and reply["error"]["code"] == "FORBIDDEN"
