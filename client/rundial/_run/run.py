"""A logging run: the ``log`` hot path and the run's lifecycle.

Hot path: ``log`` checks its arguments' types (not each key), copies the mapping, stamps the
wall clock and appends one record to a deque — no lock, no I/O. Only when the queue holds
``flush_at_records`` or more does it take the rare branch: wake the worker (checking
``is_set()`` first), start it lazily (``start_worker_on_init=False``, or after a fork), and,
beyond ``queue_capacity``, apply the queue-full policy (``_run.queue_full``): wait for the worker
(bounded by ``queue_full_wait_seconds``, the default) or drop the oldest records at once
(``on_queue_full="drop"``); drops are counted (``queue_full``).
Values are validated by the worker: NaN/inf and non-numeric values are dropped there, counted
per key and warned about once per key. Nothing here waits for the network or the disk.

Log lines, spans and system samples share that queue (producers: ``_run.producers.RunEvents``,
records: ``_wire.records``): the worker tells records apart by type, so ``log`` pays nothing for them.

Exit (``_run.end.RunEnd``, composed; ``Run``'s methods delegate): ``flush``,
``finish``/``fail``/``abort`` and ``with run:``; they never hang.
``atexit`` finishes runs left open; a SIGTERM makes the status ``killed`` (``_run.signals``).
Fork: the child gets a fresh queue and worker (see ``_run.fork`` and ``_run.writer``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from rundial._artifacts.handle import ArtifactHandle
from rundial._config import Settings
from rundial._diagnostics import REASON_AFTER_FINISH, Counters, Diagnostics, snapshot
from rundial._http.transport import Transport
from rundial._producers.trace import Span
from rundial._published import FLUSH_TIMEOUT_SECONDS, end_args, required, timeout_arg
from rundial._run import exit, fork
from rundial._run.artifacts import RunArtifacts
from rundial._run.end import RunEnd
from rundial._run.evals import log_eval_result
from rundial._run.producers import RunEvents, drop_points
from rundial._run.runconfig import Summary, flatten_config
from rundial._run.validate import as_metrics, as_step, as_time_ms
from rundial._run.writer import RunWriters
from rundial._values import require_utf8_text
from rundial._warn import warn_user

_time_ns = time.time_ns


class Run:
    """A run that logs. Create it with :func:`rundial.init`; use it as a context manager.

    ``log`` never does I/O, never raises for network or disk trouble, and waits only while the
    queue is full (bounded by ``queue_full_wait_seconds``). See the module docstrings
    (here and ``_run.end``) for queue-full, exit and fork behaviour, and ``docs/sdk.md`` for the
    whole contract.
    """

    __slots__ = ("_queue", "_wake", "_wake_at", "_steps", "_capacity", "_flush_at", "_worker",
                 "_counters", "_settings", "_writers", "_closed", "_manual", "_config", "_warned",
                 "_artifacts", "_events", "_end", "_full", "summary", "id", "rank", "__weakref__")

    def __init__(self, settings: Settings, doc: dict[str, Any], header: dict[str, Any], *,
                 rank: int = 0, registering: bool = True, transport: Transport | None = None,
                 clock: Any = time.monotonic, wall: Any = time.time, manual: bool = False) -> None:
        self._settings = settings
        self._manual = manual
        self._capacity = settings.queue_capacity
        self._flush_at = min(settings.flush_at_records, settings.queue_capacity)
        self._steps = itertools.count()
        self._closed = False
        self._warned: set[str] = set()
        self._config, cuts = flatten_config(settings.config, where="rd.init()")
        self.summary = Summary()
        self.id: str = doc["runId"]
        self.rank = rank
        self._artifacts = RunArtifacts(settings, header, self.id)
        self._counters = Counters(config_truncations=cuts)
        self._events = RunEvents(settings, push=self._push, depth=lambda: len(self._queue),
                                 counters=lambda: self._counters,
                                 uploader=self._artifacts.blob_uploader)
        self._writers = RunWriters(settings, doc, header, registering=registering,
                                   transport=transport, clocks=(clock, wall), manual=manual,
                                   on_row=self.summary.last.update,
                                   media_sink=self._artifacts.route_media,
                                   on_cycle=self._events.poll, warn=self._warn_once)
        self._new_pipeline(self._counters)
        self._end = RunEnd(settings, queue=self._queue, wake=self._wake, worker=self._worker,
                           events=self._events, artifacts=self._artifacts, summary=self.summary,
                           update_config=lambda entries: self._merge_summary(entries),
                           start_worker=self._start_worker,
                           close_queue=self._close_queue, untrack=lambda: exit.untrack(self),
                           clocks=(clock, wall), manual=manual)
        self._events.start_console()
        exit.track(self)
        fork.on_fork_in_child(self._after_fork_in_child)

    def _new_pipeline(self, counters: Counters, force_lazy: bool = False) -> None:
        """A new writer's queue, worker and queue-full policy (``_run.writer``); the worker
        starts now unless it starts lazily (manual mode, after a fork, or by setting)."""
        self._counters = counters
        p = self._writers.build(counters)
        self._queue, self._wake, self._worker, self._full = p.queue, p.wake, p.worker, p.full
        lazy = self._manual or force_lazy or not self._settings.start_worker_on_init
        self._wake_at = self._flush_at if self._manual else (0 if lazy else self._flush_at)
        if not lazy:
            self._start_worker()

    def _start_worker(self) -> None:
        """Start the worker thread, and system metrics with it (never in manual mode)."""
        self._worker.start()
        if not self._manual:
            self._events.start_sampler()

    # -- hot path ------------------------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None,
            time_ms: int | None = None, context: Mapping[str, str] | None = None) -> bool:
        """Queue one row of metrics; returns True. Never does I/O.

        ``step=None`` takes the next value of this run's counter (0, 1, 2, ...); explicit steps
        must be non-negative ints and do not advance it. Raises TypeError/ValueError only for an
        unusable argument (not a mapping, empty, bad step or time). When the queue is full it
        waits for the worker, at most ``queue_full_wait_seconds`` per stall episode, then drops
        and counts (``on_queue_full="drop"``: drops the oldest at once; see ``_run.queue_full``).
        ``context`` is accepted for compatibility and ignored (with one warning).
        """
        if type(metrics) is dict and metrics:
            row = metrics.copy()
        else:
            row = as_metrics(metrics)
        if step is None:
            step = next(self._steps)
        elif type(step) is not int or step < 0:
            step = as_step(step)
        queue = self._queue
        queue.append((step, _time_ns() // 1_000_000 if time_ms is None else as_time_ms(time_ms), row))
        if len(queue) >= self._wake_at or context is not None:
            self._on_threshold(context)
        return True

    def log_metric(self, metric_key: str | None = None, value: Any = None,
                   step: int | None = None, *, time_ms: int | None = None,
                   timestamp_ms: int | None = None, context: Mapping[str, str] | None = None,
                   key: str | None = None) -> bool:
        """Log one metric: ``log({metric_key: value}, step=step, time_ms=time_ms)``.

        ``key`` is our earlier name for ``metric_key``; ``TypeError`` when both or neither are
        given, or when the name is not a non-empty str."""
        name = required("log_metric", "metric_key", metric_key, "key", key)
        if not isinstance(name, str) or not name:
            raise TypeError("metric_key must be a non-empty str")
        return self.log({name: value}, step, time_ms if time_ms is not None else timestamp_ms,
                        context)

    def _on_threshold(self, context: Mapping[str, str] | None = None) -> None:
        """Rare branch of ``log``: closed run, lazy start, wake the worker, queue over capacity."""
        if context is not None:
            self._warn_once("context", "rundial: log(context=...) is not supported yet; ignored")
            if len(self._queue) < self._wake_at:
                return
        if self._closed:
            self._drop_after_finish()
            return
        if self._worker.thread is None and not self._manual:
            self._wake_at = self._flush_at
            self._start_worker()
        if not self._wake.is_set():
            self._wake.set()
        if len(self._queue) > self._capacity:
            self._full.handle()

    def _push(self, record: Any) -> None:
        """Queue a record of any kind, like ``log`` does (threshold, capacity, wake)."""
        queue = self._queue
        queue.append(record)
        if len(queue) >= self._wake_at:
            self._on_threshold()

    def _close_queue(self) -> None:
        """The run ends: from now on ``log`` drops what it is given (``after_finish``)."""
        self._closed, self._wake_at = True, -1

    def _drop_after_finish(self) -> None:
        try:
            record = self._queue.pop()
        except IndexError:
            return
        drop_points(record, self._counters, REASON_AFTER_FINISH)
        self._warn_once("after_finish", "rundial: log() after finish() is ignored (counted in "
                        "diagnostics().dropped['after_finish'])")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn_user(message)

    # -- other producers (see _run.producers) ---------------------------------------------
    def log_text(self, message: str, level: str = "info", *, timestamp_ms: int | None = None,
                 time_ms: int | None = None) -> bool:
        """Queue one log line; returns True. Never does I/O (waits like ``log`` when the queue
        is full). ``ValueError`` for an unknown ``level``; see :meth:`RunEvents.log_text`."""
        return self._events.log_text(message, level, timestamp_ms=timestamp_ms, time_ms=time_ms)

    def trace(self, name: str, kind: str = "internal", attrs: Mapping[str, Any] | None = None,
              trace_id: str | None = None, parent_span_id: str | None = None) -> Span:
        """A span to use as ``with run.trace(name, attrs=...) as span:`` (see ``_producers.trace``).

        Spans opened inside it are its children; it is queued when it ends. An empty
        ``trace_id`` is None; an empty ``parent_span_id`` makes a root. ``ValueError`` for an
        unknown ``kind``, a lone surrogate in the name or an id, a ``trace_id`` over 128
        characters or NUL in the name or an id (the collector's rules, in every mode);
        ``TypeError`` when ``attrs`` is not a mapping or ``trace_id``/``parent_span_id`` is
        neither a str nor None.
        """
        return self._events.tracer.trace(name, kind, attrs, trace_id, parent_span_id)

    def tool_call(self, name: str, input: Any = None, output: Any = None,
                  attrs: Mapping[str, Any] | None = None, status: str = "ok") -> bool:
        """Queue a finished ``tool`` span ``tool:<name>`` (child of the open span); True.
        ``ValueError`` when ``name`` holds NUL or a lone surrogate (in every mode)."""
        self._events.tracer.tool_call(name, input, output, attrs, status)
        return True

    def log_eval_result(self, eval_run_id: str, example_id: str, *, scores: Mapping[str, Any],
                        passed: Mapping[str, bool] | bool | None = None, trace: Any = None,
                        evidence: Mapping[str, Any] | None = None,
                        meta: Mapping[str, Any] | None = None) -> bool:
        """Queue one result row per scorer of ``scores`` for eval run ``eval_run_id``; True.
        Never does I/O; inside an open span the rows wait for it to end. ``TypeError`` or
        ``ValueError`` for an unusable argument (see ``_run.evals``)."""
        events = self._events
        return log_eval_result(events.tracer.current(), events.held, self._push, eval_run_id,
                               example_id, scores=scores, passed=passed, trace=trace,
                               evidence=evidence, meta=meta)

    # -- artifacts (see _run.artifacts: a dedicated uploader, started on first use) -------
    def log_artifact(self, path_or_dir: str | Path | None = None, name: str | None = None,
                     type: str | None = None, metadata: Mapping[str, Any] | None = None,
                     aliases: list[str] | None = None,
                     retention_policy: Mapping[str, Any] | None = None, *,
                     path: str | Path | None = None) -> bool:
        """Queue a file or directory for upload; returns at once (False when the queue is full).

        Raises ``ValueError`` when ``path_or_dir`` (our earlier name: ``path``) does not exist.
        Hashing and upload happen on the artifact worker; an interrupted upload is resumed by
        the next process or ``rundial sync``.
        """
        target = required("log_artifact", "path_or_dir", path_or_dir, "path", path)
        return self._artifacts.log_artifact(target, name=name, type=type, metadata=metadata,
                                            aliases=aliases, retention_policy=retention_policy)

    def checkpoint(self, model_path: str | Path | None = None, step: int | None = None,
                   name: str = "checkpoint", metadata: Mapping[str, Any] | None = None,
                   keep_last: int | None = 5, *, path: str | Path | None = None) -> bool:
        """Queue a checkpoint (type ``checkpoint``, alias ``latest``, keep the last ``keep_last``);
        ``path`` is our earlier name for ``model_path``."""
        target = required("checkpoint", "model_path", model_path, "path", path)
        return self._artifacts.checkpoint(target, step=step, name=name, metadata=metadata,
                                          keep_last=keep_last)

    def use_artifact(self, artifact_ref: str | None = None, *,
                     ref: str | None = None) -> ArtifactHandle:
        """Resolve ``name:alias``, ``name:vN`` or ``name`` and record that this run used it.

        Blocking (one request). The handle's ``download(dir)`` verifies every file's sha256.
        ``ref`` is our earlier name for ``artifact_ref``.
        """
        return self._artifacts.use_artifact(
            required("use_artifact", "artifact_ref", artifact_ref, "ref", ref))

    # -- the end (see _run.end) ------------------------------------------------------------
    # ``timeout_s`` is our earlier name for ``timeout_seconds`` (``rundial._published``).
    def flush(self, timeout_seconds: float | None = None, *,
              timeout_s: float | None = None) -> bool:
        """Send everything queued so far (artifacts and spans waiting for evidence uploads
        included); True when nothing is left pending, False once ``timeout_seconds`` (None:
        5 s; never unbounded) passed."""
        timeout = timeout_arg("flush", timeout_seconds, timeout_s)
        return self._end.flush(FLUSH_TIMEOUT_SECONDS if timeout is None else timeout)

    def finish(self, timeout_seconds: float | None = None, *, status: str = "completed",
               reason: str | None = None, timeout_s: float | None = None) -> bool:
        """End the run with ``status`` (``completed``, ``failed`` or ``aborted``) and ``reason``;
        see :meth:`RunEnd.end` (never hangs; None: ``finish_timeout_seconds``)."""
        return self._end.end(*end_args("finish", status, reason, timeout_seconds, timeout_s))

    close = finish

    def complete(self, reason: str | None = None, timeout_seconds: float | None = None, *,
                 timeout_s: float | None = None) -> bool:
        """Mark the run completed with ``reason``."""
        return self._end.end(*end_args("complete", "completed", reason, timeout_seconds, timeout_s))

    def fail(self, reason: str | None = None, timeout_seconds: float | None = None, *,
             timeout_s: float | None = None) -> bool:
        """Mark the run failed with ``reason``."""
        return self._end.end(*end_args("fail", "failed", reason, timeout_seconds, timeout_s))

    def abort(self, reason: str | None = None, timeout_seconds: float | None = None, *,
              timeout_s: float | None = None) -> bool:
        """Mark the run aborted with ``reason``."""
        return self._end.end(*end_args("abort", "aborted", reason, timeout_seconds, timeout_s))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._end.exit(exc_type, exc, tb)

    _crash = __exit__  # sys.excepthook (``_run.signals``): an uncaught exception ends open runs

    def _mark_killed(self, reason: str) -> None:
        """From the SIGTERM handler: end as ``killed`` whenever the run finishes (no I/O)."""
        self._end.mark_killed(reason)

    # -- configuration and state ----------------------------------------------------------
    def update_config(self, config: Mapping[str, Any], *, timeout_seconds: float = 5.0) -> bool:
        """Merge ``config`` (flattened per protocol §11.6) into the run's config.

        Sent by the worker after registration (merged into the start request before it);
        returns True once queued, without waiting (so within any ``timeout_seconds``, which is
        checked and otherwise unused) — delivery failures show up in ``diagnostics().last_error``.
        ``ValueError`` naming the dotted key when a key or value holds a lone surrogate (no
        request can carry it); nothing of ``config`` is merged then.
        """
        timeout_arg("update_config", timeout_seconds, None)
        self._merge_config(flatten_config(config, where="run.update_config()"))
        return True

    def _merge_summary(self, entries: Mapping[str, Any]) -> None:
        """At finish: the assigned summary entries; one that cannot be sent any more (a value
        changed after its assignment) is dropped with a warning, counted, and the rest sent."""
        self._merge_config(flatten_config(entries, strict=False))

    def _merge_config(self, flattened: tuple[dict[str, Any], int]) -> None:
        flat, cuts = flattened
        self._counters.config_truncations += cuts
        self._config.update(flat)
        self._worker.registrar.update_config(flat)

    def _update_meta(self, fields: Mapping[str, Any]) -> None:
        """Set ``runName``/``tags``/``notes`` after init (for the import-swap shims): name and tags
        in the start request before registration, a run edit after it (notes always as an edit;
        ``Registrar.update_meta``). No I/O here. ``ValueError`` naming the field when a text in
        it holds a lone surrogate (the start request or edit could never be sent)."""
        for field, value in fields.items():
            require_utf8_text(f"run {field}", value)
        self._worker.registrar.update_meta(dict(fields))

    @property
    def config(self) -> dict[str, Any]:
        """The run's flattened config (a copy)."""
        return dict(self._config)

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def name(self) -> str | None:
        return self._settings.name

    @property
    def project(self) -> str | None:
        return self._settings.project

    @property
    def workspace(self) -> str | None:
        return self._settings.workspace

    @property
    def project_id(self) -> str | None:
        """The collector's id of the run's project once registered; until then the ``project``
        given without ``workspace`` (it is the project id then), else None."""
        resolved = self._worker.registrar.project_id
        return resolved or (None if self._settings.workspace else self._settings.project)

    @property
    def kind(self) -> str:
        """``training``, ``agent`` or ``eval``."""
        return self._settings.kind

    @property
    def mode(self) -> str:
        return self._settings.mode

    @property
    def state(self) -> str:
        """``starting`` (registration pending), ``running``, ``registration_failed``, ``offline``,
        or after finishing ``completed``/``failed``/``aborted`` (see :attr:`RunEnd.state`)."""
        return self._end.state

    def diagnostics(self) -> Diagnostics:
        """A snapshot of the delivery pipeline's counters (cheap; safe from any thread)."""
        spool = self._worker.spool
        return snapshot(self._counters, mode=self._settings.mode, queue_depth=len(self._queue),
                        spool_segments=len(spool), spool_bytes=spool.total_bytes,
                        worker_running=self._worker.alive or self._manual, state=self.state,
                        artifacts=self._artifacts.diagnostics())

    def __repr__(self) -> str:
        return f"<rundial.Run {self.id} {self.state}>"

    # -- fork ----------------------------------------------------------------------------
    def _after_fork_in_child(self) -> None:
        """Fresh queue, event, lock, writer and counters; the parent's files are never touched."""
        self._writers.forget_after_fork(self._worker)
        self._end.forget_after_fork()
        self._artifacts.forget_after_fork()
        self._new_pipeline(Counters(), force_lazy=True)
        self._end.use_pipeline(self._queue, self._wake, self._worker)
        self._events.forget_after_fork(self._counters)
        if self._closed:
            self._wake_at = -1
