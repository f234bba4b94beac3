"""Helpers for the SDK's end-to-end tests: read data back over HTTP, and a fault-injecting proxy.

The proxy is a real HTTP server in a thread: for ingest requests it first plays a script of
error answers (e.g. 500, 429 + Retry-After), then forwards everything to the real collector.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import rundial as rd

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

V1 = "/api/v1"


def read_points(proc: CollectorProcess, run_id: str, keys: list[str], *, project: str | None = None,
                rank: int | None = None) -> dict[str, dict[int, float]]:
    """Every resolved point of ``keys`` (``mode: full``, all pages): key -> {step: value}."""
    out: dict[str, dict[int, float]] = {key: {} for key in keys}
    cursor = None
    while True:
        body: dict[str, Any] = {"projectId": project or proc.project, "runId": run_id,
                                "metricKeys": keys, "maxPointsPerSeries": 100_000, "mode": "full"}
        if cursor:
            body["cursor"] = cursor
        if rank is not None:
            body["rank"] = rank
        status, _, payload = request("POST", proc.url + V1 + "/query/series", body, api_key=proc.api_key)
        assert status == 200, payload
        for series in payload["series"]:
            out.setdefault(series["metricKey"], {}).update(
                (p["step"], p["value"]) for p in series["points"])
        page = payload.get("page") or {}
        cursor = page.get("nextCursor") if page.get("hasMore") else None
        if not cursor:
            return out


def series_stats(proc: CollectorProcess, run_id: str, keys: list[str]) -> dict[str, tuple[int, int]]:
    """key -> (resolved points, superseded raw points); superseded > 0 means a duplicate step."""
    body = {"projectId": proc.project, "runId": run_id, "metricKeys": keys,
            "maxPointsPerSeries": 1, "mode": "tail"}
    status, _, payload = request("POST", proc.url + V1 + "/query/series", body, api_key=proc.api_key)
    assert status == 200, payload
    return {s["metricKey"]: (s["totalPoints"], s["supersededPoints"]) for s in payload["series"]}


def point_count(proc: CollectorProcess, run_id: str, key: str) -> int:
    """Resolved points of one key (0 when the collector is unreachable)."""
    try:
        return series_stats(proc, run_id, [key])[key][0]
    except (OSError, AssertionError, KeyError):
        return 0


def init_run(proc: CollectorProcess, spool: Path, **extra: Any) -> rd.Run:
    """``rd.init`` against ``proc`` (slug mode, system metrics off unless asked for)."""
    extra.setdefault("system_metrics", False)
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(spool), **extra)
    assert isinstance(run, rd.Run)
    return run


def read_logs(proc: CollectorProcess, run_id: str, **extra: Any) -> list[dict[str, Any]]:
    """Every stored log line of a run (``query/logs``), oldest first."""
    body = {"projectId": proc.project, "runId": run_id, "limit": 10_000, "order": "asc", **extra}
    status, _, payload = request("POST", proc.url + V1 + "/query/logs", body, api_key=proc.api_key)
    assert status == 200, payload
    return list(payload["rows"])


def read_spans(proc: CollectorProcess, run: rd.Run) -> list[dict[str, Any]]:
    """The stored root spans of a logging run (``query/spans``), each with its children."""
    status, _, reply = request("POST", proc.url + V1 + "/query/spans",
                               {"projectId": run.project_id, "runId": run.run_id},
                               api_key=proc.api_key)
    assert status == 200, reply
    return list(reply["spans"])


def run_details(proc: CollectorProcess, run_id: str) -> tuple[int, Any]:
    """``GET …/runs/{runId}``: (status, payload)."""
    status, _, payload = request(
        "GET", f"{proc.url}{V1}/workspaces/{proc.workspace}/projects/{proc.project}/runs/{run_id}",
        api_key=proc.api_key)
    return status, payload


class FaultProxy:
    """Forwards to ``upstream``; ingest requests first get the scripted answers, in order.

    ``script`` items are ``(status, headers)``. ``log`` records ``(monotonic time, path, status)``.
    """

    def __init__(self, upstream: str, script: list[tuple[int, dict[str, str]]]) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.script = list(script)
        self.log: list[tuple[float, str, int]] = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                proxy.handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                proxy.handle(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def handle(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        scripted = None
        with self.lock:
            if handler.path.endswith("/ingest/metrics") and self.script:
                scripted = self.script.pop(0)
        if scripted is not None:
            status, headers, payload = scripted[0], scripted[1], b'{"error":{"code":"INTERNAL_ERROR"}}'
        else:
            status, headers, payload = self._forward(method, handler, body)
        with self.lock:
            self.log.append((time.monotonic(), handler.path, status))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _forward(self, method: str, handler: http.server.BaseHTTPRequestHandler,
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(method, handler.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            keep = {k: v for k, v in resp.getheaders()
                    if k.lower() in ("content-type", "retry-after", "content-encoding")}
            return resp.status, keep, resp.read()
        finally:
            conn.close()

    def ingest_log(self) -> list[tuple[float, int]]:
        with self.lock:
            return [(t, s) for t, path, s in self.log if path.endswith("/ingest/metrics")]


@contextmanager
def fault_proxy(upstream: str, script: list[tuple[int, dict[str, str]]]) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` for the duration of the block."""
    proxy = FaultProxy(upstream, script)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
