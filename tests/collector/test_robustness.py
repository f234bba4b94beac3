"""Bad input that used to answer 500: deep nesting and integers past int64 (issue 14).

Every test talks HTTP to a real collector process; every answer must be the protocol's 4xx
envelope (or a 2xx with the bad part dropped), never a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest

from tests.collector.control import V1, assert_error
from tests.collector.dataplane import ingest, point, post, project_id, run_id
from tests.collector.routes import valid_requests
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request


def _routes(proc: CollectorProcess) -> list[tuple[str, str, Any]]:
    return valid_requests(project_id(proc), run_id(), proc.workspace, proc.project)


def _send(proc: CollectorProcess, method: str, path: str, raw: bytes | None
          ) -> tuple[int, Any]:
    status, _, payload = request(method, proc.url + path, api_key=proc.api_key, raw=raw,
                                 headers={"content-type": "application/json"})
    return status, payload


@pytest.mark.parametrize("depth", [65, 2_000, 200_000])
def test_deeply_nested_bodies_are_400_on_every_route(shared_collector: CollectorProcess,
                                                     depth: int) -> None:
    """Nesting past the 64-level bound, at the top level or inside a free-form field, is a
    400 on every JSON route (was a RecursionError and a 500)."""
    nested = b"[" * depth + b"]" * depth
    for method, path, body in _routes(shared_collector):
        if body is None:
            continue
        for raw in (nested, orjson.dumps({**body, "extra": 0}).replace(b"0}", nested + b"}")):
            status, payload = _send(shared_collector, method, path, raw)
            assert_error(status, payload, 400, "INVALID_REQUEST")


def test_nesting_within_the_bound_is_accepted(shared_collector: CollectorProcess) -> None:
    """A free-form value 60 levels deep is still accepted (runs/start ``client``)."""
    pid, run = project_id(shared_collector), run_id()
    client: Any = "leaf"
    for _ in range(60):
        client = {"n": client}
    status, payload = _send(shared_collector, "POST", f"{V1}/runs/start", orjson.dumps(
        {"projectId": pid, "runId": run, "client": client}))
    assert status == 201, payload


BIG = 2**63
HUGE = 2**64 + 1


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _known_run(proc: CollectorProcess) -> tuple[str, str]:
    """A run of the bootstrap project with one point and one log line stored."""
    pid, run = project_id(proc), run_id()
    ingest(proc, "metrics", {"points": [point(pid, run, "k", 1, 1.0)]})
    ingest(proc, "logs", {"projectId": pid, "runId": run, "lines": [
        {"timestampMs": 1, "sequence": 1, "level": "info", "message": "m"}]})
    return pid, run


@pytest.mark.parametrize("value", [BIG, HUGE, -1, "soon", 1.5])
@pytest.mark.parametrize("kind", ["metrics", "logs", "rows"])
def test_bad_diagnostics_timestamp_never_fails_the_batch(shared_collector: CollectorProcess,
                                                         kind: str, value: Any) -> None:
    """``clientDiagnostics.capturedAtMs`` past int64 (or not an int) is replaced by the server
    time; the batch is stored (was OverflowError, 500 and a lost batch)."""
    pid, run = project_id(shared_collector), run_id()
    diagnostics = {"capturedAtMs": value, "queueDepth": 3}
    body = {"metrics": {"points": [point(pid, run, "k", 1, 1.0)]},
            "rows": {"projectId": pid, "runId": run, "rows": [[1, 1, {"k": 1.0}]]},
            "logs": {"projectId": pid, "runId": run, "lines": [
                {"timestampMs": 1, "sequence": 1, "level": "info", "message": "m"}]}}[kind]
    reply = ingest(shared_collector, "logs" if kind == "logs" else "metrics",
                   {**body, "clientDiagnostics": diagnostics})
    assert reply["accepted"] == 1 and reply["rejected"] == 0


@pytest.mark.parametrize("start_ns", [str(BIG), "9" * 19, str(HUGE)])
def test_span_nanoseconds_past_int64_reject_only_that_span(shared_collector: CollectorProcess,
                                                           start_ns: str) -> None:
    """A ``startNs``/``endNs`` above 2^63−1 rejects its span alone (was a 500); 19 digits within
    int64 are stored."""
    pid, run = project_id(shared_collector), run_id()
    good = {"traceId": "t", "spanId": "ok", "name": "n", "startNs": "9223372036854775807"}
    bad = {"traceId": "t", "spanId": "bad", "name": "n", "startNs": start_ns}
    late = {**good, "spanId": "late", "startNs": "1", "endNs": start_ns}
    reply = ingest(shared_collector, "traces", {"projectId": pid, "runId": run,
                                                "spans": [good, bad, late]})
    assert (reply["accepted"], reply["rejected"]) == (1, 2), reply
    assert [e["field"] for e in reply["errors"]] == ["spans[1].startNs", "spans[2].endNs"]


def _bad_integer_requests(proc: CollectorProcess) -> list[tuple[str, str, Any, str]]:
    """(method, path, body, field) of requests carrying one integer past int64."""
    pid, run = _known_run(proc)
    ws, prj = proc.workspace, proc.project
    status(proc, run)
    window = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 10**13}
    return [
        ("POST", f"{V1}/runs/{run}/status", {"status": "completed", "finishedAtMs": BIG},
         "finishedAtMs"),
        ("POST", f"{V1}/ingest/metrics", {"projectId": pid, "runId": run, "rank": BIG,
                                          "rows": [[1, 1, {"a": 1.0}]]}, "rank"),
        ("POST", f"{V1}/ingest/metrics", {"projectId": pid, "runId": run, "seq": HUGE,
                                          "rows": [[1, 1, {"a": 1.0}]]}, "seq"),
        ("POST", f"{V1}/query/series", {"projectId": pid, "runId": run, "rank": BIG}, "rank"),
        ("POST", f"{V1}/query/series", {"projectId": pid, "runId": run,
                                        "maxPointsPerSeries": HUGE}, "maxPointsPerSeries"),
        ("POST", f"{V1}/export/metrics", {**window, "rank": BIG}, "rank"),
        ("POST", f"{V1}/export/metrics", {**window, "endMs": HUGE}, "endMs"),
        ("POST", f"{V1}/export/logs", {**window, "endMs": BIG}, "endMs"),
        ("POST", f"{V1}/query/logs", {"projectId": pid, "runId": run, "endMs": BIG}, "endMs"),
        ("POST", f"{V1}/query/logs", {"projectId": pid, "runId": run, "limit": BIG}, "limit"),
        ("POST", f"{V1}/query/spans", {"projectId": pid, "runId": run, "limit": BIG}, "limit"),
        ("POST", f"{V1}/query/logs", {"projectId": pid, "runId": run,
                                      "cursor": _cursor([BIG, 1, 1])}, "cursor"),
        ("POST", f"{V1}/query/series", {"projectId": pid, "runId": run, "mode": "full",
                                        "metricKeys": ["k"], "cursor": _cursor(["k", BIG])},
         "cursor"),
        ("POST", f"{V1}/runs/start", {"projectId": pid, "runId": run_id(),
                                      "config": {"lr": HUGE}}, "config[...]"),
        ("POST", f"{V1}/runs/start", {"projectId": pid, "runId": run_id(),
                                      "client": {"pid": HUGE}}, "client"),
        ("POST", f"{V1}/workspaces/{ws}/projects/{prj}/api-keys",
         {"scopes": ["project:read"], "expiresAtMs": BIG}, "expiresAtMs"),
        ("POST", f"{V1}/artifacts/initiate", {"projectId": pid, "runId": run, "name": "a",
                                              "files": [{"path": "f", "sizeBytes": 1,
                                                         "sha256": "a" * 64}],
                                              "metadata": {"n": HUGE}}, "metadata"),
        ("POST", f"{V1}/artifacts/initiate", {"projectId": pid, "runId": run, "name": "a",
                                              "files": [{"path": "f", "sizeBytes": HUGE,
                                                         "sha256": "a" * 64}]},
         "files[0].sizeBytes"),
        ("GET", f"{V1}/media?projectId={pid}&runId={run}&limit=%C2%B2", None, "limit"),
        ("GET", f"{V1}/media?projectId={pid}&runId={run}&step={HUGE}", None, "step"),
        ("GET", f"{V1}/media?projectId={pid}&runId={run}&cursor={BIG}", None, "cursor"),
        ("GET", f"{V1}/media?projectId={pid}&runId={run}&minStep=1_0", None, "minStep"),
        ("GET", f"{V1}/metrics/keys?projectId={pid}&runId={run}&cursor={_cursor([BIG])}",
         None, "cursor"),
        ("GET", f"{V1}/workspaces?limit=%C2%B2", None, "limit"),
        ("GET", f"{V1}/workspaces/{ws}/projects/{prj}/runs/query?cursor="
                f"{_cursor(['startedAtMs', 'desc', BIG, 'r'])}", None, "cursor"),
    ]


def status(proc: CollectorProcess, run: str) -> None:
    """Make ``run`` a started run (the status route needs one)."""
    code, _, payload = post(proc, "runs/start", {"projectId": project_id(proc), "runId": run,
                                                 "resume": "allow"})
    assert code in (200, 201), payload


def test_integers_past_int64_are_400_naming_the_field(shared_collector: CollectorProcess
                                                      ) -> None:
    """Every route bounds its integers at the schema or in one strict query-string parser:
    out of range is a 400 naming the field (these were OverflowError/ValueError 500s)."""
    for method, path, body, field in _bad_integer_requests(shared_collector):
        raw = None if body is None else json.dumps(body).encode()
        code, payload = _send(shared_collector, method, path, raw)
        assert code == 400, (path, body, payload)
        assert_error(code, payload, 400, "INVALID_REQUEST", field)


def test_media_items_with_integers_past_int64_are_rejected_alone(
        shared_collector: CollectorProcess) -> None:
    """A media item whose ``step`` (or metadata integer) is past int64 is rejected alone."""
    pid, run = project_id(shared_collector), run_id()
    item = {"mediaKey": "m", "mediaType": "image", "step": 1, "timestampMs": 1,
            "artifactPath": "f", "artifactId": "art_x", "artifactVersion": 1,
            "artifactSha256": "a" * 64}
    items = [{**item, "step": BIG}, {**item, "metadata": {"n": HUGE}}, {**item, "width": -1}]
    code, _, reply = post(shared_collector, "ingest/media", {"projectId": pid, "runId": run,
                                                             "items": items})
    assert code == 200, reply
    assert [e["field"] for e in reply["errors"]] == ["items[0].step", "items[1].metadata",
                                                     "items[2].width"]


def test_media_items_with_nul_or_trailing_newlines_are_rejected_alone(
        shared_collector: CollectorProcess) -> None:
    """A caption with NUL (a 500 on PostgreSQL, whose text cannot hold it), a media key or a
    sha256 ending in a newline (which slipped past ``$``) reject their item alone, naming it."""
    pid, run = project_id(shared_collector), run_id()
    item = {"mediaKey": "m", "mediaType": "image", "step": 1, "timestampMs": 1,
            "artifactPath": "f", "artifactId": "art_x", "artifactVersion": 1,
            "artifactSha256": "a" * 64}
    items = [{**item, "caption": "a\x00b"}, {**item, "mediaKey": "m\n"},
             {**item, "artifactSha256": "a" * 64 + "\n"}]
    code, _, reply = post(shared_collector, "ingest/media", {"projectId": pid, "runId": run,
                                                             "items": items})
    assert code == 200, reply
    assert [e["field"] for e in reply["errors"]] == [
        "items[0].caption", "items[1].mediaKey", "items[2].artifactSha256"]


@pytest.mark.parametrize("values", [[[1, 2]], [[1]], [1.0, [1, 2]], [[1], [2]]])
def test_array_valued_metric_values_are_400(shared_collector: CollectorProcess,
                                            values: list[Any]) -> None:
    """A metric value that is an array is a 400 naming it, in points and in rows (was an
    IndexError/ValueError 500, or ``[1]`` silently stored as 1). Found by the fuzz test."""
    pid, run = project_id(shared_collector), run_id()
    bad = next(i for i, v in enumerate(values) if isinstance(v, list))
    points = [point(pid, run, "k", i, v) for i, v in enumerate(values)]
    status, _, payload = post(shared_collector, "ingest/metrics", {"points": points})
    assert_error(status, payload, 400, "INVALID_REQUEST", f"points[{bad}].value")
    rows = [[i, 1, {"k": v}] for i, v in enumerate(values)]
    status, _, payload = post(shared_collector, "ingest/metrics",
                              {"projectId": pid, "runId": run, "rows": rows})
    assert_error(status, payload, 400, "INVALID_REQUEST", f"rows[{bad}][2].k")
