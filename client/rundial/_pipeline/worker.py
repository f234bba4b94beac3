"""The background worker of one run: drain the queue, encode, spool, send, register, finish.

Cycle (every ``flush_interval_seconds`` ±10%, or as soon as ``flush_at_records`` are queued):
drain the deque, encode gzip'd batches of each kind (metric rows, system rows, log lines, spans:
``_pipeline.encode``; metric groups as columns bodies once a metrics reply announced them and
``ingest_format`` is ``auto``, ``_wire.columns``), write each to the spool (write-ahead: a batch
survives SIGKILL once written), then, online, register the run if needed and send the spool
FIFO over one keep-alive connection (``_pipeline.network``); an idle registered run sends a
heartbeat every ``heartbeat_interval_seconds`` (``_pipeline.heartbeat``).
A retryable failure backs off (full jitter, ``Retry-After`` honoured) while later batches keep
going to the spool, so order holds and the hot path never waits. Offline mode never touches the
network. Orphans of earlier processes using the same spool directory and endpoint are adopted
and replayed (at start, then every few minutes).

The worker never dies silently: any exception in a cycle is counted (``worker_error``), stored in
``last_error`` and the loop continues.

``finish(final, deadline)`` drains, sends until the deadline, sends the final status and hands
the rest to the spool; it never hangs (an in-flight request is aborted at the deadline). Its
contract and its shutdown steps are in ``_pipeline.worker_exit``.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rundial._config import FLUSH_JITTER_RATIO, Settings
from rundial._diagnostics import REASON_WORKER_ERROR, Counters
from rundial._http.retry import Backoff
from rundial._http.transport import HttpTransport, Transport
from rundial._pipeline.client_diag import DiagnosticsStamp
from rundial._pipeline.encode import RecordEncoder, pop_up_to
from rundial._pipeline.heartbeat import Heartbeat
from rundial._pipeline.network import network_step
from rundial._pipeline.registrar import DONE, Registrar
from rundial._pipeline.run_doc import RunDoc
from rundial._pipeline.sender import SpoolPump
from rundial._pipeline.worker_exit import (FinalStatus, finished_clean, hand_over,
                                           join_or_abort, send_before_deadline)
from rundial._spool.disk import DiskSpool
from rundial._wire.batch import Batch, MediaSink

ORPHAN_RESCAN_S = 300.0  # look for newly orphaned writers every 5 minutes
ERROR_PAUSE_S = 0.1  # after an unexpected error, pause briefly instead of spinning
# Our own generator: drawing from the global one would shift a seeded training script's
# random.random() sequence (this runs on the worker thread, at moments that vary).
_JITTER = random.Random()


class Worker:
    """Owns the spool, transport and control plane of one (run, writer); see the module docstring."""

    def __init__(self, settings: Settings, doc: dict[str, Any], header: dict[str, Any], *,
                 writer_id: str, queue: deque[Any], wake: threading.Event, counters: Counters,
                 registering: bool, transport: Transport | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 on_row: Callable[[dict[str, Any]], None] | None = None,
                 media_sink: MediaSink | None = None,
                 on_cycle: Callable[[], None] | None = None,
                 room: threading.Event | None = None) -> None:
        self.settings = settings
        self.doc = doc
        self.queue = queue
        self.wake = wake
        self.counters = counters
        self.registering = registering
        self.clock = clock
        self.online = settings.mode == "online"
        self.final = FinalStatus()
        self.run_doc = RunDoc(doc, registering)
        self.transport: Transport = transport or HttpTransport(settings.endpoint,
                                                               settings.request_timeout_seconds)
        root = settings.spool_root if settings.spool_enabled else None
        self.spool = self._make_spool(root, writer_id, wall)
        self.pump = SpoolPump(self.spool, self.transport, settings.api_key, counters,
                              settings.request_timeout_seconds, self.emit, clock)
        self.registrar = Registrar(doc, settings.api_key, counters, enabled=registering and self.online,
                                   resume=doc.get("resume") or "allow", on_change=self.run_doc.mark_dirty,
                                   emit=self.emit)
        self._seq = 0
        self.encoder = RecordEncoder(settings, header, counters, self._next_seq, self._worker_error,
                                     on_row=on_row, media_sink=media_sink)
        self.diag = DiagnosticsStamp(counters, queue, lambda: (len(self.spool), self.spool.total_bytes),
                                     clock, lambda: int(wall() * 1000))
        self.on_cycle = on_cycle
        self.room = room  # set after every drain: a producer waiting for room re-checks
        self.half_drains = 0  # drains that left the queue at half its capacity or less
        beat = settings.heartbeat_interval_seconds
        self.heartbeat = (Heartbeat(str(doc["runId"]), settings.api_key, beat, counters, clock)
                          if self.online and registering and beat > 0 else None)
        self.backoff = Backoff(settings.retry_base_delay_seconds, settings.retry_max_delay_seconds, clock)
        self.thread: threading.Thread | None = None
        self.deadline = float("inf")
        self.stopping = False
        self.stopped = threading.Event()
        self.busy = False
        self._next_flush = clock() + self._interval()
        self._next_scan = 0.0 if self.online and root is not None else float("inf")

    # -- helpers ---------------------------------------------------------------------------
    def _make_spool(self, root: Path | None, writer_id: str, wall: Callable[[], float]) -> DiskSpool:
        s = self.settings
        return DiskSpool(root, self.doc["runId"], writer_id, self.counters,
                         max_bytes=s.spool_max_bytes, max_age_s=s.spool_max_age_seconds,
                         memory_max_records=s.queue_capacity, fsync=s.spool_fsync, clock=wall,
                         on_own_dir=self._write_doc)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _interval(self) -> float:
        jitter = 1.0 + FLUSH_JITTER_RATIO * (2.0 * _JITTER.random() - 1.0)
        return self.settings.flush_interval_seconds * jitter

    def emit(self, event: str, **fields: Any) -> None:
        """Call the user's ``event_hook``; its exceptions are swallowed."""
        hook = self.settings.event_hook
        if hook is not None:
            try:
                hook({"event": event, **fields})
            except Exception:
                pass

    def _write_doc(self, writer_dir: Path) -> None:
        """Write ``run.json`` (``_pipeline.run_doc``), with the final status while it is undelivered."""
        self.run_doc.write(writer_dir, self.registrar, self.final.undelivered)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # -- thread --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the daemon thread (idempotent). Where no thread can start (interpreter exit,
        Python 3.12+) it stays unstarted, without raising: ``finish`` then runs inline."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._main, name=f"rundial-{self.doc['runId']}",
                                           daemon=True)
            try:
                self.thread.start()
            except RuntimeError:
                pass

    def _main(self) -> None:
        while not self.stopping:
            try:
                timeout = self.wait_seconds()
            except Exception as exc:  # never let the thread die silently
                self._worker_error(exc)
                timeout = ERROR_PAUSE_S
            self.wake.wait(timeout)
            if not self.stopping:
                self.safe_cycle()
        self._safe_shutdown()

    def wait_seconds(self) -> float:
        """How long to sleep before the next cycle."""
        now = self.clock()
        due = min(self._next_flush, self._next_scan)
        if self.online and (self.registrar.needs_network or self.pump.has_work()):
            due = min(due, self.backoff.until)
        if self.heartbeat is not None and self.registrar.state == DONE:
            due = min(due, max(self.heartbeat.next_at, self.backoff.until))
        return max(0.0, due - now)

    def safe_cycle(self) -> None:
        """:meth:`cycle`, counting instead of raising any unexpected error."""
        self.busy = True
        try:
            self.cycle()
        except Exception as exc:
            self._worker_error(exc)
            self.wake.wait(ERROR_PAUSE_S)
        finally:
            self.busy = False

    def _worker_error(self, exc: BaseException) -> None:
        self.counters.worker_errors += 1
        self.counters.error(f"worker error: {type(exc).__name__}: {exc}")
        self.emit("worker_error", error=self.counters.last_error)

    # -- one cycle -------------------------------------------------------------------------
    def cycle(self) -> None:
        """Drain and spool; online: register, send, adopt orphans (see the module docstring)."""
        self.wake.clear()
        now = self.clock()
        if now >= self._next_flush or len(self.queue) >= self.settings.flush_at_records:
            self._next_flush = now + self._interval()
        if self.on_cycle is not None:
            self.on_cycle()
        self.drain()
        if self.run_doc.dirty and self.spool.own.directory is not None:
            self._write_doc(self.spool.own.directory)
        if not self.online:
            return
        if now >= self._next_scan:
            self._next_scan = now + ORPHAN_RESCAN_S
            self.pump.adopt_orphans(self.settings.endpoint, skip_writer=self.spool.own.writer_id)
        if self.backoff.ready():
            self._network_step(lambda: not self.wake.is_set() and not self.stopping)
            self._maybe_heartbeat()

    def _maybe_heartbeat(self) -> None:
        """Heartbeat when nothing was delivered for an interval (``Heartbeat.tick``)."""
        if self.heartbeat is not None and self.registrar.state == DONE:
            self.heartbeat.tick(self.transport, self.pump.has_work, lambda: self.pump.timeout)

    def drain(self) -> int:
        """Move every queued record into spooled batches; returns the number of batches."""
        records = pop_up_to(self.queue, len(self.queue))
        if not records:
            return 0
        if len(self.queue) <= self.settings.queue_capacity // 2:
            self.half_drains += 1
        if self.room is not None:
            self.room.set()
        if self.pump.columns_supported and self.settings.ingest_format == "auto":
            self.encoder.use_columns()
        before = self.counters.dropped.get("non_finite", 0) + self.counters.dropped.get("invalid", 0)
        batches = self.encoder.encode(records)
        after = self.counters.dropped.get("non_finite", 0) + self.counters.dropped.get("invalid", 0)
        self.counters.add_enqueued(sum(b.points for b in batches) + after - before)
        self.diag.stamp(batches)  # clientDiagnostics, at most once per interval (+ the last drain)
        for batch in batches:
            self._spool_batch(batch)
        return len(batches)

    def _spool_batch(self, batch: Batch) -> None:
        """Append ``batch`` to the spool; an unexpected error counts its points as dropped
        (``worker_error``) instead of letting the popped records vanish uncounted."""
        try:
            self.spool.append(batch)
        except Exception as exc:
            self.counters.drop(REASON_WORKER_ERROR, batch.points)
            self._worker_error(exc)

    def _network_step(self, keep_going: Callable[[], bool]) -> None:
        """Register if needed, then send while ``keep_going()`` (``_pipeline.network``)."""
        network_step(self.registrar, self.pump, self.transport, self.backoff, self.counters,
                     self.emit, keep_going)

    # -- finish ----------------------------------------------------------------------------
    def finish(self, final: dict[str, Any] | None, deadline: float) -> bool:
        """Stop: drain, send until ``deadline``, send ``final`` status, spool the rest.

        Returns True when nothing is left pending and the status (if any) was delivered.
        Runs inline when the thread never started; otherwise waits at most until the deadline
        plus ``worker_exit.ABORT_GRACE_S``.
        """
        self.final.payload, self.deadline = final, deadline
        if self.thread is None or not self.thread.is_alive():
            if not self.stopped.is_set():
                self._safe_shutdown()
            return self._finish_ok()
        self.stopping = True
        self.wake.set()
        if not join_or_abort(self.thread, self.transport, deadline - self.clock()):
            sys.stderr.write(f"rundial: the worker of run {self.doc['runId']} did not stop in time; "
                             f"{len(self.queue)} queued records may be lost\n")
            return False
        return self._finish_ok()

    def _finish_ok(self) -> bool:
        """Nothing left behind (``worker_exit.finished_clean``)."""
        return finished_clean(self.queue, self.spool, self.final, online=self.online,
                              registering=self.registering)

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
        self.diag.final()
        self._guarded(self.drain)
        self._guarded(lambda: self.final.add_dropped_ranges(
            self.counters.ranges_of(str(self.doc["runId"]))))
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
        """Within the deadline: adopt orphans if no cycle did, one more try (jitter ignored,
        Retry-After honoured) while a reserve is kept for the status, then the status."""
        if self._next_scan == 0.0:  # stopped before the first cycle: still adopt orphans
            self._next_scan = float("inf")
            self.pump.adopt_orphans(self.settings.endpoint, skip_writer=self.spool.own.writer_id)
        send_before_deadline(self.pump, self.backoff, self.deadline, self.clock, self._network_step)
        if self.registering and self.registrar.state == DONE:
            self.final.send(self.registrar, self.transport, self.pump.timeout)

    def _close_spool(self) -> None:
        """Hand what is left to the spool (``worker_exit.hand_over``)."""
        hand_over(self.spool, self.pump, self.run_doc, self.registrar, self.final, self.counters,
                  run_id=str(self.doc["runId"]), registering=self.registering,
                  endpoint=self.settings.endpoint, emit=self.emit)
