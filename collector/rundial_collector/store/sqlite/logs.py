"""Log lines and spans in SQLite: one row each, de-duplicated on insert.

* Log lines are unique on (project, run, timestampMs, sequence, 64-bit identity hash); a re-sent
  line hits the unique index and ``INSERT OR IGNORE`` skips it. The identity hash covers the
  message and the line's writer (writer id and rank): sequences restart per writer, so
  identical lines of two ranks or processes are two lines. Lines without a writer (rc1 clients)
  hash the message alone, exactly as before, so no stored row needs migrating. Reads are keyset-paged on
  (timestampMs, sequence, log_id) in either direction.
* Spans are unique on (project, run, traceId, spanId). A closed copy (``endNs`` set) supersedes
  a stored open copy (``endNs`` null): the open row is deleted and the closed one inserted in
  the same write job, so it gets a new, larger ``span_pk`` and the live stream (which follows
  ``span_pk``) delivers it too. Otherwise the first stored copy wins: an open copy never
  replaces anything, and a re-send of a stored closed span changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from rundial_collector.store.data_base import LogLine, LogQuery, LogRow, SpanRecord
from rundial_collector.store.event_rows import (SPAN_COLUMNS, line_values, log_page, span_values,
                                                spans_in_write_order)

LOGS_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS log_lines (
    log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    level INTEGER NOT NULL,
    message TEXT NOT NULL,
    truncated INTEGER NOT NULL,
    msg_hash INTEGER NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS log_lines_dedup
    ON log_lines(project_id, run_id, ts_ms, seq, msg_hash);
CREATE INDEX IF NOT EXISTS log_lines_order ON log_lines(project_id, run_id, ts_ms, seq, log_id);
CREATE TABLE IF NOT EXISTS spans (
    span_pk INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER,
    status TEXT NOT NULL,
    attrs_json TEXT NOT NULL,
    events_json TEXT NOT NULL,
    model TEXT,
    gen_ai_system TEXT,
    tokens_in TEXT,
    tokens_out TEXT,
    cost_usd REAL,
    received_ms INTEGER NOT NULL,
    UNIQUE (project_id, run_id, trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans(project_id, run_id, start_ns);
"""]

def write_lines(conn: sqlite3.Connection, lines: Sequence[LogLine], now_ms: int) -> None:
    """Insert lines, skipping exact re-sends (call inside a write job)."""
    conn.executemany(
        "INSERT OR IGNORE INTO log_lines (project_id, run_id, ts_ms, seq, level, message,"
        " truncated, msg_hash, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [line_values(x, now_ms) for x in lines])


def write_spans(conn: sqlite3.Connection, spans: Sequence[SpanRecord], now_ms: int) -> None:
    """Store spans (call inside a write job): closed copies replace stored open copies of the
    same (project, run, traceId, spanId), then closed spans are inserted before open ones, so
    within one batch too a closed copy wins over an open one; see the module docstring."""
    closed = [s for s in spans if s.end_ns is not None]
    conn.executemany(
        "DELETE FROM spans WHERE project_id = ? AND run_id = ? AND trace_id = ? AND span_id = ?"
        " AND end_ns IS NULL", [(s.project_id, s.run_id, s.trace_id, s.span_id) for s in closed])
    conn.executemany(
        f"INSERT OR IGNORE INTO spans ({SPAN_COLUMNS}, received_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [span_values(s, now_ms) for s in spans_in_write_order(spans)])


def query_lines(conn: sqlite3.Connection, query: LogQuery) -> tuple[list[LogRow], bool]:
    """One keyset page of log lines (see :class:`LogQuery`) and whether more follow.

    A page also ends once its messages reach
    :data:`~rundial_collector.store.event_rows.PAGE_MAX_MESSAGE_CHARS`, so a page of long lines
    stays bounded in memory.
    """
    where, params = _log_filters(query)
    direction = "DESC" if query.newest_first else "ASC"
    cursor = conn.execute(
        "SELECT log_id, ts_ms, seq, level, message, truncated FROM log_lines WHERE "
        + " AND ".join(where)
        + f" ORDER BY ts_ms {direction}, seq {direction}, log_id {direction} LIMIT ?",
        (*params, query.limit + 1))
    return log_page(cursor, query.limit)


def _log_filters(query: LogQuery) -> tuple[list[str], list[Any]]:
    where = ["project_id = ?", "run_id = ?"]
    params: list[Any] = [query.project_id, query.run_id]
    if query.min_level > 0:
        where.append("level >= ?")
        params.append(query.min_level)
    if query.text:
        where.append("instr(message, ?) > 0")
        params.append(query.text)
    if query.start_ms is not None:
        where.append("ts_ms >= ?")
        params.append(query.start_ms)
    if query.end_ms is not None:
        where.append("ts_ms <= ?")
        params.append(query.end_ms)
    if query.after is not None:
        where.append("(ts_ms, seq, log_id) " + ("<" if query.newest_first else ">")
                     + " (?, ?, ?)")
        params.extend(query.after)
    return where, params


def select_spans(conn: sqlite3.Connection, project_id: str, run_id: str, limit: int
                 ) -> list[SpanRecord]:
    rows = conn.execute(f"SELECT {SPAN_COLUMNS} FROM spans WHERE project_id = ? AND run_id = ?"
                        " ORDER BY start_ns, span_pk LIMIT ?",
                        (project_id, run_id, limit)).fetchall()
    return [SpanRecord(*row) for row in rows]


def events_exist(conn: sqlite3.Connection, project_id: str, run_id: str) -> bool:
    """True when the run has any log line or span."""
    for table in ("log_lines", "spans"):
        if conn.execute(f"SELECT 1 FROM {table} WHERE project_id = ? AND run_id = ? LIMIT 1",
                        (project_id, run_id)).fetchone() is not None:
            return True
    return False
