"""Counters kept by a run's worker, and the frozen :class:`Diagnostics` snapshot users read.

Every loss path increments ``dropped[reason]`` (in points) — nothing is dropped silently.
Reasons: ``queue_full``, ``spool_eviction``, ``rejected`` (non-retryable 4xx), ``server_rejected``
(points the collector refused one by one), ``non_finite``, ``invalid`` (non-numeric values or
non-string keys), ``after_finish``, ``worker_error``, ``shutdown`` (spool disabled and unsent at exit).
Counters are plain ints; reads need no lock. Those that producer threads (a full queue, ``log``
after finish, captured console lines) and the worker both write go through :meth:`Counters.drop`,
:meth:`Counters.add_enqueued`, :meth:`Counters.drop_line_queue_full` and
:meth:`Counters.lines_truncated`, which hold a lock: a
bare ``+=`` from two threads can lose an update.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

NON_FINITE_KEYS_MAX = 32  # per protocol §11.4; overflow is counted under "__other__"
LOST_RANGES_MAX = 256  # bounded memory during a week-long outage; older ranges coalesce

REASON_QUEUE_FULL = "queue_full"
REASON_SPOOL_EVICTION = "spool_eviction"
REASON_ADOPTED_EVICTION = "adopted_spool_eviction"  # another writer's batches (adopted orphans)
REASON_REJECTED = "rejected"
REASON_SERVER_REJECTED = "server_rejected"
REASON_NON_FINITE = "non_finite"
REASON_INVALID = "invalid"
REASON_AFTER_FINISH = "after_finish"
REASON_WORKER_ERROR = "worker_error"
REASON_SHUTDOWN = "shutdown"


@dataclass(slots=True)
class Counters:
    """Mutable counters shared by the run (rare paths only) and its worker."""

    enqueued_points: int = 0
    accepted_points: int = 0
    failed_flush_attempts: int = 0
    retry_attempts: int = 0
    out_of_order_step_writes: int = 0
    config_truncations: int = 0
    batches_sent: int = 0
    batches_spooled: int = 0
    batches_rejected: int = 0
    batches_corrupt: int = 0
    columns_batches: int = 0  # metric batches encoded as columns bodies
    columns_fallbacks: int = 0  # columns bodies a collector refused, re-sent as wide rows
    worker_errors: int = 0
    log_lines_truncated: int = 0
    dropped_log_lines_queue_full: int = 0
    dropped_log_lines_invalid: int = 0
    system_samples_collected: int = 0
    system_samples_skipped_backpressure: int = 0
    heartbeats_sent: int = 0
    heartbeat_failures: int = 0
    evidence_uploaded: int = 0
    evidence_markers: int = 0
    queue_full_waits: int = 0
    queue_full_wait_timeouts: int = 0
    queue_full_wait_seconds: float = 0.0
    last_error: str | None = None
    transient_error: bool = False
    dropped: Counter[str] = field(default_factory=Counter)
    non_finite: Counter[str] = field(default_factory=Counter)
    lost_step_ranges: list[tuple[str, int, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def error(self, message: str, transient: bool = False) -> None:
        """Record ``message`` as ``last_error``; a transient one is cleared by the next success."""
        self.last_error = message
        self.transient_error = transient

    def recovered(self) -> None:
        """A send succeeded: forget a transient (network/5xx) error."""
        if self.transient_error:
            self.last_error = None
            self.transient_error = False

    def drop(self, reason: str, points: int) -> None:
        """Count ``points`` lost for ``reason`` (from any thread)."""
        if points:
            with self._lock:
                self.dropped[reason] += points

    def add_enqueued(self, points: int) -> None:
        """Count ``points`` as having passed the queue (from any thread)."""
        with self._lock:
            self.enqueued_points += points

    def drop_line_queue_full(self) -> None:
        """Count one log line dropped because the queue was full (from any thread)."""
        with self._lock:
            self.dropped_log_lines_queue_full += 1

    def lines_truncated(self, count: int) -> None:
        """Count ``count`` log lines cut to 8 KiB (the worker and ``finish``'s traceback line)."""
        if count:
            with self._lock:
                self.log_lines_truncated += count

    def waited(self, seconds: float, *, timed_out: bool) -> None:
        """Count one wait of a producer for room in a full queue (from any thread)."""
        with self._lock:
            self.queue_full_wait_seconds += seconds
            self.queue_full_waits += 1
            self.queue_full_wait_timeouts += int(timed_out)

    def ranges_of(self, run_id: str) -> list[list[int]]:
        """``[[first, last], ...]`` of the steps of ``run_id`` recorded as lost."""
        with self._lock:
            return [[first, last] for rid, first, last in self.lost_step_ranges if rid == run_id]

    def non_finite_key(self, key: str) -> None:
        """Count one dropped NaN/inf value of ``key`` (32 keys, then ``__other__``)."""
        if key not in self.non_finite and len(self.non_finite) >= NON_FINITE_KEYS_MAX:
            key = "__other__"
        self.non_finite[key] += 1
        self.drop(REASON_NON_FINITE, 1)

    def lost_range(self, run_id: str, first: int, last: int) -> None:
        """Record steps ``first..last`` of ``run_id`` as lost (from any thread); adjacent ranges
        merge."""
        with self._lock:
            self._add_range(run_id, first, last)

    def _add_range(self, run_id: str, first: int, last: int) -> None:
        ranges = self.lost_step_ranges
        if ranges and ranges[-1][0] == run_id and first <= ranges[-1][2] + 1 and last >= ranges[-1][1] - 1:
            prev = ranges[-1]
            ranges[-1] = (run_id, min(prev[1], first), max(prev[2], last))
            return
        ranges.append((run_id, first, last))
        if len(ranges) > LOST_RANGES_MAX:
            a, b = ranges[0], ranges[1]
            if a[0] == b[0]:
                ranges[0:2] = [(a[0], min(a[1], b[1]), max(a[2], b[2]))]
            else:
                del ranges[0]


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """A point-in-time view of a run's delivery pipeline (protocol §11.3 fields plus ours).

    ``dropped_points_retry_exhausted`` is always 0: batches are retried without an attempt limit
    and only the spool bounds (``dropped_points_spool_eviction``) can discard them. "Points"
    count every event kind: metric values, log lines and spans.
    ``artifacts`` holds the artifact uploader's counters (empty until artifacts are used).
    ``queue_full_waits`` counts the times ``log`` waited for room in a full queue (the default
    ``on_queue_full="wait"``), ``queue_full_wait_seconds`` their total duration and
    ``queue_full_wait_timeouts`` those that ended with a drop (the worker was stuck).
    ``lost_step_ranges`` holds ``(run_id, first, last)`` for steps dropped because the queue was
    full or evicted from the spool (at most 256 ranges; the oldest coalesce).
    """

    enqueued_points: int
    accepted_points: int
    dropped_points_queue_full: int
    dropped_points_spool_eviction: int
    dropped_points_non_retryable: int
    dropped_points_retry_exhausted: int
    failed_flush_attempts: int
    retry_attempts: int
    spool_segments: int
    spool_bytes: int
    non_finite_dropped: dict[str, int]
    queue_depth: int
    worker_running: bool
    last_error: str | None
    out_of_order_step_writes: int
    config_truncations: int
    system_samples_collected: int
    system_samples_skipped_backpressure: int
    health: str
    log_lines_truncated: int
    dropped_log_lines_queue_full: int
    dropped_log_lines_invalid: int
    dropped: dict[str, int]
    lost_step_ranges: tuple[tuple[str, int, int], ...]
    batches_sent: int
    batches_spooled: int
    batches_rejected: int
    worker_errors: int
    state: str
    artifacts: dict[str, Any] = field(default_factory=dict)
    heartbeats_sent: int = 0
    heartbeat_failures: int = 0
    evidence_uploaded: int = 0
    evidence_markers: int = 0
    queue_full_waits: int = 0
    queue_full_wait_timeouts: int = 0
    queue_full_wait_seconds: float = 0.0
    columns_batches: int = 0
    columns_fallbacks: int = 0

    @property
    def pending_spooled_batches(self) -> int:
        """Batches waiting in the spool (= ``spool_segments``)."""
        return self.spool_segments

    @property
    def dropped_points_non_finite(self) -> int:
        """NaN/inf values dropped, all keys together."""
        return sum(self.non_finite_dropped.values())


def health_of(c: Counters, *, mode: str, queue_depth: int, spooled: int, worker_alive: bool) -> str:
    """``healthy``, ``degraded``, ``offline_buffering`` or ``error`` (protocol §11.3)."""
    if mode == "online" and queue_depth and not worker_alive:
        return "error"
    if mode == "offline" and (queue_depth or spooled):
        return "offline_buffering"
    if (sum(c.dropped.values()) or c.config_truncations or c.last_error
            or c.system_samples_skipped_backpressure):
        return "degraded"
    return "healthy"


def snapshot(c: Counters, **live: Any) -> Diagnostics:
    """Freeze ``c`` plus the live fields (queue depth, spool sizes, worker state, run state)."""
    dropped = dict(c.dropped)
    health = health_of(c, mode=live["mode"], queue_depth=live["queue_depth"],
                       spooled=live["spool_segments"], worker_alive=live["worker_running"])
    return Diagnostics(
        enqueued_points=c.enqueued_points, accepted_points=c.accepted_points,
        dropped_points_queue_full=dropped.get(REASON_QUEUE_FULL, 0),
        dropped_points_spool_eviction=dropped.get(REASON_SPOOL_EVICTION, 0),
        dropped_points_non_retryable=dropped.get(REASON_REJECTED, 0)
        + dropped.get(REASON_SERVER_REJECTED, 0),
        dropped_points_retry_exhausted=0, failed_flush_attempts=c.failed_flush_attempts,
        retry_attempts=c.retry_attempts, spool_segments=live["spool_segments"],
        spool_bytes=live["spool_bytes"], non_finite_dropped=dict(c.non_finite),
        queue_depth=live["queue_depth"], worker_running=live["worker_running"],
        last_error=c.last_error, out_of_order_step_writes=c.out_of_order_step_writes,
        config_truncations=c.config_truncations,
        system_samples_collected=c.system_samples_collected,
        system_samples_skipped_backpressure=c.system_samples_skipped_backpressure, health=health,
        log_lines_truncated=c.log_lines_truncated,
        dropped_log_lines_queue_full=c.dropped_log_lines_queue_full,
        dropped_log_lines_invalid=c.dropped_log_lines_invalid, dropped=dropped,
        lost_step_ranges=tuple(c.lost_step_ranges), batches_sent=c.batches_sent,
        batches_spooled=c.batches_spooled, batches_rejected=c.batches_rejected,
        worker_errors=c.worker_errors, state=live["state"],
        artifacts=live.get("artifacts", {}), heartbeats_sent=c.heartbeats_sent,
        heartbeat_failures=c.heartbeat_failures, evidence_uploaded=c.evidence_uploaded,
        evidence_markers=c.evidence_markers, queue_full_waits=c.queue_full_waits,
        queue_full_wait_timeouts=c.queue_full_wait_timeouts,
        queue_full_wait_seconds=c.queue_full_wait_seconds, columns_batches=c.columns_batches,
        columns_fallbacks=c.columns_fallbacks,
    )
