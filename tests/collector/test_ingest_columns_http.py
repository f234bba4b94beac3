"""Columnar metric bodies over HTTP: content-type dispatch, every malformed body a 400 envelope
naming its field (the collector serving on), the gzip limit, per-point rejections, and the
``Rundial-Ingest-Formats`` announcement on every reply of the metrics route."""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

import pytest

from tests.collector.control import V1, assert_error, call
from tests.collector.dataplane import ingest, post, project_id, run_id, series, steps_values
from tests.collector.test_ingest_columns import BAD_BODIES
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.columns_body import CONTENT_TYPE, columns_body

FORMATS = "Rundial-Ingest-Formats"
COLUMNS = {"Content-Type": CONTENT_TYPE}


def _post(proc: CollectorProcess, raw: bytes, headers: dict[str, str] | None = None,
          key: str | None = "admin", gzip_body: bool = False
          ) -> tuple[int, dict[str, str], Any]:
    return post(proc, "ingest/metrics", None, key=key, raw=raw, gzip_body=gzip_body,
                headers=headers or COLUMNS)


def _still_serving(proc: CollectorProcess) -> None:
    pid, run = project_id(proc), run_id()
    reply = ingest(proc, "metrics", None, raw=columns_body(
        {"projectId": pid, "runId": run}, ["k"], [0], [1], [[0.5]]), headers=COLUMNS)
    assert reply["accepted"] == 1
    assert steps_values(series(proc, pid, run, ["k"])["k"]) == [(0, 0.5)]


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_malformed_body_is_a_400_envelope(shared_collector: CollectorProcess, name: str
                                            ) -> None:
    raw, field = BAD_BODIES[name]
    status, headers, payload = _post(shared_collector, raw, gzip_body=True)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)
    assert headers[FORMATS] == "rows, columns"
    _still_serving(shared_collector)


@pytest.mark.parametrize("content_type", [CONTENT_TYPE, "Application/X-Rundial-Columns",
                                          "application/x-rundial-columns; version=1",
                                          " APPLICATION/x-rundial-columns ;q=1"])
def test_the_content_type_is_matched_without_case_or_parameters(
        shared_collector: CollectorProcess, content_type: str) -> None:
    pid, run = project_id(shared_collector), run_id()
    raw = columns_body({"projectId": pid, "runId": run}, ["a", "b"], [3, 4], [10, 11],
                       [[1.0, 2.0], [3.0, 4.0]])
    status, headers, payload = _post(shared_collector, raw, {"Content-Type": content_type})
    assert status == 202 and headers[FORMATS] == "rows, columns", payload
    assert (payload["accepted"], payload["rejected"]) == (4, 0)
    got = series(shared_collector, pid, run, ["a", "b"])
    assert steps_values(got["b"]) == [(3, 3.0), (4, 4.0)]
    assert got["a"]["points"][1]["timestampMs"] == 11


def test_a_columns_body_with_a_json_content_type_is_invalid_json(
        shared_collector: CollectorProcess) -> None:
    raw = columns_body({"projectId": project_id(shared_collector), "runId": run_id()}, ["k"],
                       [0], [1], [[1.0]])
    status, headers, payload = _post(shared_collector, raw, {"Content-Type": "application/json"})
    assert_error(status, payload, 400, "INVALID_REQUEST")
    assert "not valid JSON" in payload["error"]["message"] and headers[FORMATS]


def test_a_gzip_bomb_with_the_columns_type_is_413(shared_collector: CollectorProcess) -> None:
    """Beyond the decompressed limit (32 MiB by default) reading stops: the same 413."""
    member = zlib.compress(bytes(16 * 1024 * 1024), 9, wbits=31)
    status, headers, payload = _post(shared_collector, member * 3,
                                     {**COLUMNS, "Content-Encoding": "gzip"})
    assert_error(status, payload, 413, "PAYLOAD_TOO_LARGE")
    assert headers[FORMATS] == "rows, columns"
    _still_serving(shared_collector)


def test_bad_values_and_rows_are_rejected_one_by_one(shared_collector: CollectorProcess
                                                     ) -> None:
    """NaN and ±inf are rejected per point, a row with a negative step or timestamp whole."""
    pid, run = project_id(shared_collector), run_id()
    raw = columns_body({"projectId": pid, "runId": run}, ["a", "b"], [0, -1, 2, 3],
                       [5, 6, 7, -8], [[1.0, 9.0, math.nan, 4.0], [math.inf, 9.0, 2.5, -math.inf]])
    reply = ingest(shared_collector, "metrics", None, raw=raw, headers=COLUMNS)
    assert (reply["accepted"], reply["rejected"]) == (2, 6)
    assert [(e["index"], e["field"]) for e in reply["errors"]] == [
        (1, "rows[1]"), (3, "rows[3]"), (2, "rows[2][2].a"), (0, "rows[0][2].b")]
    got = series(shared_collector, pid, run, ["a", "b"])
    assert steps_values(got["a"]) == [(0, 1.0)] and steps_values(got["b"]) == [(2, 2.5)]


def test_every_reply_of_the_metrics_route_announces_the_formats(
        shared_collector: CollectorProcess) -> None:
    """202, 400 and 401 replies, JSON bodies and columns alike; other routes do not."""
    pid = project_id(shared_collector)
    rows = {"projectId": pid, "runId": run_id(), "rows": [[0, 1, {"k": 1.0}]]}
    json_type = {"Content-Type": "application/json"}
    replies = [_post(shared_collector, json.dumps(rows).encode(), json_type),
               _post(shared_collector, b'{"rows": 5}', json_type),
               _post(shared_collector, b"RDC1", COLUMNS),
               _post(shared_collector, b"RDC1", COLUMNS, key=None),
               _post(shared_collector, b"RDC1", COLUMNS, key="rdk_wrong")]
    assert [status for status, _, _ in replies] == [202, 400, 400, 401, 401]
    assert all(headers[FORMATS] == "rows, columns" for _, headers, _ in replies)
    status, headers, _ = post(shared_collector, "ingest/logs", {"lines": []})
    assert status == 202 and FORMATS not in headers


def test_capabilities_list_the_ingest_formats(shared_collector: CollectorProcess) -> None:
    status, payload = call(shared_collector, "GET", f"{V1}/cli/capabilities", key=None)
    assert status == 200 and payload["ingestFormats"] == ["rows", "columns"]


def test_a_big_body_is_decoded_off_the_event_loop(shared_collector: CollectorProcess) -> None:
    """5,000 rows of 10 keys (400 kB, past the off-loop threshold), gzip as the SDK sends."""
    pid, run, n = project_id(shared_collector), run_id(), 5_000
    keys = [f"k{j}" for j in range(10)]
    raw = columns_body({"projectId": pid, "runId": run}, keys, range(n), range(n),
                       [[j + s / n for s in range(n)] for j in range(10)])
    reply = ingest(shared_collector, "metrics", None, raw=raw, headers=COLUMNS, gzip_body=True)
    assert (reply["accepted"], reply["rejected"]) == (50_000, 0)
    entry = series(shared_collector, pid, run, ["k9"], maxPointsPerSeries=2)["k9"]
    assert entry["totalPoints"] == n and steps_values(entry) == [(4998, 9 + 4998 / n),
                                                                 (4999, 9 + 4999 / n)]
