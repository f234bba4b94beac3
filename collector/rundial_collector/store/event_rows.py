"""Backend-neutral pieces of the log and span stores (SQLite and PostgreSQL share them).

* :func:`line_hash`: the last part of a log line's de-duplication key.
* :func:`chunk_row`, :func:`log_row`, :func:`line_values`, :func:`span_values`: rows to and from the stores'
  column order.
* :func:`spans_in_write_order`: closed copies first, so within one batch a closed copy of a
  span wins over an open one.
* :func:`log_page`: one page of a log query, bounded in rows and in message characters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from rundial_collector.store.data_base import LEVEL_RANK, LOG_LEVELS, LogLine, LogRow, SpanRecord
from rundial_collector.store.events_base import ChunkRow
from rundial_collector.store.series_math import unpack

__all__ = ["PAGE_MAX_MESSAGE_CHARS", "SPAN_COLUMNS", "chunk_row", "line_hash", "line_values", "log_page",
           "log_row", "span_values", "spans_in_write_order"]

PAGE_MAX_MESSAGE_CHARS = 16 * 1024 * 1024  # a log page ends after this many message characters
# The span columns in SpanRecord's field order (every backend names them so).
SPAN_COLUMNS = ("project_id, run_id, trace_id, span_id, parent_span_id, name, kind, start_ns,"
                " end_ns, status, attrs_json, events_json, model, gen_ai_system, tokens_in,"
                " tokens_out, cost_usd")


def line_hash(message: str, writer: str = "") -> int:
    """A signed 64-bit hash of a log line's message and writer (the de-dup key's last part);
    with no writer, the hash of the message alone."""
    data = message.encode("utf-8", "surrogatepass")
    if writer:
        data = writer.encode("utf-8", "surrogatepass") + b"\x00" + data
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def line_values(line: LogLine, now_ms: int) -> tuple[Any, ...]:
    """(project_id, run_id, ts_ms, seq, level, message, truncated, msg_hash, received_ms)."""
    return (line.project_id, line.run_id, line.timestamp_ms, line.sequence,
            LEVEL_RANK[line.level], line.message, line.truncated,
            line_hash(line.message, line.writer), now_ms)


def span_values(span: SpanRecord, now_ms: int) -> tuple[Any, ...]:
    """The span's :data:`SPAN_COLUMNS` values, then ``received_ms``."""
    s = span
    return (s.project_id, s.run_id, s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind,
            s.start_ns, s.end_ns, s.status, s.attrs_json, s.events_json, s.model,
            s.gen_ai_system, s.tokens_in, s.tokens_out, s.cost_usd, now_ms)


def spans_in_write_order(spans: Sequence[SpanRecord]) -> list[SpanRecord]:
    """Closed spans (``endNs`` set) first, then open ones, each in request order."""
    return ([s for s in spans if s.end_ns is not None]
            + [s for s in spans if s.end_ns is None])


def log_row(row: Iterable[Any]) -> LogRow:
    """A :class:`LogRow` from (log_id, ts_ms, seq, level rank, message, truncated)."""
    log_id, ts, seq, level, message, truncated = row
    return LogRow(int(log_id), int(ts), int(seq), LOG_LEVELS[int(level)], str(message),
                  bool(truncated))


def log_page(rows: Iterable[Iterable[Any]], limit: int) -> tuple[list[LogRow], bool]:
    """Up to ``limit`` rows (fetched with LIMIT ``limit + 1``) and whether more follow. The
    page also ends once its messages reach :data:`PAGE_MAX_MESSAGE_CHARS` (then more follow),
    so a page of long lines stays bounded in memory."""
    page: list[LogRow] = []
    chars = 0
    for row in rows:
        if len(page) == limit or chars >= PAGE_MAX_MESSAGE_CHARS:
            return page, True
        page.append(log_row(row))
        chars += len(page[-1].message)
    return page, False


def chunk_row(row: Iterable[Any]) -> ChunkRow:
    """A :class:`ChunkRow` from (position, metric key, writer rank, packed steps, values,
    timestamps)."""
    chunk_id, key, rank, steps, values, stamps = row
    return ChunkRow(int(chunk_id), str(key), None if rank is None else int(rank),
                    unpack(steps, values, stamps))
