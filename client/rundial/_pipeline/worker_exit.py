"""The end of a worker (``Worker.finish``) and its shutdown steps, each handed what it needs.

``finish(final, deadline)`` stops the loop, drains the queue into the spool, sends until the
deadline (one more try; jitter ignored, ``Retry-After`` honoured), sends the final status
within a reserve kept for it (a refusal, e.g. 409 because the run already holds another
terminal status, makes ``finish`` return False and is not retried later), then closes the
spool: files still pending stay for the next process or ``rundial sync`` (one line on stderr
says how many and what will send them: ``exit_line``), batches held only in memory
(spool disabled or not writable) are dropped and counted as ``shutdown``. Every shutdown step
is guarded: one that raises is counted and never skips draining, spooling or recording the
final state in ``run.json``. It never hangs: a request still in flight at the deadline is
aborted (:func:`join_or_abort`), and the thread gets :data:`ABORT_GRACE_S` more before
``finish`` gives up on it (and says so on stderr).

The steps:

* :class:`FinalStatus` holds the run's final status until it is sent: the payload (with this
  run's lost step ranges, ``droppedStepRanges``), whether it was delivered, and a refusal (e.g.
  409 because the run already holds another terminal status), which is final: never retried.
* :func:`count_leftover` counts what the spool still holds at the end; batches held only in
  memory (spool disabled or not writable) are dropped there and counted as ``shutdown``.
* :func:`close_spool` releases adopted queues, closes our own writer queue and removes the run's
  directory when nothing is left in it and no ``run.json`` must stay.
* :func:`report_leftover` prints one line on stderr per kind of leftover (what will send it:
  ``exit_line``) and emits ``shutdown_spool_handoff``.
* :func:`hand_over` runs those three in order, writing ``run.json`` first when it must outlive
  the process (a status or config change still to deliver, or batches left on disk).

None of them raises for an unsent batch; the worker guards each step (see ``worker``).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any

from rundial._diagnostics import REASON_SHUTDOWN, Counters
from rundial._http.retry import Backoff
from rundial._http.transport import Transport
from rundial._pipeline.exit_line import adopted_pending_line, own_pending_line
from rundial._pipeline.registrar import FAILED, Registrar
from rundial._pipeline.run_doc import RunDoc
from rundial._pipeline.sender import SpoolPump
from rundial._spool.disk import DiskSpool
from rundial._spool.runfile import remove_run_dir_if_done

ABORT_GRACE_S = 1.0  # after the deadline: abort the request, then give the worker this long
STATUS_RESERVE_S = 0.5  # part of the finish budget kept for the status call


def join_or_abort(thread: threading.Thread, transport: Transport, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``thread``; then abort the request in flight and wait
    :data:`ABORT_GRACE_S` more. True when the thread ended."""
    thread.join(max(0.0, timeout_s))
    if thread.is_alive():
        abort = getattr(transport, "abort", None)
        if abort is not None:
            abort()
        thread.join(ABORT_GRACE_S)
    return not thread.is_alive()


class FinalStatus:
    """The final status of the run (``payload``, None when there is none to send) and its fate."""

    __slots__ = ("payload", "sent", "refused")

    def __init__(self) -> None:
        self.payload: dict[str, Any] | None = None
        self.sent = False
        self.refused: str | None = None  # the collector's message when it refused the status

    @property
    def undelivered(self) -> dict[str, Any] | None:
        """The payload while it is still to deliver (by us, or later from ``run.json``), else None."""
        return None if self.sent or self.refused else self.payload

    def add_dropped_ranges(self, ranges: list[Any]) -> None:
        """Put the run's lost step ranges into the payload (``droppedStepRanges``)."""
        if self.payload is not None and ranges:
            self.payload = {**self.payload, "droppedStepRanges": ranges}

    def send(self, registrar: Registrar, transport: Transport, timeout: float) -> None:
        """One attempt; a 409 (another terminal status) is not success, a fatal answer refuses."""
        if self.payload is None:
            return
        result = registrar.send_final(transport, self.payload, timeout)
        self.sent = result.ok
        if result.kind == "fatal":
            self.refused = result.message


def finished_clean(queue: Sized, spool: DiskSpool, final: FinalStatus, *, online: bool,
                   registering: bool) -> bool:
    """``finish``'s answer once the worker stopped: online, everything and the status (if any,
    and if registering) delivered and not refused; offline, everything persisted on disk."""
    if queue:
        return False
    if not online:
        return all(e.path is not None for e in spool.own.entries)
    status_ok = final.payload is None or final.sent or not registering
    return status_ok and not final.refused and not spool.own.entries


def send_before_deadline(pump: SpoolPump, backoff: Backoff, deadline: float,
                         clock: Callable[[], float],
                         network_step: Callable[[Callable[[], bool]], None]) -> None:
    """One more try at sending (jitter ignored, ``Retry-After`` honoured), stopping early enough
    to keep :data:`STATUS_RESERVE_S` (at most a fifth of what is left) for the status call."""
    reserve = min(STATUS_RESERVE_S, 0.2 * max(0.0, deadline - clock()))
    pump.deadline = deadline - reserve
    if clock() >= backoff.hint_until:
        network_step(lambda: pump.deadline - clock() > 0.01)
    pump.deadline = deadline


@dataclass(frozen=True)
class Leftover:
    """What the spool still holds at the end."""

    pending: int  # our own batches not sent
    points: int  # their points, of those on disk
    memory_only: int  # batches that were never written to disk (dropped)
    adopted: Counter[str]  # unsent batches of adopted writers, by run id


def count_leftover(spool: DiskSpool, counters: Counters) -> Leftover:
    """Count what is left; memory-only batches are dropped and counted (``shutdown``)."""
    own = spool.own
    memory_only = sum(1 for e in own.entries if e.path is None)
    if memory_only:
        counters.drop(REASON_SHUTDOWN, sum(e.points or 0 for e in own.entries if e.path is None))
    return Leftover(pending=len(own.entries),
                    points=sum(e.points or 0 for e in own.entries if e.path is not None),
                    memory_only=memory_only,
                    adopted=Counter(q.run_id for q in spool.adopted for _ in q.entries))


def close_spool(spool: DiskSpool, pump: SpoolPump, run_id: str, *, keep_run_dir: bool) -> None:
    """Release adopted queues and close ours; remove the run's directory once it is empty
    (unless ``keep_run_dir``: its ``run.json`` still has to deliver something)."""
    pump.release_all()
    spool.own.close(remove_if_empty=True)
    if not spool.own.entries and spool.root is not None and not keep_run_dir:
        remove_run_dir_if_done(spool.root / run_id)


def report_leftover(left: Leftover, spool: DiskSpool, endpoint: str, registrar: Registrar,
                    emit: Callable[..., None], run_id: str) -> None:
    """Tell the user on stderr what stays behind and what will send it (nothing when all left)."""
    if left.pending:
        if left.memory_only:
            sys.stderr.write(f"rundial: {left.memory_only} batches could not be sent and were "
                             "dropped (the spool is disabled or not writable)\n")
        on_disk = left.pending - left.memory_only
        if on_disk:
            failed = registrar.state == FAILED
            sys.stderr.write(own_pending_line(
                run_id, on_disk, left.points, spool.own_dir, spool.root, endpoint,
                refused=failed and registrar.refused,
                blocked=registrar.error if failed else None))
        emit("shutdown_spool_handoff", batches=left.pending, points=left.points)
    if left.adopted:
        sys.stderr.write(adopted_pending_line(left.adopted, spool.root, endpoint))


def hand_over(spool: DiskSpool, pump: SpoolPump, run_doc: RunDoc, registrar: Registrar,
              final: FinalStatus, counters: Counters, *, run_id: str, registering: bool,
              endpoint: str, emit: Callable[..., None]) -> None:
    """Hand what is left to the spool: count it, persist ``run.json`` when it must outlive us,
    close the spool and report. Raises what a step raises (the worker guards the call)."""
    left = count_leftover(spool, counters)
    needs_doc = registering and (final.undelivered is not None or bool(registrar.pending_config))
    if (needs_doc or (left.pending and spool.own.directory is not None)) and spool.root is not None:
        run_doc.persist(spool.root / run_id, spool.own.writer_id, registrar, final.undelivered,
                        counters)
    close_spool(spool, pump, run_id, keep_run_dir=needs_doc)
    report_leftover(left, spool, endpoint, registrar, emit, run_id)
