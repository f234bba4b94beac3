"""``clientDiagnostics`` on our ingest bodies (v1 protocol §5.1; docs/protocol.md §4.13).

The worker stamps the published ``clientDiagnostics`` object onto **one** batch of a drain — the
last one, whose counters are the freshest — at most once per
:data:`DIAGNOSTICS_INTERVAL_SECONDS`, and always on the final drain at finish (when that drain
produces a batch). Nothing happens on ``run.log``'s hot path: the snapshot is built here, in the
worker, from the run's :class:`~rundial._diagnostics.Counters`, the queue depth and the spool.

Values are cumulative for this process (never deltas), integers clamped to [0, 10⁹]
(``spoolBytes`` to 1 TiB), with the published field names, so they match what
``run.diagnostics()`` said at that moment. The stamp is added when the batch is encoded, before
it is spooled: a batch sent later (after a retry, or replayed from the spool by another process)
carries the snapshot of the time it was encoded, and the collector keeps the newest snapshot by
``capturedAtMs``, so a stale one never hides a fresher one. Only the run's own batches are
stamped; adopted orphans and replays are sent as they were spooled.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import Any

import orjson

from rundial._diagnostics import (REASON_NON_FINITE, REASON_QUEUE_FULL, REASON_REJECTED,
                                  REASON_SERVER_REJECTED, REASON_SPOOL_EVICTION, Counters)
from rundial._wire import columns
from rundial._wire.batch import Batch, gunzip_bytes, gzip_bytes

DIAGNOSTICS_INTERVAL_SECONDS = 10.0  # at most one snapshot per interval (plus the final one)
VALUE_MAX = 1_000_000_000  # every integer is clamped to [0, VALUE_MAX] (protocol §5.1)
SPOOL_BYTES_MAX = 1 << 40  # spoolBytes is clamped to 1 TiB instead


def _clamp(value: int, most: int = VALUE_MAX) -> int:
    return min(max(int(value), 0), most)


def wire_diagnostics(counters: Counters, *, queue_depth: int, spool_segments: int,
                     spool_bytes: int, captured_at_ms: int) -> dict[str, Any]:
    """The §5.1 ``clientDiagnostics`` object for these counters (see the module docstring)."""
    dropped = dict(counters.dropped)
    parts = {"droppedPointsQueueFull": dropped.get(REASON_QUEUE_FULL, 0),
             "droppedPointsSpoolEviction": dropped.get(REASON_SPOOL_EVICTION, 0),
             "droppedPointsNonRetryable": dropped.get(REASON_REJECTED, 0)
             + dropped.get(REASON_SERVER_REJECTED, 0),
             "droppedPointsRetryExhausted": 0,
             "droppedPointsNonFinite": dropped.get(REASON_NON_FINITE, 0)}
    return {
        "capturedAtMs": _clamp(captured_at_ms, 2**63 - 1), "queueDepth": _clamp(queue_depth),
        "droppedPoints": _clamp(sum(parts.values())),
        **{name: _clamp(value) for name, value in parts.items()},
        "nonFiniteDroppedByMetric": {k: _clamp(v) for k, v in dict(counters.non_finite).items()},
        "spoolSegments": _clamp(spool_segments),
        "spoolBytes": _clamp(spool_bytes, SPOOL_BYTES_MAX),
        "retryAttempts": _clamp(counters.retry_attempts),
        "failedFlushAttempts": _clamp(counters.failed_flush_attempts),
        "systemSamplesCollected": _clamp(counters.system_samples_collected),
        "systemSamplesSkippedBackpressure": _clamp(counters.system_samples_skipped_backpressure),
        "logLinesTruncated": _clamp(counters.log_lines_truncated),
        "droppedLogLinesQueueFull": _clamp(counters.dropped_log_lines_queue_full),
        "droppedLogLinesInvalid": _clamp(counters.dropped_log_lines_invalid),
        "queueFullWaits": _clamp(counters.queue_full_waits),  # extensions (§4.13)
        "queueFullWaitTimeouts": _clamp(counters.queue_full_wait_timeouts),
    }


def with_diagnostics(body: bytes, diagnostics: dict[str, Any]) -> bytes:
    """The gzip'd ingest ``body`` with ``clientDiagnostics`` as its first member: in a JSON
    object, or in a columns body's header (``_wire.columns``); a columns header that would grow
    beyond its limit turns the body into the equivalent wide rows (same points)."""
    raw = gunzip_bytes(body)
    if columns.is_columns(raw):
        try:
            return gzip_bytes(columns.with_fields(raw, {"clientDiagnostics": diagnostics}))
        except ValueError:  # the header would exceed HEADER_MAX_BYTES
            raw = orjson.dumps(columns.rows_doc(raw))
    if not raw.startswith(b"{"):
        raise ValueError("an ingest body must be a JSON object")
    member = b'{"clientDiagnostics":' + orjson.dumps(diagnostics)
    rest = raw[1:].lstrip()
    return gzip_bytes(member + (b"}" if rest == b"}" else b"," + rest))


class DiagnosticsStamp:
    """Decides which drained batch carries a snapshot (owned by the worker thread)."""

    def __init__(self, counters: Counters, queue: Sized, spool: Callable[[], tuple[int, int]],
                 clock: Callable[[], float], wall_ms: Callable[[], int],
                 interval_seconds: float = DIAGNOSTICS_INTERVAL_SECONDS) -> None:
        self._counters = counters
        self._queue = queue
        self._spool = spool  # () -> (segments, bytes)
        self._clock = clock
        self._wall_ms = wall_ms
        self._interval_seconds = interval_seconds
        self._next_at = float("-inf")  # the first drain carries one
        self._final = False

    def final(self) -> None:
        """The next drain is the last one: stamp it whatever the interval."""
        self._final = True

    def stamp(self, batches: list[Batch]) -> None:
        """Add a snapshot to the last of ``batches`` when one is due (see the module docs).

        Never raises: diagnostics are advisory, so a failure leaves the batch as it was."""
        now = self._clock()
        if not batches or (now < self._next_at and not self._final):
            return
        self._next_at = now + self._interval_seconds
        try:
            segments, nbytes = self._spool()
            snapshot = wire_diagnostics(self._counters, queue_depth=len(self._queue),
                                        spool_segments=segments, spool_bytes=nbytes,
                                        captured_at_ms=self._wall_ms())
            batches[-1].body = with_diagnostics(batches[-1].body, snapshot)
        except Exception:
            pass
