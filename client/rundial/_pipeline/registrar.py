"""The run's control-plane state machine, driven by the worker: register, patch config, finish;
and its calls (resolve-target, runs/start, runs/{id}/status, runs/{id}/config).

Each call is one :func:`rundial._http.calls.call` (it never raises; ``reached`` says whether a
failed request may have been applied). Payloads come from a run document (the content of
``run.json``), so the worker, the sender of adopted runs and a later replaying process register
a run the same way.

Registration (``resolve-target`` when a workspace is given, then ``runs/start``) is retried with
the worker's backoff while the collector is unreachable. A refusal (e.g. 409 under
``resume="never"``, 404 under ``"must"``, 401/403) is final: the state becomes
``registration_failed``, a ``RuntimeWarning`` is issued once, ``last_error`` is set, and the run's
batches stay in the spool (marked ``blocked``) instead of being sent to a run the user did not
mean.

A lost answer is told apart from a refusal by the run's ``startToken`` (docs/protocol.md §4.5):
the collector answers a repeat of our own earlier start 200, and marks a 409 to a start with a
token ``"startTokenMatched": false`` — a refusal, whatever happened before. Only a collector
without tokens (no such marker) leaves a 409 ambiguous; it is then taken as our own earlier
success only when an earlier attempt may have been applied (it left, and got no answer or a 5xx
other than 503), never after attempts that provably did not reach the server.

Config: every patch is merged into the run document (so ``run.json`` and the next ``runs/start``
carry it) **and** into ``pending_config``. A registration attempt snapshots the document and
clears ``pending_config`` in one step under the lock, so a patch that arrives while the call is
in flight stays pending and is sent as ``runs/{id}/config`` once the run is registered: every
patch reaches the collector whatever the timing.

Run metadata (name, tags, notes; :meth:`Registrar.update_meta`, used by the import-swap shims)
follows the same rule: merged into the document (so the start request and ``run.json`` carry
the name and tags; notes are no start field and stay pending) and, once the run is registered,
sent as a run edit (``PATCH …/runs/{runId}``, docs/protocol.md
§4.9) to the workspace and project the start answer named. A refused edit is counted in
``last_error`` and not retried; an edit not yet sent when the process ends is not replayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rundial._diagnostics import Counters
from rundial._http.calls import FATAL, RETRY, CallResult, call, quote
from rundial._http.transport import Transport
from rundial._spool.send_as import is_resume_refusal
from rundial._version import __version__
from rundial._warn import warn_user

PENDING, DONE, FAILED, SKIPPED = "pending", "done", "failed", "skipped"
CLIENT_INFO = {"name": "rundial-python", "version": __version__}
REASON_MAX_CHARS = 512  # protocol §3.3


class Registrar:
    """Registration and config state of one run (thread-safe for :meth:`update_config`)."""

    def __init__(self, doc: dict[str, Any], api_key: str | None, counters: Counters, *,
                 enabled: bool, resume: str, on_change: Callable[[], None] | None = None,
                 emit: Callable[..., None] | None = None) -> None:
        self.doc = doc
        self.api_key = api_key
        self.counters = counters
        self.resume = resume
        self.state = PENDING if enabled else SKIPPED
        self.pending_config: dict[str, Any] = {}
        self.pending_meta: dict[str, Any] = {}
        self.slugs: tuple[str, str] | None = None  # (workspace, project) of the started run
        self.error: str | None = None
        self.refused = False  # refused under the resume rule: never sent into the existing run
        self.project_id: str | None = None  # the collector's ``projectId`` once registered
        self._ambiguous = False
        self._lock = threading.Lock()
        self._on_change = on_change
        self._emit = emit

    @property
    def needs_network(self) -> bool:
        """True while a registration or a config patch is waiting to be sent."""
        return self.state == PENDING or (self.state == DONE and bool(self.pending_config
                                                                     or self.pending_meta))

    def update_config(self, flat: dict[str, Any]) -> None:
        """Merge a flat config patch (from any thread); it is sent whatever the timing."""
        with self._lock:
            self.doc["config"] = {**(self.doc.get("config") or {}), **flat}
            if self.state != SKIPPED:  # a writer that never registers never sends patches
                self.pending_config.update(flat)
        if self._on_change is not None:
            self._on_change()

    def update_meta(self, fields: dict[str, Any]) -> None:
        """Set ``runName``, ``tags`` and/or ``notes`` (from any thread); sent whatever the timing."""
        with self._lock:
            self.doc.update(fields)
            if self.state != SKIPPED:
                self.pending_meta.update(fields)
        if self._on_change is not None:
            self._on_change()

    def step(self, transport: Transport, timeout: float) -> CallResult | None:
        """One attempt at whatever is pending; returns a retryable failure, else None."""
        if self.state == PENDING:
            result = self._register(transport, timeout)
            if result is not None:
                return result
        if self.state == DONE and self.pending_config:
            result = self._send_config(transport, timeout)
            if result is not None:
                return result
        if self.state == DONE and self.pending_meta:
            return self._send_meta(transport, timeout)
        return None

    def _register(self, transport: Transport, timeout: float) -> CallResult | None:
        with self._lock:  # the snapshot carries every patch so far; later ones stay pending
            doc = dict(self.doc)
            self.pending_config = {}
            # name and tags ride on this start; notes (no start field) stay for the edit after it
            self.pending_meta = {k: v for k, v in self.pending_meta.items() if k not in START_META}
        result = register(transport, self.api_key, doc, timeout, resume=self.resume)
        if result.ok or (result.status == 409 and self._own_earlier_start(result)):
            self.state = DONE
            self.slugs = started_slugs(result.doc, doc)
            answered = result.doc.get("projectId")
            self.project_id = answered if isinstance(answered, str) and answered else None
            self.counters.recovered()
        elif result.kind == "retry":
            self._ambiguous = self._ambiguous or result.reached
            return result
        else:
            self.refused = is_resume_refusal(result.status, self.resume)
            self._fail(result.message)
        if self._on_change is not None:
            self._on_change()
        return None

    def _own_earlier_start(self, conflict: CallResult) -> bool:
        """Whether a 409 may answer our own earlier, applied start (see the module docstring)."""
        return self._ambiguous and conflict.doc.get("startTokenMatched") is not False

    def _fail(self, message: str) -> None:
        self.state = FAILED
        self.error = message
        self.counters.error(message)
        if self._emit is not None:
            self._emit("registration_failure", run_id=self.doc.get("runId"), error=message)
        warn_user(f"rundial: run {self.doc.get('runId')} was not registered: {message}. Its data "
                  "is kept in the spool and not sent (see diagnostics().last_error).")

    def _send_config(self, transport: Transport, timeout: float) -> CallResult | None:
        with self._lock:
            patch, self.pending_config = self.pending_config, {}
        result = send_config(transport, self.api_key, str(self.doc["runId"]), patch, timeout)
        return self._settle(result, "pending_config", patch)

    def _send_meta(self, transport: Transport, timeout: float) -> CallResult | None:
        with self._lock:
            edit, self.pending_meta = self.pending_meta, {}
        if self.slugs is None:
            self.counters.error("run edit not sent: the start answer named no workspace/project")
            return None
        result = send_edit(transport, self.api_key, self.slugs, str(self.doc["runId"]), edit,
                           timeout)
        return self._settle(result, "pending_meta", edit)

    def _settle(self, result: CallResult, pending: str, sent: dict[str, Any]) -> CallResult | None:
        """After a patch call: a retryable failure puts ``sent`` back under the newer pending
        changes (attribute ``pending``) and is returned; a refusal is counted; else None."""
        if result.kind == "retry":
            with self._lock:
                setattr(self, pending, {**sent, **getattr(self, pending)})
            return result
        if not result.ok:
            self.counters.error(result.message)
        return None

    def send_final(self, transport: Transport, payload: dict[str, Any], timeout: float) -> CallResult:
        """Send the terminal status once (only after a successful registration)."""
        if self.state != DONE:
            return CallResult(RETRY, None, "run not registered")
        result = send_status(transport, self.api_key, str(self.doc["runId"]), payload, timeout)
        if not result.ok:
            self.counters.error(result.message)
        return result


# -- the calls (also used by the sender for adopted runs and by rundial-spool) --------------
def resolve_target(transport: Transport, api_key: str | None, workspace: str, project: str,
                   timeout: float) -> CallResult:
    """``POST /api/v1/runs/resolve-target`` → ``doc["projectId"]`` on success."""
    result = call(transport, api_key, "POST", "/api/v1/runs/resolve-target",
                  {"workspace": workspace, "project": project}, timeout, "resolve-target")
    if result.ok and not isinstance(result.doc.get("projectId"), str):
        return CallResult(FATAL, result.status, "resolve-target answer has no projectId",
                          result.doc)
    return result


START_META = frozenset({"runName", "tags"})  # run metadata that runs/start itself carries


def start_payload(doc: dict[str, Any], project_id: str, resume: str) -> dict[str, Any]:
    """The ``runs/start`` body for a run document (optional fields omitted when empty)."""
    body: dict[str, Any] = {"projectId": project_id, "kind": doc.get("kind") or "training",
                            "resume": resume, "client": client_object(doc), "runId": doc["runId"]}
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


def client_object(doc: dict[str, Any]) -> dict[str, Any]:
    """``runs/start``'s ``client``: our name and version, then the host fields the run document
    recorded when the run was created (``_pipeline.client_info``; none in older documents)."""
    recorded = doc.get("client")
    extra = {k: v for k, v in recorded.items() if k not in CLIENT_INFO} if isinstance(
        recorded, dict) else {}
    return {**CLIENT_INFO, **extra}


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


def started_slugs(answer: Any, doc: dict[str, Any]) -> tuple[str, str] | None:
    """``(workspace, project)`` slugs of a started run: from the start answer's run object,
    else from a slug-targeted run document; None when neither names them."""
    answer = answer if isinstance(answer, dict) else {}
    workspace = answer.get("workspaceSlug") or doc.get("workspace")
    project = answer.get("projectSlug") or (doc.get("project") if doc.get("workspace") else None)
    return (workspace, project) if isinstance(workspace, str) and isinstance(project, str) else None


def send_edit(transport: Transport, api_key: str | None, slugs: tuple[str, str], run_id: str,
              edit: dict[str, Any], timeout: float) -> CallResult:
    """``PATCH /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}`` (``runName``, ``tags``)."""
    path = (f"/api/v1/workspaces/{quote(slugs[0])}/projects/{quote(slugs[1])}/runs/"
            f"{quote(run_id)}")
    return call(transport, api_key, "PATCH", path, edit, timeout, "run edit")
