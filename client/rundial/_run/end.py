"""The end of a run: ``flush``, ``finish``/``fail``/``abort`` and leaving ``with run:``.

``flush`` sends what is queued so far (artifacts and spans waiting for evidence uploads
included); it returns False when ``timeout_s`` passes first. ``finish``/``fail``/``abort``
stop the producers (sampler, console capture), drain, send within ``timeout_s`` (default
``finish_timeout_seconds``, 5 s), send the status, spool the rest and print one line when
anything is pending; they never hang. Only the first end sends a status: a later call returns
the first result when it asks for the same status, else False. A run marked by SIGTERM
(``_signals``) ends as ``killed`` whatever was asked. Leaving ``with run:`` (or an uncaught
exception, through ``sys.excepthook``) ends the run with ``_exit.status_for``'s status; unless
that is ``completed``, the run was killed or the exception is a ``SystemExit``, the traceback is
logged first as one error line."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from rundial._config import Settings
from rundial._pipeline.registrar import status_payload
from rundial._pipeline.worker import Worker
from rundial._run import exit as _exit
from rundial._run import signals as _signals
from rundial._run.artifacts import RunArtifacts
from rundial._run.producers import RunEvents
from rundial._run.runconfig import Summary

FLUSH_POLL_S = 0.01


class RunEnd:
    """The run's flush and end methods (mixed into :class:`rundial.Run`).

    Relies on the run's ``_queue``, ``_wake``, ``_wake_at``, ``_worker``, ``_settings``,
    ``_clocks``, ``_manual``, ``_lock``, ``_closed``, ``_result``, ``_status``, ``_kill``,
    ``_registering``, ``_events``, ``_artifacts``, ``summary``, ``update_config``,
    ``_start_worker``, ``_log_kill`` and ``_log_exit``.
    """

    __slots__ = ()
    _queue: deque[Any]
    _wake: threading.Event
    _wake_at: int
    _worker: Worker
    _settings: Settings
    _clocks: tuple[Callable[[], float], Callable[[], float]]
    _manual: bool
    _lock: threading.Lock
    _closed: bool
    _result: bool | None
    _status: str | None
    _kill: tuple[str, str] | None
    _registering: bool
    _events: RunEvents
    _artifacts: RunArtifacts
    summary: Summary

    if TYPE_CHECKING:  # provided by Run and RunEventMethods; no stubs at runtime to shadow them
        def update_config(self, config: Mapping[str, Any]) -> bool: ...

        def _start_worker(self) -> None: ...

        def _log_kill(self) -> None: ...

        def _log_exit(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                      tb: TracebackType | None) -> None: ...

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Send everything queued so far (artifacts and spans waiting for evidence uploads
        included); True when nothing is left pending (False at timeout)."""
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

    def finish(self, timeout_s: float | None = None) -> bool:
        """Mark the run completed; see :meth:`_end`."""
        return self._end("completed", None, timeout_s)

    close = complete = finish

    def fail(self, reason: str | None = None, timeout_s: float | None = None) -> bool:
        """Mark the run failed with ``reason``."""
        return self._end("failed", reason, timeout_s)

    def abort(self, reason: str | None = None, timeout_s: float | None = None) -> bool:
        """Mark the run aborted with ``reason``."""
        return self._end("aborted", reason, timeout_s)

    def _end(self, status: str, reason: str | None, timeout_s: float | None) -> bool:
        """Drain, send until the deadline, send the status, spool the rest (never hangs).

        Returns True when every point and the status reached the collector (offline: when
        everything is in the spool). A second call returns the first result if the status is
        the same, else False.
        """
        with _signals.finishing():
            return self._end_once(status, reason, timeout_s)

    def _end_once(self, status: str, reason: str | None, timeout_s: float | None) -> bool:
        with self._lock:
            if self._status is not None:
                return bool(self._result) if status == self._status else False
            if self._kill is not None:
                status, reason = self._kill
                self._log_kill()
            self._status = status  # type: ignore[misc]  # a slot of Run, this mixin's host
        timeout = self._settings.finish_timeout_seconds if timeout_s is None else timeout_s
        clock, wall = self._clocks
        deadline = clock() + max(0.0, timeout)
        try:
            # the last console lines and spans go in first
            self._guarded(lambda: self._events.stop(max(0.0, timeout)))
            self._closed, self._wake_at = True, -1  # type: ignore[misc]  # slots of Run
            self._guarded(self._send_summary)
            final = status_payload(status, int(wall() * 1000), reason) if self._registering else None
            delivered = self._guarded(lambda: self._worker.finish(final, deadline))
            uploads_done = self._guarded(lambda: self._artifacts.close(max(0.0, deadline - clock())))
            self._result = bool(delivered and uploads_done)  # type: ignore[misc]  # a slot of Run
        finally:
            self._closed, self._wake_at = True, -1  # type: ignore[misc]  # slots of Run
            _exit.untrack(self)
        return bool(self._result)

    def _send_summary(self) -> None:
        if self.summary.assigned:
            self.update_config({f"summary.{k}": v for k, v in self.summary.assigned.items()})

    def _guarded(self, step: Callable[[], Any]) -> Any:
        """Run one step of the end; an unexpected error is counted (``worker_error``, last_error)
        and returns False, so no later step (drain, spool, final status) is ever skipped."""
        try:
            return step()
        except Exception as exc:
            self._worker._worker_error(exc)
            return False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        status, reason = _exit.status_for(exc_type, exc)
        if status != "completed" and self._kill is None:
            self._log_exit(exc_type, exc, tb)
        self._end(status, reason, None)

    _crash = __exit__  # sys.excepthook (``_signals``): an uncaught exception ends open runs
