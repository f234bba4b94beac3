"""NUL (U+0000) in the text of an ingest item or a run request, on both store backends.

PostgreSQL text cannot hold NUL: a span or log line carrying one made a PostgreSQL collector
answer 400 for the whole request (every good item of the batch lost), while SQLite stored it.
Now such an item is rejected alone at ingest, alike on both backends; a run request naming one
in a plain-text field is a 400 naming that field on both; a project or run reference holding
one names nothing (404) on both. A NUL escaped as ``\\u0000`` inside JSON text is kept.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.control import V1, assert_error, call
from tests.collector.dataplane import ingest, point, post, project_id, run_id, series, steps_values
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

NUL = "a\x00b"
ESCAPED_ATTRS = '{"k": "a\\u0000b", "b\\u0000": 1}'  # JSON text whose strings hold NUL
EVENT = {"name": "e", "timestampNs": "1500"}
BAD_SPANS: dict[str, dict[str, Any]] = {
    "name": {"name": NUL}, "traceId": {"traceId": NUL}, "spanId": {"spanId": NUL},
    "parentSpanId": {"parentSpanId": NUL}, "attrsJson": {"attrsJson": '{"k": "a\x00"}'},
    "model": {"model": NUL}, "genAiSystem": {"genAiSystem": NUL}, "tokensIn": {"tokensIn": NUL},
    "tokensOut": {"tokensOut": NUL}, "events[0].name": {"events": [{**EVENT, "name": NUL}]},
    "events[1].attrsJson": {"events": [EVENT, {**EVENT, "attrsJson": NUL}]},
}


def _span(pid: str, run: str, span_id: str, **fields: Any) -> dict[str, Any]:
    return {"projectId": pid, "runId": run, "traceId": "t" * 32, "spanId": span_id,
            "name": f"span {span_id}", "startNs": "1000", "endNs": "2000", **fields}


def _line(pid: str, run: str, sequence: int, **fields: Any) -> dict[str, Any]:
    return {"projectId": pid, "runId": run, "timestampMs": 1_700_000_000_000,
            "sequence": sequence, "level": "info", "message": f"line {sequence}", **fields}


def _stored_spans(proc: CollectorProcess, pid: str, run: str) -> dict[str, dict[str, Any]]:
    status, _, page = post(proc, "query/spans", {"projectId": pid, "runId": run})
    assert status == 200, page
    return {span["spanId"]: span for span in page["spans"]}


def _stored_lines(proc: CollectorProcess, pid: str, run: str) -> list[str]:
    status, _, page = post(proc, "query/logs", {"projectId": pid, "runId": run, "order": "asc"})
    assert status == 200, page
    return [row["message"] for row in page["rows"]]


@pytest.mark.parametrize("field", list(BAD_SPANS))
def test_a_span_with_nul_in_a_text_field_is_rejected_alone(shared_collector: CollectorProcess,
                                                           field: str) -> None:
    """One span with NUL in ``field`` among good ones: 202, that span rejected and named, the
    good ones stored and readable (one with NUL escaped inside its attrsJson, read back as
    sent)."""
    pid, run = project_id(shared_collector), run_id()
    spans = [_span(pid, run, "good1"), _span(pid, run, "bad", **BAD_SPANS[field]),
             _span(pid, run, "good2", attrsJson=ESCAPED_ATTRS), _span(pid, run, "good3")]
    reply = ingest(shared_collector, "traces", {"spans": spans})
    assert (reply["accepted"], reply["rejected"]) == (3, 1), reply
    assert reply["errors"][0]["field"] == f"spans[1].{field}"
    assert "NUL" in reply["errors"][0]["message"]
    stored = _stored_spans(shared_collector, pid, run)
    assert sorted(stored) == ["good1", "good2", "good3"]
    assert stored["good2"]["attrsJson"] == ESCAPED_ATTRS


@pytest.mark.parametrize("field", ["message", "writerId"])
def test_a_log_line_with_nul_is_rejected_alone(shared_collector: CollectorProcess,
                                               field: str) -> None:
    """One log line with NUL in its message or writer among good ones is rejected alone."""
    pid, run = project_id(shared_collector), run_id()
    lines = [_line(pid, run, 0), _line(pid, run, 1, **{field: NUL}), _line(pid, run, 2)]
    reply = ingest(shared_collector, "logs", {"lines": lines})
    assert (reply["accepted"], reply["rejected"]) == (2, 1), reply
    assert reply["errors"][0]["field"] == f"lines[1].{field}"
    assert _stored_lines(shared_collector, pid, run) == ["line 0", "line 2"]


def test_items_naming_a_project_with_nul_are_rejected_alone(
        shared_collector: CollectorProcess) -> None:
    """A metric point, log line or span whose projectId holds NUL names no project: it is
    rejected alone (as any unknown project), and the rest of its batch is stored."""
    pid, run = project_id(shared_collector), run_id()
    reply = ingest(shared_collector, "metrics", {"points": [
        point(pid, run, "loss", 0, 1.0), point(NUL, run, "loss", 1, 2.0)]})
    assert (reply["accepted"], reply["rejected"]) == (1, 1)
    assert reply["errors"][0]["field"] == "points[1].projectId"
    reply = ingest(shared_collector, "logs", {"lines": [_line(NUL, run, 0), _line(pid, run, 1)]})
    assert (reply["accepted"], reply["errors"][0]["field"]) == (1, "lines[0].projectId")
    reply = ingest(shared_collector, "traces", {"spans": [_span(pid, run, "s1"),
                                                          _span(NUL, run, "s2")]})
    assert (reply["accepted"], reply["errors"][0]["field"]) == (1, "spans[1].projectId")
    assert steps_values(series(shared_collector, pid, run, ["loss"])["loss"]) == [(0, 1.0)]
    assert _stored_lines(shared_collector, pid, run) == ["line 1"]
    assert list(_stored_spans(shared_collector, pid, run)) == ["s1"]


@pytest.mark.parametrize("field", ["runName", "group", "jobType"])
def test_a_run_start_with_nul_in_a_text_field_is_a_400_naming_it(
        shared_collector: CollectorProcess, field: str) -> None:
    """The start request is the item: 400 with details.field on both backends (SQLite used
    to store the run); nothing is created."""
    pid, run = project_id(shared_collector), run_id()
    status, reply = call(shared_collector, "POST", f"{V1}/runs/start",
                         {"projectId": pid, "runId": run, field: NUL})
    assert_error(status, reply, 400, "INVALID_REQUEST", field)
    status, reply = call(shared_collector, "POST", f"{V1}/runs/{run}/heartbeat", {})
    assert_error(status, reply, 404, "NOT_FOUND")


def test_run_finish_and_edit_with_nul_are_a_400_naming_the_field(
        shared_collector: CollectorProcess) -> None:
    """A finish reason, an edited run name or notes holding NUL: 400 naming the field, the
    run unchanged; config, whose JSON text keeps NUL escaped, is stored alike."""
    pid, run = project_id(shared_collector), run_id()
    status, reply = call(shared_collector, "POST", f"{V1}/runs/start",
                         {"projectId": pid, "runId": run, "config": {"k": NUL}})
    assert status == 201 and reply["config"] == {"k": NUL}, reply
    status, reply = call(shared_collector, "POST", f"{V1}/runs/{run}/status",
                         {"status": "completed", "reason": NUL})
    assert_error(status, reply, 400, "INVALID_REQUEST", "reason")
    path = (f"{V1}/workspaces/{shared_collector.workspace}/projects/"
            f"{shared_collector.project}/runs/{run}")
    for field in ("runName", "notes"):
        status, reply = call(shared_collector, "PATCH", path, {field: NUL})
        assert_error(status, reply, 400, "INVALID_REQUEST", field)
    status, reply = call(shared_collector, "GET", path)
    assert status == 200 and (reply["status"], reply["runName"]) == ("running", None), reply


def test_references_holding_nul_name_nothing(shared_collector: CollectorProcess) -> None:
    """A project (id or slugs) or a run id in the path holding NUL is a 404 on both backends
    (PostgreSQL used to answer 400 without a field)."""
    status, reply = call(shared_collector, "POST", f"{V1}/runs/start", {"projectId": NUL})
    assert_error(status, reply, 404, "NOT_FOUND")
    status, reply = call(shared_collector, "POST", f"{V1}/runs/start",
                         {"workspace": NUL, "project": "p"})
    assert_error(status, reply, 404, "NOT_FOUND")
    status, reply = call(shared_collector, "POST", f"{V1}/runs/a%00b/status",
                         {"status": "completed"})
    assert_error(status, reply, 404, "NOT_FOUND")
