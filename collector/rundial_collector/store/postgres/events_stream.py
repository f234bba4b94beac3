"""PostgreSQL reads of the live event stream (:class:`EventStore`), over stream positions.

A position is ``(transaction id << 24) | ordinal`` (0004_events.sql): ``log_lines.log_id``,
``spans.span_pk`` and ``metric_chunks.event_pos``. The head and the live tails expose only
positions below :func:`bound` = ``pg_snapshot_xmin(pg_current_snapshot()) << 24``: their
transactions have all ended, and every transaction still running (or yet to start, on any
collector) writes positions above it. So every row at or below a position read here is
committed and stays the only one there: "after P" is a gap-free cursor across collectors.

The bound is read in the same statement as the rows it filters (one snapshot: a transaction
that ends after it was taken is neither counted nor seen). A row is exposed as soon as every
transaction older than its own has ended; a long transaction of another run delays, never
loses, it. Replays read below a head already read, so they need no bound.

Every function is read-only and raises only asyncpg's errors (the pump logs and retries).
"""

from __future__ import annotations

from asyncpg import Record

from rundial_collector.store.data_base import LogRow, SpanRecord
from rundial_collector.store.event_rows import SPAN_COLUMNS, chunk_row, log_row
from rundial_collector.store.events_base import ChunkRow, SpanRow
from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.postgres.metrics_write import CHUNK_BLOBS, STEPSETS

__all__ = ["BOUND", "head", "replay_lines", "replay_spans", "run_series", "series_chunks",
           "tail_chunks", "tail_lines", "tail_spans"]

# The lowest position a transaction still running (or not yet started) can write.
BOUND = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 24)"
_LINE_COLUMNS = "log_id, ts_ms, seq, level, message, truncated"
_CHUNK_COLUMNS = f"c.event_pos, s.metric_key, c.writer_rank, {CHUNK_BLOBS}"


async def head(conn: Conn) -> tuple[int, int, int]:
    """The newest exposed (chunk, line, span) positions over every run (0 when none)."""
    row = await conn.fetchrow(
        f"WITH b AS (SELECT {BOUND} AS bound)"
        " SELECT (SELECT COALESCE(max(event_pos), 0) FROM metric_chunks, b"
        "         WHERE event_pos < b.bound),"
        "        (SELECT COALESCE(max(log_id), 0) FROM log_lines, b WHERE log_id < b.bound),"
        "        (SELECT COALESCE(max(span_pk), 0) FROM spans, b WHERE span_pk < b.bound)")
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def tail_chunks(conn: Conn, project_id: str, run_id: str, after: int, limit: int
                      ) -> list[ChunkRow]:
    """Up to ``limit`` exposed chunks of the run with position > ``after``, by position."""
    rows = await conn.fetch(
        f"SELECT {_CHUNK_COLUMNS} FROM series s JOIN metric_chunks c"
        f" ON c.series_id = s.series_id{STEPSETS} WHERE s.project_id = $1 AND s.run_id = $2"
        f" AND c.event_pos > $3 AND c.event_pos < {BOUND} ORDER BY c.event_pos LIMIT $4",
        project_id, run_id, after, limit)
    return [chunk_row(row) for row in rows]


async def tail_lines(conn: Conn, project_id: str, run_id: str, after: int, limit: int
                     ) -> list[LogRow]:
    """Up to ``limit`` exposed log lines of the run with position > ``after``, by position."""
    rows = await _tail(conn, ("log_lines", "log_id", _LINE_COLUMNS), project_id, run_id, after,
                       limit)
    return [log_row(row) for row in rows]


async def tail_spans(conn: Conn, project_id: str, run_id: str, after: int, limit: int
                     ) -> list[SpanRow]:
    """Up to ``limit`` exposed spans of the run with position > ``after``, by position."""
    rows = await _tail(conn, ("spans", "span_pk", f"span_pk, {SPAN_COLUMNS}"), project_id,
                       run_id, after, limit)
    return [SpanRow(int(row[0]), SpanRecord(*row[1:])) for row in rows]


async def _tail(conn: Conn, table: tuple[str, str, str], project_id: str, run_id: str,
                after: int, limit: int) -> list[Record]:
    """Rows of ``table`` = (name, position column, selected columns), constants of this
    module: the run's exposed rows after ``after``, by position."""
    name, position, columns = table
    return await conn.fetch(
        f"SELECT {columns} FROM {name} WHERE project_id = $1 AND run_id = $2"
        f" AND {position} > $3 AND {position} < {BOUND} ORDER BY {position} LIMIT $4",
        project_id, run_id, after, limit)


async def replay_spans(conn: Conn, project_id: str, run_id: str, window: tuple[int, int],
                       limit: int) -> list[SpanRow]:
    """Up to ``limit`` spans of the run with ``window[0] < position <= window[1]``."""
    rows = await conn.fetch(
        f"SELECT span_pk, {SPAN_COLUMNS} FROM spans WHERE project_id = $1 AND run_id = $2"
        " AND span_pk > $3 AND span_pk <= $4 ORDER BY span_pk LIMIT $5",
        project_id, run_id, window[0], window[1], limit)
    return [SpanRow(int(row[0]), SpanRecord(*row[1:])) for row in rows]


async def run_series(conn: Conn, project_id: str, run_id: str) -> list[tuple[int, str]]:
    """(series id, metric key) of every series of the run, by key (byte order)."""
    rows = await conn.fetch("SELECT series_id, metric_key FROM series WHERE project_id = $1"
                            " AND run_id = $2 ORDER BY metric_key COLLATE \"C\"",
                            project_id, run_id)
    return [(int(series_id), str(key)) for series_id, key in rows]


async def series_chunks(conn: Conn, series_id: int, metric_key: str, window: tuple[int, int],
                        limit: int) -> list[ChunkRow]:
    """Up to ``limit`` chunks of one series with ``window[0] < position <= window[1]``."""
    rows = await conn.fetch(
        f"SELECT c.event_pos, $1::text, c.writer_rank, {CHUNK_BLOBS}"
        f" FROM metric_chunks c{STEPSETS} WHERE c.series_id = $2 AND c.event_pos > $3"
        " AND c.event_pos <= $4 ORDER BY c.event_pos LIMIT $5",
        metric_key, series_id, window[0], window[1], limit)
    return [chunk_row(row) for row in rows]


async def replay_lines(conn: Conn, project_id: str, run_id: str, window: tuple[int, int],
                       after: tuple[int, int, int] | None, limit: int) -> list[LogRow]:
    """Up to ``limit`` lines with ``window[0] < position <= window[1]`` in (timestampMs,
    sequence, position) order, strictly after the key ``after`` (None = from the start)."""
    key = after if after is not None else (-1, -1, -1)
    rows = await conn.fetch(
        f"SELECT {_LINE_COLUMNS} FROM log_lines WHERE project_id = $1 AND run_id = $2"
        " AND (ts_ms, seq, log_id) > ($3, $4, $5) AND log_id > $6 AND log_id <= $7"
        " ORDER BY ts_ms, seq, log_id LIMIT $8",
        project_id, run_id, *key, window[0], window[1], limit)
    return [log_row(row) for row in rows]
