"""The non-metric producers of one run: log lines, traces, console capture, the system sampler.

All of them feed the run's one queue through the run's own append function (``push``, the same
threshold, capacity and wake as ``log``), so they share the metrics pipeline (worker, spool,
delivery) and its bounds. :class:`RunEvents` holds them; :class:`rundial.Run`'s ``log_text``,
``trace`` and ``tool_call`` delegate to it:

* log lines (``run.log_text``) and the lines the end of a run logs (a SIGTERM, the traceback
  that ended ``with run:``) are queued at once;
* spans (``run.trace``/``run.tool_call``) are queued when they end — after their evidence
  uploads when they carry values over 16 KiB (``_producers.evidence``); eval result rows
  logged inside a span are queued right after it (``_run.evals``);
* console lines (``capture_console=True``) are queued only while the queue is below capacity:
  a flood of output is dropped and counted (``dropped_log_lines_queue_full``) instead of
  evicting metric rows; a NUL in them arrives as U+FFFD (``_producers.console``);
* system samples start with the worker (never in manual test mode) and stop at finish.

:meth:`RunEvents.stop` runs at the start of ``finish`` (before the final drain): it stops the
sampler, restores the console streams (emitting pending partial lines) and gives evidence
uploads part of the finish budget before queueing their spans with markers.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rundial._config import Settings
from rundial._diagnostics import REASON_QUEUE_FULL, Counters
from rundial._producers.console import ConsoleCapture
from rundial._producers.evidence import BlobUploader, EvidenceUploads
from rundial._producers.sysmetrics import SystemSampler
from rundial._producers.trace import Tracer
from rundial._run.evals import HeldResults
from rundial._run.validate import as_time_ms
from rundial._values import without_nul
from rundial._wire.logs import LEVELS, cut_tail, level_of, message_of

EVIDENCE_SHARE = 0.5  # at finish, evidence uploads may use half of the remaining budget
POLL_S = 0.01
_time_ns = time.time_ns


class RunEvents:
    """Tracer, evidence, console and sampler of one run (see the module docstring)."""

    def __init__(self, settings: Settings, *, push: Callable[[Any], None],
                 depth: Callable[[], int], counters: Callable[[], Counters],
                 uploader: Callable[[], BlobUploader | None]) -> None:
        self._settings = settings
        self._push = push
        self._depth = depth
        self._counters = counters
        self._uploader = uploader
        self.evidence = EvidenceUploads(push, counters(), uploader,
                                        offline=settings.mode != "online")
        self.held = HeldResults(push)
        self.tracer = Tracer(self._span_ended)
        self.console: ConsoleCapture | None = None
        self.sampler: SystemSampler | None = None
        self._may_sample = settings.system_metrics

    def log_text(self, message: str, level: str = "info", *, timestamp_ms: int | None = None,
                 time_ms: int | None = None) -> bool:
        """Queue one log line; returns True. Never does I/O (waits like ``log`` when the queue is full).

        ``level``: ``debug``, ``info``, ``warn``, ``error`` (also ``trace``, ``fatal``, and
        ``warning`` for ``warn``); anything else raises ``ValueError``. A non-str message is
        converted with ``str()``; one holding NUL (U+0000) or a lone surrogate raises
        ``ValueError`` naming ``message`` (the collector would reject the line; no request could
        carry the surrogate), in every mode, and nothing is queued. Messages over
        8 KiB (UTF-8) are cut by the worker and sent with ``truncated: true`` (counted in
        ``log_lines_truncated``).
        """
        found = LEVELS.get(level) if type(level) is str else None
        if found is None:
            found = level_of(level)
        message = message_of(message)
        when = time_ms if time_ms is not None else timestamp_ms
        self._push([_time_ns() // 1_000_000 if when is None else as_time_ms(when), found,
                    message, False])
        return True

    def _span_ended(self, span: Any) -> None:
        """Hand an ended span on (evidence first), then queue eval rows held for it."""
        self.evidence.submit(span)
        self.held.release(span.span_id)

    def log_kill(self, reason: str) -> None:
        """Log that a signal (``reason``) ends the run as killed."""
        self._push([_time_ns() // 1_000_000, "warn",
                    f"rundial: {reason} received; the run ends as killed", False])

    def log_exit(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Log why the run ends: the formatted traceback (its last 8 KiB) as one error line,
        each NUL in it replaced by U+FFFD (the collector would reject the line)."""
        if exc_type is not None and not issubclass(exc_type, (SystemExit, GeneratorExit)):
            text = without_nul("".join(traceback.format_exception(exc_type, exc, tb)))
            message, cut = cut_tail(text)
            self._counters().lines_truncated(int(cut))
            self._push([_time_ns() // 1_000_000, "error", message, cut])

    def _push_console(self, level: str, message: str) -> None:
        """Queue a captured console line unless the queue is full (then drop and count it)."""
        if self._depth() >= self._settings.queue_capacity:
            counters = self._counters()
            counters.drop_line_queue_full()
            counters.drop(REASON_QUEUE_FULL, 1)
            return
        self._push([_time_ns() // 1_000_000, level, message, False])

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
        """Called by the worker every cycle: emit progress lines whose window elapsed, and
        queue open copies of long-open spans (``_producers.open_spans``)."""
        console = self.console
        if console is not None:
            console.poll()
        if len(self.tracer.open_spans):
            self.tracer.ship_open(self._push)

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
        self.held.release_all()

    def forget_after_fork(self, counters: Counters) -> None:
        """In a forked child: no system metrics (the parent samples the machine; a child's epoch
        -second steps would overwrite its points); evidence counts go to the child's counters."""
        self._may_sample = False
        if self.sampler is not None:
            self.sampler.forget_after_fork()
            self.sampler = None
        self.evidence = EvidenceUploads(self._push, counters, self._uploader,
                                        offline=self._settings.mode != "online")
        self.held = HeldResults(self._push)
        self.tracer.open_spans.forget_after_fork()


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
