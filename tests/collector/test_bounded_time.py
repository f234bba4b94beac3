"""Every request is answered within a bounded time (issue 14, "500s and hangs").

The hang found by fuzzing: ingest looked up every distinct ``projectId`` of a body one by one
(two store reads each), so a body whose items all name different projects took ~0.7 s per
1,000 items (10,000 items: 7 s; 50,000: 30 s) and kept the reader threads busy for everyone.
A body that never finishes arriving waited for ever.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from rundial_collector.web.middleware import make_middlewares

from tests.collector.control import V1, assert_error
from tests.collector.dataplane import post
from tests.helpers.collector_proc import CollectorProcess

DISTINCT = 10_000


@pytest.mark.parametrize(("route", "body"), [
    ("ingest/metrics", {"points": [{"projectId": f"p{i}", "runId": "r", "metricKey": "k",
                                    "step": i, "timestampMs": 1, "value": 1.0}
                                   for i in range(DISTINCT)]}),
    ("ingest/logs", {"runId": "r", "lines": [{"projectId": f"p{i}", "timestampMs": 1,
                                              "sequence": i, "level": "info", "message": "m"}
                                             for i in range(DISTINCT)]}),
    ("ingest/traces", {"runId": "r", "spans": [{"projectId": f"p{i}", "traceId": "t",
                                                "spanId": str(i), "name": "n", "startNs": "1"}
                                               for i in range(DISTINCT)]}),
])
@pytest.mark.serial
def test_many_distinct_projects_are_refused_at_once(shared_collector: CollectorProcess,
                                                    route: str, body: object) -> None:
    """More than 100 distinct projects in one body is a 400 answered at once."""
    started = time.monotonic()
    status, _, payload = post(shared_collector, route, body, timeout=60)
    elapsed = time.monotonic() - started
    assert_error(status, payload, 400, "INVALID_REQUEST", "projectId")
    assert elapsed < 3.0, f"answered after {elapsed:.1f} s"


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A collector that waits at most 1 s for a request body."""
    proc = CollectorProcess(tmp_path / "data", extra_env={
        "RUNDIAL_COLLECTOR_BODY_READ_TIMEOUT_SECONDS": "1"})
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.serial
def test_a_body_that_never_arrives_is_answered_408(impatient: CollectorProcess) -> None:
    """A client announcing 1,000 bytes and sending 10 gets 408 once the body timeout passes
    (the request used to wait for ever)."""
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as sock:
        sock.sendall(f"POST {V1}/ingest/metrics HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {impatient.api_key}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     '{"points":'.encode())
        started = time.monotonic()
        head, _, rest = _read_response(sock).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert orjson.loads(rest)["error"]["code"] == "REQUEST_TIMEOUT"
    assert time.monotonic() - started < 5.0


def _read_response(sock: socket.socket) -> bytes:
    """One HTTP response: the head and a ``Content-Length`` body."""
    out = b""
    while b"\r\n\r\n" not in out:
        out += sock.recv(65536)
    head, _, body = out.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


async def test_a_handler_past_the_deadline_is_answered_503() -> None:
    """The middleware answers 503 (with ``Retry-After``) when a handler outlives the request
    deadline, and leaves the streaming handlers it was given alone."""
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response({})

    async def streaming(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.5)
        return web.json_response({"streamed": True})

    app = web.Application(middlewares=make_middlewares(False, 0.2, (streaming,)))
    app.router.add_get("/stuck", stuck)
    app.router.add_get("/stream", streaming)
    async with TestClient(TestServer(app)) as client:
        answer = await asyncio.wait_for(client.get("/stuck"), 5.0)
        payload = await answer.json()
        assert answer.status == 503 and answer.headers["Retry-After"] == "1"
        assert payload["error"]["code"] == "UNAVAILABLE" and payload["requestId"]
        answer = await asyncio.wait_for(client.get("/stream"), 5.0)
        assert answer.status == 200 and (await answer.json()) == {"streamed": True}
    release.set()
