"""The end of a worker: :meth:`WorkerExit.finish` and the shutdown it runs on the worker thread.

``finish(final, deadline)`` stops the loop, drains the queue into the spool, sends until the
deadline (one more try; jitter ignored, ``Retry-After`` honoured), sends the final status
within a reserve kept for it (a refusal, e.g. 409 because the run already holds another
terminal status, makes ``finish`` return False and is not retried later), then closes the
spool: files still pending stay for the next process or ``rundial sync`` (one line on stderr
says how many and what will send them: ``_exit_line``), batches held only in memory
(spool disabled or not writable) are dropped and counted as ``shutdown``. It never hangs: a
request still in flight at the deadline is aborted, and the thread gets
:data:`ABORT_GRACE_S` more before ``finish`` gives up on it (and says so on stderr).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rundial._config import Settings
from rundial._diagnostics import REASON_SHUTDOWN, Counters
from rundial._http.retry import Backoff
from rundial._http.transport import Transport
from rundial._pipeline.exit_line import adopted_pending_line, own_pending_line
from rundial._pipeline.registrar import DONE, FAILED, Registrar
from rundial._pipeline.sender import SpoolPump
from rundial._spool.disk import DiskSpool
from rundial._spool.runfile import remove_run_dir_if_done

ABORT_GRACE_S = 1.0  # after the deadline: abort the request, then give the worker this long
STATUS_RESERVE_S = 0.5  # part of the finish budget kept for the status call


class WorkerExit:
    """Finish and shutdown, mixed into :class:`rundial._pipeline.worker.Worker`."""

    doc: dict[str, Any]
    queue: deque[Any]
    wake: threading.Event
    counters: Counters
    clock: Callable[[], float]
    online: bool
    registering: bool
    transport: Transport
    spool: DiskSpool
    pump: SpoolPump
    registrar: Registrar
    backoff: Backoff
    thread: threading.Thread | None
    final: dict[str, Any] | None
    final_sent: bool
    final_refused: str | None
    deadline: float
    stopping: bool
    stopped: threading.Event
    _next_scan: float
    settings: Settings

    if TYPE_CHECKING:
        def drain(self) -> int: ...
        def emit(self, event: str, **fields: Any) -> None: ...
        def _write_doc(self, writer_dir: Path) -> None: ...
        def _worker_error(self, exc: BaseException) -> None: ...
        def _network_step(self, keep_going: Callable[[], bool]) -> None: ...

    def finish(self, final: dict[str, Any] | None, deadline: float) -> bool:
        """Stop: drain, send until ``deadline``, send ``final`` status, spool the rest.

        Returns True when nothing is left pending and the status (if any) was delivered.
        Runs inline when the thread never started; otherwise waits at most until the deadline
        plus :data:`ABORT_GRACE_S`.
        """
        self.final, self.deadline = final, deadline
        if self.thread is None or not self.thread.is_alive():
            if not self.stopped.is_set():
                self._safe_shutdown()
            return self._finish_ok()
        self.stopping = True
        self.wake.set()
        self.thread.join(max(0.0, deadline - self.clock()))
        if self.thread.is_alive():
            abort = getattr(self.transport, "abort", None)
            if abort is not None:
                abort()
            self.thread.join(ABORT_GRACE_S)
        if self.thread.is_alive():
            sys.stderr.write(f"rundial: the worker of run {self.doc['runId']} did not stop in time; "
                             f"{len(self.queue)} queued records may be lost\n")
            return False
        return self._finish_ok()

    def _finish_ok(self) -> bool:
        """Online: everything and the status delivered. Offline: everything persisted on disk."""
        if self.queue:
            return False
        if not self.online:
            return all(e.path is not None for e in self.spool.own.entries)
        status_ok = self.final is None or self.final_sent or not self.registering
        return status_ok and not self.final_refused and not self.spool.own.entries

    def _safe_shutdown(self) -> None:
        try:
            self._shutdown()
        except Exception as exc:
            self._worker_error(exc)
        finally:
            self.stopped.set()

    def _shutdown(self) -> None:
        """Drain, send, close the spool: each step runs even when an earlier one raised (the
        error is counted), so the queue always reaches the spool and the final state run.json."""
        self._guarded(self.drain)
        self._guarded(self._add_dropped_ranges)
        if self.online and self.clock() < self.deadline:
            self._guarded(self._final_send)
        self._guarded(self._close_spool)
        self.transport.close()

    def _guarded(self, step: Callable[[], Any]) -> None:
        try:
            step()
        except Exception as exc:
            self._worker_error(exc)

    def _final_send(self) -> None:
        if self._next_scan == 0.0:  # stopped before the first cycle: still adopt orphans
            self._next_scan = float("inf")
            self.pump.adopt_orphans(self.settings.endpoint, skip_writer=self.spool.own.writer_id)
        self._final_network()

    def _add_dropped_ranges(self) -> None:
        """Put this run's lost step ranges into the final status (``droppedStepRanges``)."""
        ranges = self.counters.ranges_of(str(self.doc["runId"]))
        if self.final is not None and ranges:
            self.final = {**self.final, "droppedStepRanges": ranges}

    def _final_network(self) -> None:
        """Within the deadline: one more try (jitter ignored, Retry-After honoured), then status."""
        reserve = min(STATUS_RESERVE_S, 0.2 * max(0.0, self.deadline - self.clock()))
        self.pump.deadline = self.deadline - reserve
        if self.clock() >= self.backoff.hint_until:
            self._network_step(lambda: self.pump.deadline - self.clock() > 0.01)
        self.pump.deadline = self.deadline
        if self.final is not None and self.registering and self.registrar.state == DONE:
            result = self.registrar.send_final(self.transport, self.final, self.pump.timeout)
            self.final_sent = result.ok  # a 409 (another terminal status) is not success
            if result.kind == "fatal":
                self.final_refused = result.message

    def _close_spool(self) -> None:
        own = self.spool.own
        pending = len(own.entries)
        points = sum(e.points or 0 for e in own.entries if e.path is not None)
        memory_only = sum(1 for e in own.entries if e.path is None)
        if memory_only:
            lost = sum(e.points or 0 for e in own.entries if e.path is None)
            self.counters.drop(REASON_SHUTDOWN, lost)
        adopted = Counter(q.run_id for q in self.spool.adopted for _ in q.entries)
        unsent_final = self.final is not None and not self.final_sent and not self.final_refused
        needs_doc = self.registering and (unsent_final or bool(self.registrar.pending_config))
        if (needs_doc or (pending and own.directory is not None)) and self.spool.root is not None:
            self._persist_doc()
        self.pump.release_all()
        own.close(remove_if_empty=True)
        if not own.entries and self.spool.root is not None and not needs_doc:
            remove_run_dir_if_done(self.spool.root / str(self.doc["runId"]))
        if pending:
            self._report_pending(pending, points, memory_only)
        if adopted:
            sys.stderr.write(adopted_pending_line(adopted, self.spool.root, self.settings.endpoint))

    def _persist_doc(self) -> None:
        assert self.spool.root is not None
        run_dir = self.spool.root / str(self.doc["runId"])
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            self._write_doc(run_dir / self.spool.own.writer_id)
        except OSError as exc:
            self.counters.error(f"could not write run.json: {exc}")

    def _report_pending(self, pending: int, points: int, memory_only: int) -> None:
        if memory_only:
            sys.stderr.write(f"rundial: {memory_only} batches could not be sent and were dropped "
                             "(the spool is disabled or not writable)\n")
        on_disk = pending - memory_only
        if on_disk:
            failed = self.registrar.state == FAILED
            sys.stderr.write(own_pending_line(
                str(self.doc["runId"]), on_disk, points, self.spool.own_dir, self.spool.root,
                self.settings.endpoint, refused=failed and self.registrar.refused,
                blocked=self.registrar.error if failed else None))
        self.emit("shutdown_spool_handoff", batches=pending, points=points)
