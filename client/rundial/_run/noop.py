"""The run object for ``mode="disabled"`` and for non-logging ranks: same API, does nothing.

Every method accepts what :class:`rundial.Run` accepts (and anything else), never touches the
network or the disk, and returns what the real run would on success — except artifacts:
``log_artifact``/``checkpoint`` return False (nothing was queued) and ``use_artifact`` raises
``RuntimeError``, because silently handing back nothing would break a resume-from-checkpoint.
It rejects what ``Run`` rejects about the published parameter names (``rundial._published``:
a name and its alias both given, a required one missing, an unknown end status, a reason that
is not a str, a timeout that is not a number), about config (``rd.init``'s ``config`` and
``update_config``: ``TypeError`` for a config that is not a mapping, ``ValueError`` naming the
dotted key for a lone surrogate), about spans (``trace``'s ``name``, ``kind``, ``attrs``,
``trace_id`` and ``parent_span_id``, ``tool_call``'s ``name``, ``attrs`` and ``status``,
``span.event``'s ``name`` and ``timestamp_ns``, ``span.set_status``'s ``status``,
``span.finish``'s ``status`` and ``end_ns``: ``rundial._producers.span_args``;
``log_eval_result``'s ``trace``: ``rundial._wire.trace_ids``) and about a ``log_text`` message
holding NUL or a lone surrogate, so a script fails alike in every mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from rundial._diagnostics import Counters, Diagnostics, snapshot
from rundial._producers.span_args import (
    check_end_args,
    check_event_args,
    check_status,
    check_tool_args,
    check_trace_args,
)
from rundial._published import end_args, required, timeout_arg
from rundial._run.runconfig import Summary, flatten_config
from rundial._wire.evals import trace_id_of
from rundial._wire.logs import message_of


class NoopRun:
    """A run that records nothing. ``state`` is ``disabled`` or ``non_logging_rank``."""

    __slots__ = ("id", "name", "project", "workspace", "mode", "kind", "rank", "state", "summary",
                 "_config")

    def __init__(self, run_id: str, *, state: str, name: str | None = None,
                 project: str | None = None, workspace: str | None = None, mode: str = "disabled",
                 rank: int = 0, config: Mapping[str, Any] | None = None,
                 kind: str = "training") -> None:
        self.id = run_id
        self.kind = kind
        self.name = name
        self.project = project
        self.workspace = workspace
        self.mode = mode
        self.rank = rank
        self.state = state
        self.summary = Summary()
        self._config = flatten_config({} if config is None else config, where="rd.init()")[0]

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def project_id(self) -> str | None:
        """The ``project`` given without ``workspace`` (nothing is resolved), else None."""
        return None if self.workspace else self.project

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def log(self, metrics: Any = None, step: Any = None, time_ms: Any = None, **_: Any) -> bool:
        """Does nothing; returns True."""
        return True

    def log_metric(self, metric_key: Any = None, value: Any = None, step: Any = None, *,
                   key: Any = None, **_: Any) -> bool:
        """Does nothing; returns True (``TypeError`` for both or neither of metric_key/key)."""
        required("log_metric", "metric_key", metric_key, "key", key)
        return True

    def log_text(self, message: Any = None, level: Any = "info", **_: Any) -> bool:
        """Does nothing; returns True. Raises what ``Run.log_text`` raises for a ``message``
        holding NUL or a lone surrogate (any ``level`` is accepted)."""
        message_of(message)
        return True

    def trace(self, name: Any = None, kind: Any = "internal", attrs: Any = None,
              trace_id: Any = None, parent_span_id: Any = None, **_: Any) -> NoopSpan:
        """A span that records nothing (usable as a context manager). Raises what
        ``Run.trace`` raises for ``name``, ``kind``, ``attrs``, ``trace_id`` and
        ``parent_span_id`` (the same checks: ``_producers.trace.check_trace_args``)."""
        check_trace_args(name, kind, attrs, trace_id, parent_span_id)
        return NoopSpan()

    def log_eval_result(self, eval_run_id: Any = None, example_id: Any = None, *,
                        trace: Any = None, **_: Any) -> bool:
        """Does nothing; returns True. Raises what ``Run.log_eval_result`` raises for
        ``trace``."""
        trace_id_of(trace)
        return True

    def tool_call(self, name: Any = None, input: Any = None, output: Any = None,
                  attrs: Any = None, status: Any = "ok", **_: Any) -> bool:
        """Does nothing; returns True. Raises what ``Run.tool_call`` raises for ``name``,
        ``attrs`` and ``status`` (the same checks: ``_producers.span_args.check_tool_args``)."""
        check_tool_args(name, attrs, status)
        return True

    def update_config(self, config: Any = None, *, timeout_seconds: Any = 5.0) -> bool:
        """Keeps the config locally; returns True. Raises what ``Run.update_config`` raises."""
        timeout_arg("update_config", timeout_seconds, None)
        self._config.update(flatten_config(config, where="run.update_config()")[0])
        return True

    def log_artifact(self, path_or_dir: Any = None, *args: Any, path: Any = None,
                     **_: Any) -> bool:
        """Does nothing; returns False (nothing was queued)."""
        required("log_artifact", "path_or_dir", path_or_dir, "path", path)
        return False

    def checkpoint(self, model_path: Any = None, *args: Any, path: Any = None, **_: Any) -> bool:
        """Does nothing; returns False (nothing was queued)."""
        required("checkpoint", "model_path", model_path, "path", path)
        return False

    def use_artifact(self, artifact_ref: Any = None, *, ref: Any = None) -> Any:
        """Raises ``RuntimeError``: resolving an artifact needs a logging run (or ``rd.Client``)."""
        required("use_artifact", "artifact_ref", artifact_ref, "ref", ref)
        raise RuntimeError(f"use_artifact is not available on a {self.state} run; call it on a "
                           "logging run (rank 0, mode='online')")

    def flush(self, timeout_seconds: Any = None, *, timeout_s: Any = None) -> bool:
        timeout_arg("flush", timeout_seconds, timeout_s)
        return True

    def finish(self, timeout_seconds: Any = None, *, status: Any = "completed",
               reason: Any = None, timeout_s: Any = None) -> bool:
        end_args("finish", status, reason, timeout_seconds, timeout_s)
        return True

    close = finish

    def complete(self, reason: Any = None, timeout_seconds: Any = None, *,
                 timeout_s: Any = None) -> bool:
        end_args("complete", "completed", reason, timeout_seconds, timeout_s)
        return True

    def fail(self, reason: Any = None, timeout_seconds: Any = None, *,
             timeout_s: Any = None) -> bool:
        end_args("fail", "failed", reason, timeout_seconds, timeout_s)
        return True

    def abort(self, reason: Any = None, timeout_seconds: Any = None, *,
              timeout_s: Any = None) -> bool:
        end_args("abort", "aborted", reason, timeout_seconds, timeout_s)
        return True

    def diagnostics(self) -> Diagnostics:
        """All-zero diagnostics."""
        return snapshot(Counters(), mode=self.mode, queue_depth=0, spool_segments=0,
                        spool_bytes=0, worker_running=False, state=self.state)

    def __enter__(self) -> NoopRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def __repr__(self) -> str:
        return f"<rundial.NoopRun {self.id} {self.state}>"


class NoopSpan:
    """The span of a :class:`NoopRun`: every method does nothing, but refuses the arguments
    :class:`rundial.Span` refuses (the same checks)."""

    __slots__ = ()
    trace_id = span_id = "0" * 16
    parent_span_id = None

    def event(self, name: Any = None, attrs: Any = None, *, timestamp_ns: Any = None) -> None:
        """Records nothing; raises what ``Span.event`` raises for ``name`` and
        ``timestamp_ns``."""
        check_event_args(name, timestamp_ns)

    def set_attrs(self, attrs: Any = None, **more: Any) -> None:
        return None

    def set_status(self, status: Any) -> None:
        """Does nothing; raises what ``Span.set_status`` raises for ``status``."""
        check_status(status)

    def finish(self, status: Any = None, *, end_ns: Any = None) -> None:
        """Does nothing; raises what ``Span.finish`` raises for ``status`` and ``end_ns``."""
        check_end_args(status, end_ns)

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
