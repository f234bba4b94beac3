"""The end of a run: ``flush``, ``finish``/``fail``/``abort`` and leaving ``with run:``.

``flush`` sends what is queued so far (artifacts and spans waiting for evidence uploads
included); it returns False when ``timeout_s`` passes first. ``finish``/``fail``/``abort``
stop the producers (sampler, console capture), drain, send within ``timeout_s`` (default
``finish_timeout_seconds``, 5 s), send the status, spool the rest and print one line when
anything is pending; they never hang. Only the first end sends a status: a later call returns
the first result when it asks for the same status, else False. A run marked by SIGTERM
(``_run.signals``) ends as ``killed`` whatever was asked. Leaving ``with run:`` (or an uncaught
exception, through ``sys.excepthook``) ends the run with ``_run.exit.status_for``'s status; unless
that is ``completed``, the run was killed or the exception is a ``SystemExit``, the traceback is
logged first as one error line.

:class:`RunEnd` does all of it for one :class:`rundial.Run`, whose methods delegate to it. It
is handed what it works on: the run's queue, wake event and worker (again after a fork,
:meth:`RunEnd.use_pipeline`), its producers (``_run.producers.RunEvents``), its artifacts and
its summary, plus the run's own callbacks (see :class:`RunEnd`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from rundial._config import Settings
from rundial._pipeline.registrar import FAILED, PENDING, status_payload
from rundial._pipeline.worker import Worker
from rundial._run import signals
from rundial._run.exit import status_for
from rundial._run.artifacts import RunArtifacts
from rundial._run.producers import RunEvents
from rundial._run.runconfig import Summary

FLUSH_POLL_S = 0.01


class RunEnd:
    """Flush and end one run; holds its end state (``status``, ``result``, ``kill``).

    The run's callbacks: ``update_config`` (the summary is sent as config at the end),
    ``start_worker`` (``flush`` starts a worker not started yet), ``close_queue`` (from then on
    ``log`` drops and counts what it is given) and ``untrack`` (the ``atexit`` hook forgets the
    run). ``clocks`` is ``(monotonic, wall)``; ``manual`` (tests) cycles the worker inline.
    """

    __slots__ = ("_settings", "_queue", "_wake", "_worker", "_events", "_artifacts", "_summary",
                 "_update_config", "_start_worker", "_close_queue", "_untrack", "_clocks",
                 "_manual", "_lock", "status", "result", "kill")

    def __init__(self, settings: Settings, *, queue: deque[Any], wake: threading.Event,
                 worker: Worker, events: RunEvents, artifacts: RunArtifacts, summary: Summary,
                 update_config: Callable[[Mapping[str, Any]], object],
                 start_worker: Callable[[], None], close_queue: Callable[[], None],
                 untrack: Callable[[], None],
                 clocks: tuple[Callable[[], float], Callable[[], float]], manual: bool) -> None:
        self._settings = settings
        self.use_pipeline(queue, wake, worker)
        self._events = events
        self._artifacts = artifacts
        self._summary = summary
        self._update_config = update_config
        self._start_worker = start_worker
        self._close_queue = close_queue
        self._untrack = untrack
        self._clocks = clocks
        self._manual = manual
        self._lock = threading.Lock()
        self.status: str | None = None  # set by the first end
        self.result: bool | None = None
        self.kill: tuple[str, str] | None = None  # (status, reason) once a SIGTERM marked the run

    def use_pipeline(self, queue: deque[Any], wake: threading.Event, worker: Worker) -> None:
        """Work on this queue, wake event and worker (a forked child gets new ones)."""
        self._queue, self._wake, self._worker = queue, wake, worker

    def forget_after_fork(self) -> None:
        """In a forked child: a fresh lock (another thread of the parent may have held it)."""
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """The run's state: its end status once ended (``killed`` included), else ``offline``
        in offline mode, else from registration: ``starting``, ``registration_failed`` or
        ``running``."""
        if self.status is not None:
            return self.status
        if self._settings.mode == "offline":
            return "offline"
        registrar = self._worker.registrar.state
        return {PENDING: "starting", FAILED: "registration_failed"}.get(registrar, "running")

    def mark_killed(self, reason: str) -> None:
        """From the SIGTERM handler: end as ``killed`` whenever the run finishes (no I/O)."""
        self.kill = ("killed", reason)

    def flush(self, timeout_s: float) -> bool:
        """``Run.flush``: cycle or wake the worker until the queue, the spool and the artifacts
        are drained (True) or ``timeout_s`` passes (False)."""
        clock = self._clocks[0]
        deadline = clock() + timeout_s
        while True:
            if self._manual:
                self._worker.safe_cycle()
            elif self._worker.thread is None:
                self._start_worker()
            if self._drained():
                if not self._artifacts.flush(max(0.0, deadline - clock())):
                    return False
                if self._drained():  # an evidence upload may have queued its span meanwhile
                    return True
            if clock() >= deadline:
                return False
            self._wake.set()
            time.sleep(FLUSH_POLL_S)

    def _drained(self) -> bool:
        worker = self._worker
        if self._queue or worker.busy:
            return False
        if self._settings.mode == "offline":
            return True
        return not worker.pump.has_work() and not worker.registrar.needs_network

    def end(self, status: str, reason: str | None, timeout_s: float | None) -> bool:
        """Drain, send until the deadline, send the status, spool the rest (never hangs).

        Returns True when every point and the status reached the collector (offline: when
        everything is in the spool). A second call returns the first result if the status is
        the same, else False.
        """
        with signals.finishing():
            return self._end_once(status, reason, timeout_s)

    def _end_once(self, status: str, reason: str | None, timeout_s: float | None) -> bool:
        with self._lock:
            if self.status is not None:
                return bool(self.result) if status == self.status else False
            if self.kill is not None:
                status, reason = self.kill
                self._events.log_kill(reason)
            self.status = status
        timeout = self._settings.finish_timeout_seconds if timeout_s is None else timeout_s
        clock, wall = self._clocks
        deadline = clock() + max(0.0, timeout)
        try:
            # the last console lines and spans go in first
            self._guarded(lambda: self._events.stop(max(0.0, timeout)))
            self._close_queue()
            self._guarded(self._send_summary)
            worker = self._worker
            final = status_payload(status, int(wall() * 1000), reason) if worker.registering else None
            delivered = self._guarded(lambda: worker.finish(final, deadline))
            uploads_done = self._guarded(lambda: self._artifacts.close(max(0.0, deadline - clock())))
            self.result = bool(delivered and uploads_done)
        finally:
            self._close_queue()
            self._untrack()
        return bool(self.result)

    def _send_summary(self) -> None:
        if self._summary.assigned:
            self._update_config({f"summary.{k}": v for k, v in self._summary.assigned.items()})

    def _guarded(self, step: Callable[[], Any]) -> Any:
        """Run one step of the end; an unexpected error is counted (``worker_error``, last_error)
        and returns False, so no later step (drain, spool, final status) is ever skipped."""
        try:
            return step()
        except Exception as exc:
            self._worker._worker_error(exc)
            return False

    def exit(self, exc_type: type[BaseException] | None, exc: BaseException | None,
             tb: TracebackType | None) -> None:
        """Leave ``with run:`` (or crash): log why, unless completed or killed, then end."""
        status, reason = status_for(exc_type, exc)
        if status != "completed" and self.kill is None:
            self._events.log_exit(exc_type, exc, tb)
        self.end(status, reason, None)
