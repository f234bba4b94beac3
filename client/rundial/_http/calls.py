"""Control-plane calls a run makes from its worker: resolve-target, runs/start, status, config.

Each call returns a :class:`CallResult` and never raises: ``ok`` (2xx), ``retry`` (no answer,
408, 429, 5xx — try again later) or ``fatal`` (any other status: the request itself is refused).
A retryable result says whether the request may have been applied (``reached``): not when the
connection could not be opened, nor for 408, 429 and 503 (the server did not process it).
Payloads come from a run document (the content of ``run.json``), so the worker and a later
replaying process register a run the same way.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from rundial._http.retry import RETRYABLE_STATUSES, error_code, parse_retry_after
from rundial._http.transport import Request, Transport, TransportError, base_headers
from rundial._version import __version__

CLIENT_INFO = {"name": "rundial-python", "version": __version__}
REASON_MAX_CHARS = 512  # protocol §3.3
UNPROCESSED_STATUSES = frozenset({408, 429, 503})  # the server answered without applying it


@dataclass(frozen=True, slots=True)
class CallResult:
    """Outcome of one control-plane call."""

    kind: str  # "ok" | "retry" | "fatal"
    status: int | None = None
    message: str = ""
    doc: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    code: str | None = None
    reached: bool = True  # the request may have been applied by the server

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def call(transport: Transport, api_key: str | None, method: str, path: str,
         payload: dict[str, Any] | None, timeout: float, operation: str) -> CallResult:
    """One JSON request; classifies the answer (see the module docstring)."""
    headers = base_headers(api_key)
    body = None
    if payload is not None:
        headers["content-type"] = "application/json"
        body = orjson.dumps(payload)
    try:
        resp = transport.send(Request(method, path, body, headers, timeout))
    except TransportError as exc:
        return CallResult("retry", None, f"{operation} failed: {exc}", reached=exc.sent)
    try:
        doc = orjson.loads(resp.body) if resp.body else {}
    except orjson.JSONDecodeError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    if 200 <= resp.status < 300:
        return CallResult("ok", resp.status, "", doc)
    code, msg = error_code(resp.body)
    text = f"{operation} failed with HTTP {resp.status}" + (f" ({code}: {msg})" if code or msg else "")
    kind = "retry" if resp.status in RETRYABLE_STATUSES or resp.status >= 500 else "fatal"
    return CallResult(kind, resp.status, text, doc, parse_retry_after(resp.headers.get("retry-after")),
                      code, resp.status not in UNPROCESSED_STATUSES)


def quote(segment: str) -> str:
    """Percent-encode one path segment with no safe characters."""
    return urllib.parse.quote(segment, safe="")


def resolve_target(transport: Transport, api_key: str | None, workspace: str, project: str,
                   timeout: float) -> CallResult:
    """``POST /api/v1/runs/resolve-target`` → ``doc["projectId"]`` on success."""
    result = call(transport, api_key, "POST", "/api/v1/runs/resolve-target",
                  {"workspace": workspace, "project": project}, timeout, "resolve-target")
    if result.ok and not isinstance(result.doc.get("projectId"), str):
        return CallResult("fatal", result.status, "resolve-target answer has no projectId", result.doc)
    return result


def start_payload(doc: dict[str, Any], project_id: str, resume: str) -> dict[str, Any]:
    """The ``runs/start`` body for a run document (optional fields omitted when empty)."""
    body: dict[str, Any] = {"projectId": project_id, "kind": doc.get("kind") or "training",
                            "resume": resume, "client": CLIENT_INFO, "runId": doc["runId"]}
    for key in ("runName", "group", "jobType"):
        if doc.get(key):
            body[key] = doc[key]
    if doc.get("tags"):
        body["tags"] = list(doc["tags"])
    if doc.get("config"):
        body["config"] = doc["config"]
    for key in ("startedAtMs", "startToken"):  # extensions: docs/protocol.md §4.5
        if doc.get(key) is not None:
            body[key] = doc[key]
    return body


def register(transport: Transport, api_key: str | None, doc: dict[str, Any], timeout: float,
             resume: str | None = None) -> CallResult:
    """Resolve the target when the document names a workspace, then ``runs/start``."""
    project_id = doc.get("projectId") or doc.get("project")
    if doc.get("workspace"):
        resolved = resolve_target(transport, api_key, doc["workspace"], doc["project"], timeout)
        if not resolved.ok:
            return resolved
        project_id = resolved.doc["projectId"]
    payload = start_payload(doc, str(project_id), resume or doc.get("resume") or "allow")
    return call(transport, api_key, "POST", "/api/v1/runs/start", payload, timeout, "runs/start")


def status_payload(status: str, finished_at_ms: int, reason: str | None) -> dict[str, Any]:
    """The ``runs/{id}/status`` body; the reason is trimmed and cut to 512 characters."""
    body: dict[str, Any] = {"status": status, "finishedAtMs": int(finished_at_ms)}
    if reason:
        body["reason"] = str(reason).strip()[:REASON_MAX_CHARS]
    return body


def send_status(transport: Transport, api_key: str | None, run_id: str, payload: dict[str, Any],
                timeout: float) -> CallResult:
    """``POST /api/v1/runs/{runId}/status``; repeating the same terminal status is a success."""
    return call(transport, api_key, "POST", f"/api/v1/runs/{quote(run_id)}/status", payload,
                timeout, "run status")


def send_config(transport: Transport, api_key: str | None, run_id: str, config: dict[str, Any],
                timeout: float) -> CallResult:
    """``POST /api/v1/runs/{runId}/config`` with a flat patch (merged server-side)."""
    return call(transport, api_key, "POST", f"/api/v1/runs/{quote(run_id)}/config",
                {"config": config}, timeout, "config update")
