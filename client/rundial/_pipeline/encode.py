"""Turn one drain of the run's queue into ingest batches of every kind.

The queue holds metric rows, system rows, log records and ended spans (see ``_wire.records``). When
only metric rows are queued — the common case — they go straight to the wide-row encoder with
no per-record work. Otherwise records are split by type and each kind is encoded on its own:
metric rows and system rows by two :class:`~rundial._wire.batch.BatchEncoder` instances (so the
epoch-second steps of system rows neither count as out-of-order training steps nor reach
``run.summary``), log records through :func:`~rundial._wire.logs.wire_lines` and spans through
``Span.wire()`` into :class:`~rundial._wire.records.ItemEncoder` bodies, eval rows into one
such body per eval run. A span or eval row that JSON cannot encode is left out of its body
alone (counted ``invalid``). A kind that fails to encode otherwise
is dropped and reported through ``on_error`` without touching the other kinds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from rundial._config import ENCODE_CHUNK_RECORDS, Settings
from rundial._diagnostics import REASON_INVALID, REASON_WORKER_ERROR, Counters
from rundial._wire.batch import Batch, BatchEncoder, MediaSink
from rundial._wire.logs import wire_lines
from rundial._warn import warn_user
from rundial._wire.records import EVALS, LOGS, SPANS, ItemEncoder, split_records

OnError = Callable[[BaseException], None]


def pop_up_to(queue: deque[Any], count: int) -> list[Any]:
    """Pop at most ``count`` records from the left of ``queue``, fewer when it runs dry.

    Producers pop from the same deque on other threads (a full queue drops its oldest record,
    ``log`` after finish drops its own), so a length read earlier is only an upper bound: each
    pop is tried on its own and an empty deque simply ends the drain, keeping what was popped.
    """
    records: list[Any] = []
    pop, append = queue.popleft, records.append
    try:
        for _ in range(count):
            append(pop())
    except IndexError:
        pass
    return records


class RecordEncoder:
    """Encodes drained records of one writer (owned by the worker thread)."""

    def __init__(self, settings: Settings, header: dict[str, Any], counters: Counters,
                 next_seq: Callable[[], int], on_error: OnError, *,
                 on_row: Callable[[dict[str, Any]], None] | None = None,
                 media_sink: MediaSink | None = None) -> None:
        most, size = settings.max_batch_points, settings.max_batch_bytes
        self.metrics = BatchEncoder(header, counters, next_seq, chunk_records=ENCODE_CHUNK_RECORDS,
                                    on_row=on_row, media_sink=media_sink, max_records=most,
                                    max_bytes=size)
        self.system = BatchEncoder(header, counters, next_seq, chunk_records=ENCODE_CHUNK_RECORDS,
                                   max_records=most, max_bytes=size)
        self.logs = ItemEncoder(LOGS, header, next_seq, max_records=most, max_bytes=size)
        self.spans = ItemEncoder(SPANS, header, next_seq, max_records=most, max_bytes=size,
                                 on_unencodable=self._unencodable)
        self._counters = counters
        self._on_error = on_error
        self._log_sequence = 0
        self._header, self._next_seq, self._limits = header, next_seq, (most, size)

    def use_columns(self) -> None:
        """Encode uniform clean metric groups as columns bodies from now on (sticky: the
        collector announced the format)."""
        self.metrics.columns = self.system.columns = True

    def _next_sequence(self) -> int:
        self._log_sequence += 1
        return self._log_sequence

    def encode(self, records: list[Any]) -> list[Batch]:
        """Batches for ``records``: metric rows first, then system rows, log lines, spans,
        eval rows."""
        if set(map(type, records)) == {tuple}:
            return self._guarded(self.metrics.encode, records, _points)
        rows, system, lines, spans, evals = split_records(records)
        out: list[Batch] = []
        if rows:
            out += self._guarded(self.metrics.encode, rows, _points)
        if system:
            out += self._guarded(self.system.encode, system, _points)
        if lines:
            out += self._guarded(self._encode_lines, lines, len)
        if spans:
            out += self._guarded(self._encode_spans, spans, len)
        if evals:
            out += self._guarded(self._encode_evals, evals, len)
        return out

    def _encode_lines(self, lines: list[list[Any]]) -> list[Batch]:
        return self.logs.encode(wire_lines(lines, self._counters, self._next_sequence))

    def _encode_spans(self, spans: list[Any]) -> list[Batch]:
        return self.spans.encode([span.wire() for span in spans])

    def _encode_evals(self, rows: list[Any]) -> list[Batch]:
        """One body per eval run (the protocol's results body names one ``evalRunId``)."""
        by_eval_run: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_eval_run.setdefault(row.eval_run_id, []).append(row.item)
        most, size = self._limits
        out: list[Batch] = []
        for eval_run_id, items in by_eval_run.items():
            encoder = ItemEncoder(EVALS, {**self._header, "evalRunId": eval_run_id},
                                  self._next_seq, max_records=most, max_bytes=size,
                                  on_unencodable=self._unencodable)
            out += encoder.encode(items)
        return out

    def _unencodable(self, count: int) -> None:
        """Spans or eval rows left out of their body (a lone surrogate in a value set after
        the call that took it): counted as ``invalid``, warned about once."""
        self._counters.drop(REASON_INVALID, count)
        warn_user("rundial: spans or eval results holding text with a lone surrogate (no UTF-8 "
                  "form) were dropped; counted in diagnostics().dropped['invalid']")

    def _guarded(self, encode: Callable[[list[Any]], list[Batch]], records: list[Any],
                 points: Callable[[list[Any]], int]) -> list[Batch]:
        try:
            return encode(records)
        except Exception as exc:  # counted and reported; other kinds still go out
            self._counters.drop(REASON_WORKER_ERROR, points(records))
            self._on_error(exc)
            return []


def _points(rows: list[Any]) -> int:
    return sum(len(r[2]) for r in rows)
