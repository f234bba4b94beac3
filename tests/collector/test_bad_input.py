"""Bad input on the data-plane routes: every row of the bad-input table, against real processes."""

from __future__ import annotations

import gzip
import http.client
import itertools
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import psutil
import pytest

from tests.collector.control import assert_error, new_key, new_target
from tests.collector.dataplane import (ingest, point, post, project_id, run_id, series,
                                       steps_values)
from tests.helpers.collector_proc import CollectorProcess

SMALL_LIMIT = 100_000


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector whose decompressed body limit is 100 kB."""
    proc = CollectorProcess(tmp_path_factory.mktemp("small") / "data",
                            extra_env={"RUNDIAL_COLLECTOR_MAX_BODY_BYTES": str(SMALL_LIMIT)})
    proc.start()
    yield proc
    proc.stop()


def _metrics(proc: CollectorProcess, n: int, run: str | None = None) -> bytes:
    pid = project_id(proc)
    return orjson.dumps({"points": [point(pid, run or run_id(), "k", s, 1.0) for s in range(n)]})


def _send(proc: CollectorProcess, route: str, payload: bytes, headers: dict[str, str]
          ) -> tuple[int, dict[str, object]]:
    """POST raw bytes with http.client (tolerating the server closing early)."""
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=30)
    try:
        conn.putrequest("POST", f"/api/v1/{route}")
        for name, value in {"authorization": f"Bearer {proc.api_key}",
                            "content-length": str(len(payload)), **headers}.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            conn.send(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the collector answered (413) before reading everything
        response = conn.getresponse()
        return response.status, orjson.loads(response.read())
    finally:
        conn.close()


def test_plain_body_over_limit_is_413(small: CollectorProcess) -> None:
    """A plain body larger than the limit answers 413 PAYLOAD_TOO_LARGE."""
    status, payload = _send(small, "ingest/metrics", _metrics(small, 2000),
                            {"content-type": "application/json"})
    assert_error(status, payload, 413, "PAYLOAD_TOO_LARGE")


def test_gzip_body_inflating_over_limit_is_413(small: CollectorProcess) -> None:
    """A small gzip body that inflates past the limit answers 413."""
    body = gzip.compress(_metrics(small, 2000), 1)
    assert len(body) < SMALL_LIMIT
    status, payload = _send(small, "ingest/metrics", body,
                            {"content-type": "application/json", "content-encoding": "gzip"})
    assert_error(status, payload, 413, "PAYLOAD_TOO_LARGE")


def _gzip_bomb(total_bytes: int) -> bytes:
    """A multi-member gzip stream of ``total_bytes`` zeros (about 1 kB per 1 MiB)."""
    member_bytes = 16 * 1024 * 1024
    member = zlib.compress(bytes(member_bytes), 9, wbits=31)
    return member * (total_bytes // member_bytes)


def test_gzip_bomb_is_413_with_bounded_memory(collector: CollectorProcess) -> None:
    """A 1 GiB gzip bomb answers 413, RSS stays bounded, earlier data survives, serving goes on."""
    pid, run = project_id(collector), run_id()
    ingest(collector, "metrics", {"points": [point(pid, run, "k", 0, 1.0)]})
    process = psutil.Process(collector.pid)
    before = process.memory_info().rss
    status, payload = _send(collector, "ingest/metrics", _gzip_bomb(1 << 30),
                            {"content-type": "application/json", "content-encoding": "gzip"})
    assert_error(status, payload, 413, "PAYLOAD_TOO_LARGE")
    assert process.memory_info().rss - before < 200 * 1024 * 1024
    ingest(collector, "metrics", {"points": [point(pid, run, "k", 1, 2.0)]})
    assert steps_values(series(collector, pid, run, ["k"])["k"]) == [(0, 1.0), (1, 2.0)]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad-crc"])
def test_broken_gzip_is_400(shared_collector: CollectorProcess, damage: str) -> None:
    """Garbage, truncated gzip and a corrupted trailer answer 400 INVALID_REQUEST."""
    good = gzip.compress(_metrics(shared_collector, 50), 1)
    body = {"garbage": b"\x1f\x8bnot gzip at all" * 10, "truncated": good[:-12],
            "bad-crc": good[:-8] + bytes(8)}[damage]
    status, payload = _send(shared_collector, "ingest/metrics", body,
                            {"content-type": "application/json", "content-encoding": "gzip"})
    assert_error(status, payload, 400, "INVALID_REQUEST")


def test_unknown_content_encoding_is_415(shared_collector: CollectorProcess) -> None:
    """Content-Encoding other than gzip/identity answers 415 UNSUPPORTED_ENCODING."""
    status, payload = _send(shared_collector, "ingest/logs", b"{}",
                            {"content-type": "application/json", "content-encoding": "br"})
    assert_error(status, payload, 415, "UNSUPPORTED_ENCODING")


@pytest.mark.parametrize(("route", "raw", "field"), [
    ("ingest/metrics", b'{"points": [', None),
    ("ingest/metrics", b"[1, 2]", None),
    ("ingest/metrics", b"", None),
    ("ingest/metrics", b'"\xff\xfe"', None),
    ("ingest/metrics", b'{"points": {}}', "points"),
    ("ingest/metrics", b'{"points": [{"projectId": "p", "runId": "r", "metricKey": "k",'
                       b' "step": "1", "timestampMs": 1, "value": 1}]}', "points[0].step"),
    ("ingest/metrics", b'{"points": [{"projectId": "p", "runId": "r", "metricKey": "k",'
                       b' "step": 1, "timestampMs": 1, "value": "1.5"}]}', "points[0].value"),
    ("ingest/metrics", b'{"points": [{"projectId": "p", "runId": "r", "metricKey": "k",'
                       b' "step": 1, "timestampMs": 1e999, "value": 1}]}',
     "points[0].timestampMs"),
    ("ingest/metrics", b'{"projectId": "p", "runId": "r", "rows": [[1, 2]]}', "rows[0]"),
    ("ingest/metrics", b'{"projectId": "p", "rows": [[1, 2, {}]]}', "runId"),
    ("ingest/logs", b'{"lines": [{"projectId": "p", "runId": "r", "timestampMs": 1,'
                    b' "sequence": 1, "level": "info", "message": 5}]}', "lines[0].message"),
    ("ingest/traces", b'{"spans": [{"projectId": "p"}]}', "spans[0].traceId"),
    ("query/series", b'{"projectId": "p", "runId": "r", "maxPointsPerSeries": "x"}',
     "maxPointsPerSeries"),
    ("query/series", b'{"projectId": "p", "runId": "r", "mode": "everything"}', "mode"),
    ("query/series", b'{"projectId": "p", "runId": "r", "maxPointsPerSeries": 0}',
     "maxPointsPerSeries"),
    ("export/metrics", b'{"projectId": "p", "runId": "r", "startMs": 5}', "endMs"),
    ("query/logs", b'{"projectId": "p", "runId": "r", "minLevel": "warning"}', "minLevel"),
    ("export/logs", b'{"projectId": "p", "runId": "r", "startMs": -1, "endMs": 5}', "startMs"),
])
def test_malformed_bodies_are_400_with_field(shared_collector: CollectorProcess, route: str,
                                             raw: bytes, field: str | None) -> None:
    """Malformed JSON or a wrong field type answers 400 INVALID_REQUEST naming the field."""
    status, payload = _send(shared_collector, route, raw, {"content-type": "application/json"})
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize(("route", "extra", "field"), [
    ("query/series", {"mode": "full", "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ("query/series", {"mode": "full", "cursor": "WyJ6eiIsM10"}, "cursor"),
    ("query/series", {"mode": "full", "order": "desc"}, "order"),
    ("export/metrics", {"startMs": 9, "endMs": 1}, "endMs"),
    ("query/logs", {"cursor": "WzEsMl0"}, "cursor"),
])
def test_bad_query_values_are_400(shared_collector: CollectorProcess, route: str,
                                  extra: dict[str, object], field: str) -> None:
    """Foreign cursors, an inverted window or desc full paging answer 400 naming the field."""
    pid, run = project_id(shared_collector), run_id()
    ingest(shared_collector, "metrics", {"points": [point(pid, run, "k", 0, 1.0)]})
    status, _, payload = post(shared_collector, route, {"projectId": pid, "runId": run,
                                                        "metricKeys": ["k"], **extra})
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize("route", ["ingest/metrics", "ingest/logs", "ingest/traces",
                                   "query/series", "export/metrics", "query/logs",
                                   "export/logs"])
@pytest.mark.parametrize("key", [None, "rdk_not-a-real-key"])
def test_missing_or_invalid_key_is_401(shared_collector: CollectorProcess, route: str,
                                       key: str | None) -> None:
    """Every data-plane route answers 401 without a valid bearer key, before reading the body."""
    status, _, payload = post(shared_collector, route, {"points": []}, key=key)
    assert_error(status, payload, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(("route", "item"), [
    ("ingest/metrics", "points"), ("ingest/logs", "lines"), ("ingest/traces", "spans")])
def test_key_of_another_workspace_is_403(shared_collector: CollectorProcess, route: str,
                                         item: str) -> None:
    """Items only in a project of another workspace answer 403 FORBIDDEN."""
    mine, theirs = new_target(shared_collector), new_target(shared_collector)
    key = new_key(shared_collector, theirs, ["metrics:write", "logs:write", "traces:write"])
    run = run_id()
    items = {"points": [point(mine.project_id, run, "k", 0, 1.0)],
             "lines": [{"projectId": mine.project_id, "runId": run, "timestampMs": 1,
                        "sequence": 1, "level": "info", "message": "m"}],
             "spans": [{"projectId": mine.project_id, "runId": run, "traceId": "t",
                        "spanId": "s", "name": "n", "startNs": "1"}]}[item]
    status, _, payload = post(shared_collector, route, {item: items}, key=key["apiKey"])
    assert_error(status, payload, 403, "FORBIDDEN")


def test_full_write_queue_is_429_and_loses_nothing(tmp_path: Path) -> None:
    """With a one-job write queue, concurrent ingest sees 429 + Retry-After; every 202 is kept."""
    proc = CollectorProcess(tmp_path / "data", extra_env={
        "RUNDIAL_COLLECTOR_WRITE_QUEUE_MAX_JOBS": "1", "RUNDIAL_COLLECTOR_ACCESS_LOG": "0"})
    proc.start()
    try:
        pid, run = project_id(proc), run_id()
        outcomes = _hammer(proc, pid, run)
        limited = [o for o in outcomes if o[0] == 429]
        assert limited, "no request was rate limited"
        assert all(o[1].get("retry-after") == "1" for o in limited)
        assert {o[0] for o in outcomes} <= {202, 429}
        accepted_steps = sorted(s for o in outcomes if o[0] == 202 for s in o[2])
        entry = series(proc, pid, run, ["k"], maxPointsPerSeries=100_000)["k"]
        assert [p["step"] for p in entry["points"]] == accepted_steps
    finally:
        proc.stop()


def _hammer(proc: CollectorProcess, pid: str, run: str, threads: int = 12, rounds: int = 4,
            deadline_seconds: float = 30.0) -> list[tuple[int, dict[str, str], list[int]]]:
    """Threads post 2,000-point batches at once, at least ``rounds`` each and until one 429
    was seen (or the deadline passed); returns (status, headers, steps) per request."""
    outcomes: list[tuple[int, dict[str, str], list[int]]] = []
    lock = threading.Lock()
    limited = threading.Event()
    batches = itertools.count()
    deadline = time.monotonic() + deadline_seconds

    def worker() -> None:
        done = 0
        while (done < rounds or not limited.is_set()) and time.monotonic() < deadline:
            base = next(batches) * 2000
            steps = list(range(base, base + 2000))
            body = {"points": [point(pid, run, "k", s, 1.0) for s in steps]}
            status, headers, _ = post(proc, "ingest/metrics", body, gzip_body=True)
            if status == 429:
                limited.set()
            with lock:
                outcomes.append((status, {k.lower(): v for k, v in headers.items()}, steps))
            done += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes
