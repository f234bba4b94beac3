"""Send spooled batches FIFO, and register/finish the orphan runs this process adopted.

Shared by the live worker (its own writer plus orphans of earlier processes) and by
:func:`rundial.replay_spool` (``rundial sync``). A file is deleted only after a 2xx; a
non-retryable answer moves it to ``rejected/``; a corrupt file moves to ``corrupt/``; a retryable
failure stops the pump so the caller can back off. Orphan runs are registered (``resume="allow"``,
a 409 meaning "already there") before their first batch; after their last one, their recorded
config changes not yet acknowledged (``pendingConfig``) and then their final status are sent. A registration refused for good marks the run ``blocked`` in its
``run.json`` and leaves its files in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial._diagnostics import REASON_REJECTED, REASON_SERVER_REJECTED, Counters
from rundial._http.calls import CallResult
from rundial._http.retry import Outcome
from rundial._http.transport import Transport
from rundial._pipeline.delivery import deliver
from rundial._pipeline.registrar import register, send_config, send_status
from rundial._spool.disk import CorruptSpoolFile, DiskSpool
from rundial._spool.layout import CORRUPT_DIR, REJECTED_DIR
from rundial._spool.orphans import OrphanRun, scan
from rundial._spool.runfile import remove_run_dir_if_done, update_run_file_quietly
from rundial._spool.send_as import SEND_AS, retarget
from rundial._spool.writer_queue import SpoolEntry, WriterQueue
from rundial._wire.body import points_in

Emit = Callable[..., None]


@dataclass(frozen=True, slots=True)
class PumpStop:
    """Why the pump stopped early: a retryable failure (back off), with an optional hint."""

    message: str
    retry_after: float | None = None


def _no_emit(event: str, **fields: Any) -> None:
    return None


class SpoolPump:
    """Delivers a :class:`DiskSpool`'s batches over one transport. Owned by one thread."""

    def __init__(self, spool: DiskSpool, transport: Transport, api_key: str | None,
                 counters: Counters, timeout: float, emit: Emit = _no_emit,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spool = spool
        self.transport = transport
        self.api_key = api_key
        self.counters = counters
        self.base_timeout = timeout
        self.deadline = float("inf")
        self.emit = emit
        self.clock = clock
        self.runs: dict[Path, OrphanRun] = {}
        self.replayed_batches = 0
        self.blocked_batches = 0  # left on disk because their run's registration was refused
        self.own_blocked = False
        self.columns_supported = False  # sticky: a metrics reply announced columns bodies

    @property
    def timeout(self) -> float:
        """Per-request timeout: the configured one, cut short by :attr:`deadline`."""
        return max(0.05, min(self.base_timeout, self.deadline - self.clock()))

    def has_work(self) -> bool:
        """True when a send or an adopted run's finish is waiting."""
        if any(not any(q.entries for q in r.queues) for r in self.runs.values()):
            return True
        return self.spool.head(skip_own=self.own_blocked) is not None

    # -- orphans -------------------------------------------------------------------------
    def adopt_orphans(self, endpoint: str | None, *, skip_writer: str | None = None,
                      include_blocked: bool = False, run_id: str | None = None) -> int:
        """Adopt every orphan writer under the spool root; returns the number of queues adopted."""
        if self.spool.root is None:
            return 0
        adopted = 0
        for run in scan(self.spool.root, endpoint, skip_writer=skip_writer,
                        include_blocked=include_blocked, run_id=run_id):
            if run.run_dir in self.runs:
                self.runs[run.run_dir].queues.extend(run.queues)
            else:
                self.runs[run.run_dir] = run
            for queue in run.queues:
                self.spool.adopt(queue)
                adopted += 1
        return adopted

    def finish_idle_runs(self) -> PumpStop | None:
        """Finish adopted runs with no batch left (register if needed, send the final status)."""
        for run in list(self.runs.values()):
            if not any(q.entries for q in run.queues):
                stop = self._finish_run(run)
                if stop is not None:
                    return stop
        return None

    # -- sending -------------------------------------------------------------------------
    def pump(self, keep_going: Callable[[], bool]) -> PumpStop | None:
        """Send batches while ``keep_going()``; returns a :class:`PumpStop` on a retryable failure."""
        while keep_going() and (head := self.spool.head(skip_own=self.own_blocked)) is not None:
            queue, entry = head
            stop = self._send(queue, entry)
            if stop is not None:
                return stop
        return None

    def _send(self, queue: WriterQueue, entry: SpoolEntry) -> PumpStop | None:
        run = None if queue.own else self._run_of(queue)
        if run is not None and not run.info.get("registered"):
            stop = self._register(run)
            if stop is not None or run.info.get("blocked"):
                return stop
        try:
            body = self.spool.read(entry)
        except CorruptSpoolFile as exc:
            self.spool.move_to(CORRUPT_DIR, queue, entry, str(exc))
            self.counters.batches_corrupt += 1
            self.counters.drop("corrupt", entry.points or 0)
            self.emit("spool_corrupt", path=str(entry.path), error=str(exc))
            return self._after_removal(queue)
        queue.send_tried = True
        batch_id = entry.batch_id
        if run is not None and run.info.get(SEND_AS):
            body, batch_id = self._retargeted(queue, entry, run, body)
            if not body:
                return self._after_removal(queue)
        result = deliver(self.transport, self.api_key, body, batch_id, self.timeout)
        self.columns_supported = self.columns_supported or result.columns_supported
        self.counters.columns_fallbacks += result.columns_fallbacks
        if result.outcome is Outcome.RETRY:
            self.counters.failed_flush_attempts += 1
            self.counters.error(result.message, transient=True)
            self.emit("flush_failure", status=result.status, error=result.message)
            return PumpStop(result.message, result.retry_after)
        if result.outcome is Outcome.REJECT:
            self._reject(queue, entry, body, result.message)
        else:
            self._delivered(queue, entry, result.accepted, result.server_rejected)
            for key, dead_body, note in result.dead_letters:
                self._dead_letter(queue, entry, key, dead_body, note)
        return self._after_removal(queue)

    def _retargeted(self, queue: WriterQueue, entry: SpoolEntry, run: OrphanRun,
                    body: bytes) -> tuple[bytes, str]:
        """The body re-addressed to the run's ``sendAsRunId``; ``b""`` when it cannot be read
        (the file is then quarantined as corrupt)."""
        try:
            return retarget(body, entry.batch_id, run.target_id)
        except Exception as exc:  # unreadable JSON inside a valid gzip
            self.spool.move_to(CORRUPT_DIR, queue, entry, f"cannot re-address: {exc}")
            self.counters.batches_corrupt += 1
            return b"", entry.batch_id

    def _delivered(self, queue: WriterQueue, entry: SpoolEntry, accepted: int | None,
                   server_rejected: int) -> None:
        self.counters.batches_sent += 1
        self.counters.recovered()
        if queue.own:
            self.counters.accepted_points += (entry.points or 0) if accepted is None else accepted
            self.counters.drop(REASON_SERVER_REJECTED, server_rejected)
        else:
            self.replayed_batches += 1
        self.spool.remove(queue, entry)

    def _reject(self, queue: WriterQueue, entry: SpoolEntry, body: bytes, note: str) -> None:
        points = entry.points if entry.points is not None else points_in(body)
        self._count_rejected(entry.batch_id, points, note)
        self.spool.move_to(REJECTED_DIR, queue, entry, note)

    def _dead_letter(self, queue: WriterQueue, entry: SpoolEntry, key: str, body: bytes,
                     note: str) -> None:
        """Part of a split batch refused for good: counted, written to ``rejected/``."""
        self._count_rejected(key, points_in(body), note)
        self.spool.write_quarantine(REJECTED_DIR, queue, entry.seq, key, body, note)

    def _count_rejected(self, batch_id: str, points: int, note: str) -> None:
        """A batch the collector refused for good: counted by reason, never silent."""
        self.counters.batches_rejected += 1
        self.counters.drop(REASON_REJECTED, points)
        self.counters.error(note)
        self.emit("non_retryable_drop", batch_id=batch_id, points=points, error=note)

    def _after_removal(self, queue: WriterQueue) -> PumpStop | None:
        if queue.own or queue.entries:
            return None
        self.spool.release(queue)
        run = self._run_of(queue)
        if run is not None:
            run.queues.remove(queue)
            if not run.queues:
                return self._finish_run(run)
        return None

    # -- run-level work for adopted runs -------------------------------------------------
    def _run_of(self, queue: WriterQueue) -> OrphanRun | None:
        return self.runs.get(queue.directory.parent) if queue.directory is not None else None

    def _register(self, run: OrphanRun) -> PumpStop | None:
        """Register an adopted run (``resume="allow"``: a 409 means it is already there, or —
        for ``sendAsRunId`` — our own earlier attempt). Success clears ``blocked``/``refused``,
        so the run's final status is sent after its last batch."""
        doc = {**run.info, "runId": run.target_id}
        result = register(self.transport, self.api_key, doc, self.timeout, resume="allow")
        if result.ok or result.status == 409:
            cleared = {"registered": True, "blocked": None, "refused": None}
            run.info.update(cleared)
            update_run_file_quietly(run.run_dir, **cleared)
            return None
        if result.kind == "retry":
            return PumpStop(result.message, result.retry_after)
        self._block(run, result)
        return None

    def _block(self, run: OrphanRun, result: CallResult) -> None:
        run.info["blocked"] = result.message
        update_run_file_quietly(run.run_dir, blocked=result.message)
        self.counters.error(result.message)
        self.emit("registration_failure", run_id=run.run_id, error=result.message)
        for queue in run.queues:
            self.blocked_batches += len(queue.entries)
            self.spool.release(queue, remove_if_empty=False)
        run.queues.clear()
        self.runs.pop(run.run_dir, None)

    def _finish_run(self, run: OrphanRun) -> PumpStop | None:
        """After a run's last batch: its unsent config patch, then its final status."""
        for queue in run.queues:
            if queue in self.spool.adopted:
                self.spool.release(queue)
        run.queues.clear()
        info = run.info
        if self._run_is_live(run):  # the live process owns the run's config and final status
            if info.get("finalStatus"):  # an earlier process's, stale: never sent (#13.15)
                info["finalStatus"] = None
                update_run_file_quietly(run.run_dir, finalStatus=None)
        elif (info.get("finalStatus") or info.get("pendingConfig")) and not info.get("blocked"):
            if not info.get("registered"):
                stop = self._register(run)
                if stop is not None or info.get("blocked"):
                    return stop
            stop = self._send_pending_config(run) or self._send_final(run)
            if stop is not None:
                return stop
        self.runs.pop(run.run_dir, None)
        remove_run_dir_if_done(run.run_dir)
        return None

    def _send_pending_config(self, run: OrphanRun) -> PumpStop | None:
        """Replay the config/summary changes the run's process could not send (a merged patch,
        later values winning; the collector merges, so sending it twice changes nothing)."""
        patch = run.info.get("pendingConfig")
        if not patch:
            return None
        result = send_config(self.transport, self.api_key, run.target_id, patch, self.timeout)
        if result.kind == "retry":
            return PumpStop(result.message, result.retry_after)
        if not result.ok:
            self.counters.error(result.message)
        run.info["pendingConfig"] = None
        update_run_file_quietly(run.run_dir, pendingConfig=None)
        return None

    def _send_final(self, run: OrphanRun) -> PumpStop | None:
        final = run.info.get("finalStatus")
        if final:
            result = send_status(self.transport, self.api_key, run.target_id, final, self.timeout)
            if result.kind == "retry":
                return PumpStop(result.message, result.retry_after)
        return None

    def _run_is_live(self, run: OrphanRun) -> bool:
        """A writer of ``run`` is alive (this process's own, or another's): the status an
        earlier process recorded is stale and must never override it (#13.15)."""
        return run.live_writers > 0 or run.run_id == self.spool.own.run_id

    def release_all(self) -> None:
        """Release every adopted queue's lock (files stay for the next process)."""
        for queue in list(self.spool.adopted):
            self.spool.release(queue, remove_if_empty=False)
        self.runs.clear()
