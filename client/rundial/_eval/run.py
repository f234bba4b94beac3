"""Eval runs: ``suite.run(...)`` and the :class:`RundialEvalRun` it returns (v1 doc §9).

``suite.run`` is a **blocking control-plane call**: ``POST /api/v1/evals/runs`` on the calling
thread, bounded by ``request_timeout_seconds`` (a client option, default 30 s). The collector
creates the eval run and its backing run (kind ``eval``, status ``running``); the SDK then
logs to that run through an ordinary :class:`~rundial.Run` (it attaches with ``resume="allow"``
in the background, never blocking). Failure: an unreachable collector or any refusal raises
:class:`~rundial.RundialRequestError` (never retried); an answer without ``evalRun.evalRunId``
and ``evalRun.runId`` raises ``RuntimeError``. A disabled suite makes no call and returns an
eval run over a :class:`~rundial.NoopRun`.

:meth:`RundialEvalRun.log_result` only queues (``run.log_eval_result``): no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from rundial._config import Settings
from rundial._http.calls import call
from rundial._http.client import RundialRequestError
from rundial._http.transport import HttpTransport, Transport
from rundial._pipeline.client_info import host_info
from rundial._run.init import batch_header, run_document
from rundial._run.noop import NoopRun
from rundial._run.run import Run


def post_json(settings: Settings, transport: Transport | None, path: str,
              payload: dict[str, Any], operation: str) -> dict[str, Any]:
    """One blocking control-plane POST; the JSON object answered. ``RundialRequestError`` for
    a refusal or no answer within ``request_timeout_seconds``, ``RuntimeError`` for a 2xx
    that is not a JSON object."""
    sender = transport or HttpTransport(settings.endpoint, settings.request_timeout_seconds)
    try:
        result = call(sender, settings.api_key, "POST", path, payload,
                      settings.request_timeout_seconds, operation)
    finally:
        if transport is None:
            sender.close()
    if not result.ok:
        raise RundialRequestError(result.message or f"{operation} failed", result.status,
                                  result.code)
    if not result.json_object:
        raise RuntimeError(f"{operation}: the collector's answer is not a JSON object")
    return result.doc


def required_text(doc: Mapping[str, Any], key: str, operation: str) -> str:
    """``doc[key]`` as a non-empty str; ``RuntimeError`` naming ``operation`` otherwise."""
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"{operation}: the answer has no {key}")
    return value


def backing_run(settings: Settings, project_id: str, run_id: str,
                config: Mapping[str, Any] | None, transport: Transport | None) -> Run:
    """A logging :class:`Run` on the eval run's backing run (created by the collector): it
    registers in the background with ``resume="allow"`` (attaching) and ends it at finish."""
    run_settings = dataclasses.replace(settings, project=project_id, workspace=None,
                                       run_id=run_id, kind="eval", resume="allow",
                                       config=dict(config or {}))
    doc = run_document(run_settings, run_id, "allow")
    doc["client"] = host_info(None, run_settings.distributed)
    return Run(run_settings, doc, batch_header(run_settings, run_id, 0), transport=transport)


class RundialEvalRun:
    """One eval run: ``eval_run_id``, its backing ``run`` (log metrics, spans and logs to it
    too), ``project_id`` and the collector's ``summary`` of it. Use it as a context manager:
    leaving the block ends the backing run like ``with run:`` does."""

    def __init__(self, *, project_id: str, eval_run_id: str, run: Run | NoopRun,
                 summary: Mapping[str, Any]) -> None:
        self.project_id = project_id
        self.eval_run_id = eval_run_id
        self.run = run
        self.summary = dict(summary)

    def log_result(self, example_id: str, *, scores: Mapping[str, Any],
                   passed: Mapping[str, bool] | bool | None = None, trace: Any = None,
                   evidence: Mapping[str, Any] | None = None,
                   meta: Mapping[str, Any] | None = None) -> bool:
        """Queue one row per scorer (``run.log_eval_result``); no I/O. ``TypeError`` or
        ``ValueError`` for an unusable argument."""
        return self.run.log_eval_result(self.eval_run_id, example_id, scores=scores,
                                        passed=passed, trace=trace, evidence=evidence,
                                        meta=meta)

    def flush(self, timeout_seconds: float | None = None) -> bool:
        """Send everything queued so far (``run.flush``); True when nothing is pending."""
        return self.run.flush(5.0 if timeout_seconds is None else timeout_seconds)

    def complete(self, reason: str | None = None, timeout_seconds: float | None = None) -> bool:
        """End the backing run as completed (``reason`` is not needed for it and ignored)."""
        del reason
        return self.run.finish(timeout_seconds)

    def fail(self, reason: str | None = None, timeout_seconds: float | None = None) -> bool:
        """End the backing run as failed with ``reason``."""
        return self.run.fail(reason, timeout_seconds)

    def abort(self, reason: str | None = None, timeout_seconds: float | None = None) -> bool:
        """End the backing run as aborted with ``reason``."""
        return self.run.abort(reason, timeout_seconds)

    def __enter__(self) -> RundialEvalRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.run.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"<rundial.RundialEvalRun {self.eval_run_id} run={self.run.run_id}>"
