"""Ingest routes against a real collector: bodies, duplicate steps, idempotency, auth per item."""

from __future__ import annotations

import orjson
import pytest

from tests.collector.control import V1, call, new_key, new_target, start_run
from tests.collector.dataplane import (ingest, point, post, project_id, run_id, series,
                                       steps_values)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import (database_rows,  # noqa: F401
                                          shared_collector_per_backend)


def test_rc1_points_body_is_stored_and_read_back(shared_collector: CollectorProcess) -> None:
    """An rc1 ``points`` body (gzip, as the SDK sends it) is stored and served by step."""
    pid, run = project_id(shared_collector), run_id()
    body = {"points": [point(pid, run, "train/loss", s, 1.0 / (s + 1)) for s in range(40)]}
    reply = ingest(shared_collector, "metrics", body, gzip_body=True)
    assert reply["accepted"] == 40 and reply["rejected"] == 0
    assert isinstance(reply["requestId"], str)
    entry = series(shared_collector, pid, run, ["train/loss"], maxPointsPerSeries=5)["train/loss"]
    assert steps_values(entry) == [(s, 1.0 / (s + 1)) for s in range(35, 40)]
    assert entry["points"][0]["timestampMs"] == 1_700_000_000_035


def test_wide_rows_body_is_stored_per_key(shared_collector: CollectorProcess) -> None:
    """A wide ``rows`` body addressed by workspace/project slugs stores every key's points."""
    run = run_id()
    rows = [[s, 1_000 + s, {"a": s * 0.5, "b": -s, "c": True}] for s in range(30)]
    body = {"workspace": shared_collector.workspace, "project": shared_collector.project,
            "runId": run, "rank": 2, "writerId": "w1", "seq": 1, "rows": rows}
    reply = ingest(shared_collector, "metrics", body, gzip_body=True)
    assert reply == {"accepted": 90, "rejected": 0, "requestId": reply["requestId"]}
    got = series(shared_collector, project_id(shared_collector), run, ["a", "b", "c"],
                 maxPointsPerSeries=100)
    assert steps_values(got["a"]) == [(s, s * 0.5) for s in range(30)]
    assert steps_values(got["b"]) == [(s, float(-s)) for s in range(30)]
    assert steps_values(got["c"]) == [(s, 1.0) for s in range(30)]


def test_rows_with_ragged_keys_and_nulls(shared_collector: CollectorProcess) -> None:
    """Rows with different key sets are stored; a null value is rejected and counted alone."""
    pid, run = project_id(shared_collector), run_id()
    rows = [[0, 1, {"x": 1.0}], [1, 2, {"x": None, "y": 2}], [2, 3, {"y": 3.5}]]
    reply = ingest(shared_collector, "metrics", {"projectId": pid, "runId": run, "rows": rows})
    assert (reply["accepted"], reply["rejected"]) == (3, 1)
    assert reply["errors"][0]["field"] == "rows[1][2].x"
    got = series(shared_collector, pid, run, ["x", "y"])
    assert steps_values(got["x"]) == [(0, 1.0)]
    assert steps_values(got["y"]) == [(1, 2.0), (2, 3.5)]


def test_rank_filter_reads_one_writer(shared_collector: CollectorProcess) -> None:
    """Points carry their batch's rank; ``rank`` in query/series narrows to that writer."""
    pid, run = project_id(shared_collector), run_id()
    for rank in (0, 1):
        body = {"projectId": pid, "runId": run, "rank": rank,
                "rows": [[s, s, {"m": float(rank * 100 + s)}] for s in range(3)]}
        ingest(shared_collector, "metrics", body)
    assert steps_values(series(shared_collector, pid, run, ["m"], rank=0)["m"]) == [
        (0, 0.0), (1, 1.0), (2, 2.0)]
    assert steps_values(series(shared_collector, pid, run, ["m"])["m"]) == [
        (0, 100.0), (1, 101.0), (2, 102.0)]


@pytest.mark.both_stores
def test_duplicate_steps_last_accepted_wins_across_restart(collector: CollectorProcess) -> None:
    """Last request wins, a later item in one request wins, and the rule survives a restart."""
    pid, run = project_id(collector), run_id()
    ingest(collector, "metrics", {"points": [point(pid, run, "k", s, 1.0) for s in range(5)]})
    ingest(collector, "metrics", {"points": [point(pid, run, "k", 2, 2.0, ts=1),
                                             point(pid, run, "k", 2, 3.0, ts=0)]})
    collector.stop()
    collector.start()
    ingest(collector, "metrics", {"projectId": pid, "runId": run,
                                  "rows": [[4, 5, {"k": 4.0}], [4, 6, {"k": 5.0}]]})
    entry = series(collector, pid, run, ["k"])["k"]
    assert steps_values(entry) == [(0, 1.0), (1, 1.0), (2, 3.0), (3, 1.0), (4, 5.0)]
    assert entry["supersededPoints"] == 4 and entry["totalPoints"] == 5


@pytest.mark.both_stores
def test_idempotency_key_repeat_stores_nothing(collector: CollectorProcess) -> None:
    """A repeated Idempotency-Key answers 200 duplicate with the first count, even after restart."""
    pid, run = project_id(collector), run_id()
    body = {"points": [point(pid, run, "k", s, float(s)) for s in range(10)]}
    headers = {"Idempotency-Key": "batch-7f3a"}
    first = ingest(collector, "metrics", body, headers=headers)
    assert first["accepted"] == 10
    again = ingest(collector, "metrics", body, expect=200, headers=headers)
    assert again["duplicate"] is True and again["accepted"] == 10
    collector.stop()
    collector.start()
    ingest(collector, "metrics", body, expect=200, headers=headers)
    entry = series(collector, pid, run, ["k"])["k"]
    assert entry["totalPoints"] == 10 and entry["supersededPoints"] == 0
    lines = {"lines": [_line(pid, run, 1, "hello")]}
    ingest(collector, "logs", lines, headers={"Idempotency-Key": "logs-1"})
    assert ingest(collector, "logs", lines, expect=200,
                  headers={"Idempotency-Key": "logs-1"})["duplicate"] is True


def test_mixed_projects_are_authorised_per_item(shared_collector: CollectorProcess) -> None:
    """Items in a project the key may not write are rejected one by one; none writable → 403."""
    own, other = new_target(shared_collector), new_target(shared_collector)
    key = new_key(shared_collector, own, ["metrics:write", "project:read"])["apiKey"]
    run = run_id()
    body = {"points": [point(own.project_id, run, "k", 0, 1.0),
                       point(other.project_id, run, "k", 1, 2.0),
                       point("prj_doesnotexist", run, "k", 2, 3.0),
                       point(own.project_id, run, "k", 3, 4.0)]}
    reply = ingest(shared_collector, "metrics", body, key=key)
    assert (reply["accepted"], reply["rejected"]) == (2, 2)
    assert [e["index"] for e in reply["errors"]] == [1, 2]
    assert steps_values(series(shared_collector, own.project_id, run, ["k"])["k"]) == [
        (0, 1.0), (3, 4.0)]
    only_other = {"points": [point(other.project_id, run, "k", 0, 1.0)]}
    status, _, payload = post(shared_collector, "ingest/metrics", only_other, key=key)
    assert status == 403 and payload["error"]["code"] == "FORBIDDEN"


def test_scope_is_checked_per_route(shared_collector: CollectorProcess) -> None:
    """A metrics-only key may ingest metrics but its log lines are all refused (403)."""
    target = new_target(shared_collector)
    key = new_key(shared_collector, target, ["metrics:write"])["apiKey"]
    run = run_id()
    ingest(shared_collector, "metrics", {"points": [point(target.project_id, run, "k", 0, 1)]},
           key=key)
    status, _, _ = post(shared_collector, "ingest/logs",
                        {"lines": [_line(target.project_id, run, 1, "x")]}, key=key)
    assert status == 403


def test_non_finite_and_bad_items_are_rejected_per_item(shared_collector: CollectorProcess
                                                        ) -> None:
    """1e999, null, negative or fractional steps and empty keys are counted, the rest stored."""
    pid, run = project_id(shared_collector), run_id()
    good = orjson.dumps(point(pid, run, "k", 0, 1.5))
    bad = [b'{"projectId":"%s","runId":"%s","metricKey":"k","step":1,"timestampMs":1,'
           b'"value":%s}' % (pid.encode(), run.encode(), v) for v in (b"1e999", b"-1e999",
                                                                     b"null")]
    others = [orjson.dumps(p) for p in (point(pid, run, "k", -1, 1.0),
                                        point(pid, run, "k", 2.5, 1.0, ts=5),
                                        point(pid, run, "", 3, 1.0),
                                        point(pid, "a/b", "k", 3, 1.0))]
    raw = b'{"points":[' + b",".join([good, *bad, *others]) + b"]}"
    status, _, reply = post(shared_collector, "ingest/metrics", None, raw=raw,
                            headers={"content-type": "application/json"})
    assert status == 202, reply
    assert (reply["accepted"], reply["rejected"]) == (1, 7)
    assert [e["field"] for e in reply["errors"]] == [
        "points[1].value", "points[2].value", "points[3].value", "points[4].step",
        "points[5].step", "points[6].metricKey", "points[7].runId"]
    assert steps_values(series(shared_collector, pid, run, ["k"])["k"]) == [(0, 1.5)]


def test_unknown_and_terminal_runs_accept_data(shared_collector: CollectorProcess) -> None:
    """Points for a run never started, and for a finished run, are stored and readable."""
    pid, unknown = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [point(pid, unknown, "k", 0, 1.0)]})
    assert steps_values(series(shared_collector, pid, unknown, ["k"])["k"]) == [(0, 1.0)]
    target = new_target(shared_collector)
    status, started = start_run(shared_collector, target)
    assert status == 201, started
    run = started["runId"]
    status, _ = call(shared_collector, "POST", f"{V1}/runs/{run}/status", {"status": "completed"})
    assert status == 200
    ingest(shared_collector, "metrics", {"points": [point(target.project_id, run, "k", 7, 2.0)]})
    assert steps_values(series(shared_collector, target.project_id, run, ["k"])["k"]) == [(7, 2.0)]


def test_latest_client_diagnostics_snapshot_is_kept(shared_collector: CollectorProcess) -> None:
    """The newest clientDiagnostics (by capturedAtMs) is kept per run; an older one never wins."""
    pid, run = project_id(shared_collector), run_id()
    for captured, dropped in ((200, 5), (100, 9), (300, 7)):
        ingest(shared_collector, "metrics", {
            "points": [point(pid, run, "k", captured, 1.0)],
            "clientDiagnostics": {"capturedAtMs": captured, "droppedPoints": dropped}})
    rows = database_rows(shared_collector, "SELECT captured_at_ms, payload_json FROM"
                         f" client_diagnostics WHERE run_id = '{run}'")  # run: a safe uuid
    assert len(rows) == 1 and rows[0][0] == 300
    assert orjson.loads(rows[0][1])["droppedPoints"] == 7


@pytest.mark.parametrize("snapshot", [b"[1, 2]", b'"text"', b'{"queueDepth": 1e999}',
                                      b'{"huge": 123456789012345678901234567890}'])
def test_odd_client_diagnostics_never_fail_ingest(shared_collector: CollectorProcess,
                                                   snapshot: bytes) -> None:
    """A clientDiagnostics value that is not a plain JSON object is ignored, the points kept."""
    pid, run = project_id(shared_collector), run_id()
    raw = (b'{"points": [' + orjson.dumps(point(pid, run, "k", 0, 1.0))
           + b'], "clientDiagnostics": ' + snapshot + b"}")
    status, _, reply = post(shared_collector, "ingest/metrics", None, raw=raw,
                            headers={"content-type": "application/json"})
    assert status == 202 and reply["accepted"] == 1, reply


def _line(pid: str, run: str, seq: int, message: str, level: str = "info",
          ts: int = 1_700_000_000_000) -> dict[str, object]:
    return {"projectId": pid, "runId": run, "timestampMs": ts, "sequence": seq,
            "level": level, "message": message, "truncated": False}


def test_logs_are_deduplicated_on_resend(shared_collector: CollectorProcess) -> None:
    """Re-sent lines are stored once; same timestamp and sequence with another message is kept."""
    pid, run = project_id(shared_collector), run_id()
    lines = [_line(pid, run, i, f"line {i}") for i in range(1, 6)]
    assert ingest(shared_collector, "logs", {"lines": lines}, gzip_body=True)["accepted"] == 5
    ingest(shared_collector, "logs", {"lines": [*lines, _line(pid, run, 1, "other")]})
    status, _, page = post(shared_collector, "query/logs",
                           {"projectId": pid, "runId": run, "limit": 100})
    assert status == 200
    assert sorted(r["message"] for r in page["rows"]) == [
        "line 1", "line 2", "line 3", "line 4", "line 5", "other"]


def test_identical_lines_of_different_writers_are_all_kept(shared_collector: CollectorProcess) -> None:
    """#13.20: a line's identity includes its writer (body ``writerId``, ``rank``): two writers'
    identical lines (same timestamp, per-writer sequence, message) are both stored; one
    writer's re-send and writer-less (rc1) re-sends are still stored once."""
    pid, run = project_id(shared_collector), run_id()
    lines = [{k: v for k, v in _line(pid, run, i, "same").items() if k not in ("projectId", "runId")}
             for i in (1, 2)]
    bodies = [{"projectId": pid, "runId": run, "writerId": "w_a", "lines": lines},
              {"projectId": pid, "runId": run, "writerId": "w_b", "lines": lines},
              {"projectId": pid, "runId": run, "writerId": "w_a", "rank": 1, "lines": lines},
              {"projectId": pid, "runId": run, "writerId": "w_a", "lines": lines},  # re-send
              {"lines": [_line(pid, run, 1, "same")]},  # rc1 shape, twice
              {"lines": [_line(pid, run, 1, "same")]}]
    for body in bodies:
        ingest(shared_collector, "logs", body)
    status, _, page = post(shared_collector, "query/logs",
                           {"projectId": pid, "runId": run, "limit": 100})
    assert status == 200 and len(page["rows"]) == 7, page


def test_bad_log_lines_are_rejected_per_item(shared_collector: CollectorProcess) -> None:
    """A negative timestamp rejects that line only (an unknown level is a 400 for the whole
    request: test_ingest_rejects.py)."""
    pid, run = project_id(shared_collector), run_id()
    lines = [_line(pid, run, 1, "ok"), _line(pid, run, 3, "y", ts=-5)]
    reply = ingest(shared_collector, "logs", {"lines": lines})
    assert (reply["accepted"], reply["rejected"]) == (1, 1)
    assert [e["field"] for e in reply["errors"]] == ["lines[1].timestampMs"]


def _span(pid: str, run: str, span_id: str, name: str) -> dict[str, object]:
    return {"projectId": pid, "runId": run, "traceId": "ab" * 16, "spanId": span_id,
            "parentSpanId": None, "name": name, "kind": "tool", "startNs": "1700000000000000001",
            "endNs": "1700000000000000999", "status": "ok", "attrsJson": '{"tool.name":"grep"}',
            "events": [{"name": "e", "timestampNs": "1700000000000000005", "attrsJson": "{}"}],
            "model": None, "genAiSystem": None, "tokensIn": None, "tokensOut": None,
            "costUsd": None}


def test_spans_are_stored_fully_and_deduplicated(shared_collector: CollectorProcess) -> None:
    """Spans keep every field; a re-sent (run, traceId, spanId) is stored once."""
    pid, run = project_id(shared_collector), run_id()
    spans = [_span(pid, run, "0000000000000002", "first"),
             _span(pid, run, "0000000000000003", "second")]
    assert ingest(shared_collector, "traces", {"spans": spans}, gzip_body=True)["accepted"] == 2
    ingest(shared_collector, "traces", {"spans": spans[:1]})
    rows = database_rows(shared_collector, "SELECT span_id, name, kind, start_ns, end_ns,"
                         " attrs_json, events_json FROM spans"
                         f" WHERE run_id = '{run}' ORDER BY span_id")  # run: a safe uuid
    assert [r[:5] for r in rows] == [
        ("0000000000000002", "first", "tool", 1700000000000000001, 1700000000000000999),
        ("0000000000000003", "second", "tool", 1700000000000000001, 1700000000000000999)]
    assert orjson.loads(rows[0][6])[0]["timestampNs"] == "1700000000000000005"


def test_log_and_span_items_inherit_the_body_target(shared_collector: CollectorProcess) -> None:
    """Items without projectId/runId take the body's (slugs resolved once); an item with no run
    id anywhere is rejected alone (docs/protocol.md §4.7)."""
    pid, run = project_id(shared_collector), run_id()
    slugs = {"workspace": shared_collector.workspace, "project": shared_collector.project}
    lines = [{k: v for k, v in _line(pid, run, i, f"l{i}").items()
              if k not in ("projectId", "runId")} for i in (1, 2)]
    reply = ingest(shared_collector, "logs", {**slugs, "runId": run, "writerId": "w", "seq": 1,
                                              "lines": lines}, gzip_body=True)
    assert (reply["accepted"], reply["rejected"]) == (2, 0)
    span = {k: v for k, v in _span(pid, run, "00000000000000aa", "s").items()
            if k not in ("projectId", "runId")}
    assert ingest(shared_collector, "traces", {**slugs, "runId": run, "spans": [span]})[
        "accepted"] == 1
    reply = ingest(shared_collector, "logs", {"projectId": pid, "lines": lines})
    assert reply["rejected"] == 2 and reply["errors"][0]["field"] == "lines[0].runId"
    status, _, page = post(shared_collector, "query/logs",
                           {"projectId": pid, "runId": run, "order": "asc"})
    assert status == 200 and [r["message"] for r in page["rows"]] == ["l1", "l2"]
    status, _, page = post(shared_collector, "query/spans", {"projectId": pid, "runId": run})
    assert status == 200 and [s["name"] for s in page["spans"]] == ["s"]
