"""Property-based fuzzing of every JSON route of the real collector (issue 14, "Tests").

Hypothesis mutates a valid request of a random route (a value replaced by an odd one: integers
past int64, deep nesting, wrong types; a field deleted or added; a list item duplicated or
dropped), encodes it (plain or gzip; sometimes truncated, a byte flipped or a deep array
spliced in) and sends it. Every answer must be a 2xx, or a 4xx carrying the protocol's error
envelope, and must arrive within :data:`DEADLINE_SECONDS`. A concurrent burst of mutated
requests then checks the same under load, and the collector's RSS must stay bounded.
"""

from __future__ import annotations

import gzip
import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.collector.dataplane import project_id
from tests.collector.routes import valid_requests
from tests.helpers.collector_proc import CollectorProcess

DEADLINE_SECONDS = 10.0
MAX_RSS_GROWTH_BYTES = 150 * 1024 * 1024
BURST_REQUESTS = 600
EXAMPLES_PER_ROUTE = 100
DEEP = "\x00deep"  # stands for an array nested deeper than any decoder should recurse
ODD_VALUES: list[Any] = [None, True, -1, 0, 1e308, 0.5, "", "²", "\x00", "9" * 25, "x" * 300,
                         [], {}, [1, 2], {"a": 1}, [[[[[]]]]], DEEP]
BIG_INTEGERS = [2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**30, "9" * 19, str(2**63)]

_ODD = st.one_of(st.sampled_from(ODD_VALUES), st.sampled_from(BIG_INTEGERS),
                 st.integers(-(2**70), 2**70),
                 st.text(max_size=12), st.floats(allow_nan=False, allow_infinity=False),
                 st.lists(st.integers() | st.floats(allow_nan=False), max_size=3),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@dataclass
class Fuzzed:
    """The collector under fuzz, its valid requests and its RSS after a warm-up."""

    proc: CollectorProcess
    routes: list[tuple[str, str, Any]]
    rss_before: int


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """A collector of its own (its RSS is measured), every route warmed up once."""
    proc = CollectorProcess(tmp_path_factory.mktemp("fuzz") / "data",
                            extra_env={"RUNDIAL_COLLECTOR_ACCESS_LOG": "0"})
    proc.start()
    try:
        routes = valid_requests(project_id(proc), "fuzz-run", proc.workspace, proc.project)
        for method, path, body in routes:
            raw = None if body is None else json.dumps(body).encode()
            _check_answer(*_send(proc, method, path, raw, {}), what=path)
        yield Fuzzed(proc, routes, psutil.Process(proc.pid).memory_info().rss)
    finally:
        proc.stop()


Path = tuple[Any, ...]


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """The path of every node of a JSON value, the value itself first; leaves (where most
    bugs hide) count twice."""
    leaf = not isinstance(value, (dict, list)) or not value
    out = [prefix, prefix] if leaf else [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in items:
        out += _paths(child, (*prefix, key))
    return out


def _mutate(draw: Any, body: Any) -> Any:
    """``body`` with one node (chosen uniformly) replaced, wrapped in an array, deleted,
    duplicated or given a sibling."""
    path = draw(st.sampled_from(_paths(body)))
    op = draw(st.sampled_from(["replace", "replace", "replace", "wrap", "delete", "add",
                               "duplicate"]))
    if not path:
        return draw(_ODD)
    out = json.loads(json.dumps(body))
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if op == "replace":
        parent[last] = draw(_ODD)
    elif op == "wrap":
        parent[last] = [parent[last]] * draw(st.integers(1, 2))
    elif op == "delete":
        del parent[last]
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(_ODD)
    else:
        parent.append(draw(_ODD))
    return out


def _encode(draw: Any, body: Any) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    deep = draw(st.sampled_from([70, 5_000, 100_000]))
    raw = raw.replace(json.dumps(DEEP).encode(), b"[" * deep + b"]" * deep)
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "flip", "deep"]))
    if damage == "truncate":
        raw = raw[:draw(st.integers(0, len(raw)))]
    elif damage == "flip":
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    elif damage == "deep":
        depth = draw(st.sampled_from([70, 5_000, 100_000]))
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + b"[" * depth + b"]" * depth + raw[i:]
    headers = {"content-type": "application/json"}
    if draw(st.integers(0, 4)) == 0:
        raw, headers["content-encoding"] = gzip.compress(raw, 1), "gzip"
    return raw, headers


def _send(proc: CollectorProcess, method: str, path: str, raw: bytes | None,
          headers: dict[str, str]) -> tuple[int, str, bytes, float]:
    """(status, content type, body, seconds) of one request on a fresh connection."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=DEADLINE_SECONDS)
    try:
        conn.request(method, path, body=raw, headers={
            **headers, "authorization": f"Bearer {proc.api_key}"})
        response = conn.getresponse()
        return (response.status, response.getheader("content-type") or "", response.read(),
                time.monotonic() - started)
    finally:
        conn.close()


def _check_answer(status: int, content_type: str, body: bytes, seconds: float,
                  what: str) -> None:
    """2xx, or 4xx with the v1 envelope; within the deadline."""
    assert seconds < DEADLINE_SECONDS, f"{what}: answered after {seconds:.1f} s"
    assert 200 <= status < 300 or 400 <= status < 500, (status, body[:300], what)
    if content_type.startswith("text/csv"):
        assert status == 200, what
        return
    payload = json.loads(body)
    assert isinstance(payload.get("requestId"), str), (payload, what)
    if status >= 400:
        error = payload["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), payload
        assert isinstance(error["details"], dict), payload


Job = tuple[str, str, bytes | None, dict[str, str]]


def _job(draw: Any, route: tuple[str, str, Any]) -> Job:
    """One mutated request of ``route`` (one to three mutations, then an encoding)."""
    method, path, body = route
    if body is None:
        return method, path, None, {}
    for _ in range(draw(st.integers(1, 3))):
        body = _mutate(draw, body)
    raw, headers = _encode(draw, body)
    return method, path, raw, headers


def _what(job: Job) -> str:
    """The request for a failure message (gzip bodies shown decompressed)."""
    raw = job[2]
    if raw is not None and job[3].get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    return f"{job[0]} {job[1]} {raw!r:.300}"


ROUTE_COUNT = len(valid_requests("p", "r", "w", "j"))


@pytest.mark.parametrize("route", range(ROUTE_COUNT))
def test_mutated_requests_get_2xx_or_4xx_envelopes_in_time(fuzzed: Fuzzed, route: int) -> None:
    """Mutations of one route's valid request (shrunk to a minimal one on failure)."""

    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one_request(data: st.DataObject) -> None:
        job = _job(data.draw, fuzzed.routes[route])
        _check_answer(*_send(fuzzed.proc, *job), what=_what(job))

    one_request()


def test_a_concurrent_burst_is_answered_in_time_and_memory_stays_bounded(fuzzed: Fuzzed
                                                                         ) -> None:
    """:data:`BURST_REQUESTS` mutated requests of every route from 16 threads at once; then
    the collector's RSS is within :data:`MAX_RSS_GROWTH_BYTES` of its warmed-up size (after
    every fuzz test of this module)."""
    jobs: list[Job] = []

    @settings(max_examples=BURST_REQUESTS, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        jobs.append(_job(data.draw, data.draw(st.sampled_from(fuzzed.routes))))

    collect()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda job: _send(fuzzed.proc, *job), jobs))
    for answer, job in zip(answers, jobs):
        _check_answer(*answer, what="burst " + _what(job))
    growth = psutil.Process(fuzzed.proc.pid).memory_info().rss - fuzzed.rss_before
    assert growth < MAX_RSS_GROWTH_BYTES, f"RSS grew by {growth / 2**20:.0f} MiB"
