"""The non-metric producers of one run: traces, console capture and the system sampler.

All of them feed the run's one queue through the run's own append functions, so they share the
metrics pipeline (worker, spool, delivery) and its bounds:

* spans (``run.trace``/``run.tool_call``) are queued when they end — after their evidence
  uploads when they carry values over 16 KiB (``_evidence``);
* console lines (``capture_console=True``) are queued only while the queue is below capacity:
  a flood of output is dropped and counted (``dropped_log_lines_queue_full``) instead of
  evicting metric rows;
* system samples start with the worker (never in manual test mode) and stop at finish.

:meth:`RunEvents.stop` runs at the start of ``finish`` (before the final drain): it stops the
sampler, restores the console streams (emitting pending partial lines) and gives evidence
uploads part of the finish budget before queueing their spans with markers.
"""

from __future__ import annotations

import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from rundial._config import Settings
from rundial._diagnostics import REASON_QUEUE_FULL, Counters
from rundial._producers.console import ConsoleCapture
from rundial._producers.evidence import BlobUploader, EvidenceUploads
from rundial._producers.sysmetrics import SystemSampler
from rundial._producers.trace import Span, Tracer
from rundial._run.validate import as_time_ms
from rundial._wire.logs import LEVELS, cut_tail, level_of

EVIDENCE_SHARE = 0.5  # at finish, evidence uploads may use half of the remaining budget
POLL_S = 0.01
_time_ns = time.time_ns


class RunEvents:
    """Tracer, evidence, console and sampler of one run (see the module docstring)."""

    def __init__(self, settings: Settings, *, push: Callable[[Any], None],
                 push_console: Callable[[str, str], None], depth: Callable[[], int],
                 counters: Callable[[], Counters],
                 uploader: Callable[[], BlobUploader | None]) -> None:
        self._settings = settings
        self._push = push
        self._push_console = push_console
        self._depth = depth
        self._counters = counters
        self._uploader = uploader
        self.evidence = EvidenceUploads(push, counters(), uploader,
                                        offline=settings.mode != "online")
        self.tracer = Tracer(self.evidence.submit)
        self.console: ConsoleCapture | None = None
        self.sampler: SystemSampler | None = None
        self._may_sample = settings.system_metrics

    def start_console(self) -> None:
        """Install console capture when ``capture_console`` is set (idempotent)."""
        if self._settings.capture_console and self.console is None:
            self.console = ConsoleCapture(self._push_console)

    def start_sampler(self) -> None:
        """Start system metrics when ``system_metrics`` is set (idempotent; with the worker)."""
        s = self._settings
        if self._may_sample and self.sampler is None:
            self.sampler = SystemSampler(self._push, self._depth, s.queue_capacity,
                                         self._counters(),
                                         interval_s=s.system_metrics_interval_seconds,
                                         threshold=s.system_metrics_backpressure_threshold,
                                         provider=s.system_metrics_provider)
            self.sampler.start()

    def poll(self) -> None:
        """Called by the worker every cycle: emit progress lines whose window elapsed."""
        console = self.console
        if console is not None:
            console.poll()

    def stop(self, budget_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Stop producing (sampler, console) and settle evidence within part of ``budget_s``."""
        if self.sampler is not None:
            self.sampler.stop(min(1.0, budget_s))
        if self.console is not None:
            self.console.restore()
            self.console = None
        wait_until = clock() + EVIDENCE_SHARE * max(0.0, budget_s)
        while self.evidence.pending and clock() < wait_until:
            time.sleep(POLL_S)
        self.evidence.settle()

    def forget_after_fork(self, counters: Counters) -> None:
        """In a forked child: no system metrics (the parent samples the machine; a child's epoch
        -second steps would overwrite its points); evidence counts go to the child's counters."""
        self._may_sample = False
        if self.sampler is not None:
            self.sampler.forget_after_fork()
            self.sampler = None
        self.evidence = EvidenceUploads(self._push, counters, self._uploader,
                                        offline=self._settings.mode != "online")
        self.tracer.submit = self.evidence.submit


class RunEventMethods:
    """The run's log-line, span and crash methods (mixed into :class:`rundial.Run`).

    Relies on the run's ``_queue``, ``_wake_at``, ``_capacity``, ``_counters``, ``_events``,
    ``_kill`` and ``_on_threshold``.
    """

    __slots__ = ()
    _queue: deque[Any]
    _wake_at: int
    _capacity: int
    _counters: Counters
    _events: RunEvents
    _kill: tuple[str, str] | None

    def _on_threshold(self, context: Any = None) -> None: ...

    def log_text(self, message: str, level: str = "info", *, timestamp_ms: int | None = None,
                 time_ms: int | None = None) -> bool:
        """Queue one log line; returns True. Never does I/O (waits like ``log`` when the queue is full).

        ``level``: ``debug``, ``info``, ``warn``, ``error`` (also ``trace``, ``fatal``, and
        ``warning`` for ``warn``); anything else raises ``ValueError``. A non-str message is
        converted with ``str()``. Messages over 8 KiB (UTF-8) are cut by the worker and sent
        with ``truncated: true`` (counted in ``log_lines_truncated``).
        """
        found = LEVELS.get(level) if type(level) is str else None
        if found is None:
            found = level_of(level)
        if type(message) is not str:
            message = str(message)
        when = time_ms if time_ms is not None else timestamp_ms
        queue = self._queue
        queue.append([_time_ns() // 1_000_000 if when is None else as_time_ms(when), found,
                      message, False])
        if len(queue) >= self._wake_at:
            self._on_threshold()
        return True

    def trace(self, name: str, kind: str = "internal", attrs: Mapping[str, Any] | None = None,
              trace_id: str | None = None, parent_span_id: str | None = None) -> Span:
        """A span to use as ``with run.trace(name, attrs=...) as span:`` (see ``_trace``).

        Spans opened inside it are its children; it is queued when it ends. ``ValueError`` for
        an unknown ``kind``, ``TypeError`` when ``attrs`` is not a mapping.
        """
        return self._events.tracer.trace(name, kind, attrs, trace_id, parent_span_id)

    def tool_call(self, name: str, input: Any = None, output: Any = None,
                  attrs: Mapping[str, Any] | None = None, status: str = "ok") -> bool:
        """Queue a finished ``tool`` span ``tool:<name>`` (child of the open span); True."""
        self._events.tracer.tool_call(name, input, output, attrs, status)
        return True

    def _push(self, record: Any) -> None:
        """Queue a record of any kind, like ``log`` does (threshold, capacity, wake)."""
        queue = self._queue
        queue.append(record)
        if len(queue) >= self._wake_at:
            self._on_threshold()

    def _push_console(self, level: str, message: str) -> None:
        """Queue a captured console line unless the queue is full (then drop and count it)."""
        if len(self._queue) >= self._capacity:
            self._counters.drop_line_queue_full()
            self._counters.drop(REASON_QUEUE_FULL, 1)
            return
        self._push([_time_ns() // 1_000_000, level, message, False])

    def _mark_killed(self, reason: str) -> None:
        """From the SIGTERM handler: end as ``killed`` whenever the run finishes (no I/O)."""
        self._kill = ("killed", reason)  # type: ignore[misc]  # a slot of Run, this mixin's host

    def _log_kill(self) -> None:
        """Log that a signal ends the run (called by ``finish`` once the run is marked)."""
        if self._kill is not None:
            self._push([_time_ns() // 1_000_000, "warn",
                        f"rundial: {self._kill[1]} received; the run ends as killed", False])

    def _log_exit(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                  tb: TracebackType | None) -> None:
        """Log why the run ends: the formatted traceback (its last 8 KiB) as one error line."""
        if exc_type is not None and not issubclass(exc_type, (SystemExit, GeneratorExit)):
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            message, cut = cut_tail(text)
            self._counters.lines_truncated(int(cut))
            self._push([_time_ns() // 1_000_000, "error", message, cut])


def drop_points(record: Any, counters: Counters, reason: str) -> int:
    """Count the loss of one queued record of any kind; returns its points."""
    if type(record) is list:
        if reason == REASON_QUEUE_FULL:
            counters.drop_line_queue_full()
        points = 1
    elif isinstance(record, tuple):
        points = len(record[2])
    else:
        points = 1
    counters.drop(reason, points)
    return points
