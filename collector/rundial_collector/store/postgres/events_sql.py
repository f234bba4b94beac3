"""PostgreSQL SQL for log lines, spans, diagnostics and ``run_known`` (the same results as
:mod:`rundial_collector.store.sqlite.logs`).

* Log lines are unique on (project, run, timestampMs, sequence, identity hash); one multi-row
  ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` per request stores them, so an
  exact re-send is skipped, also when two collectors race on it (the second waits for the
  first's commit on the unique index, then skips).
* Spans are unique on (project, run, traceId, spanId). A closed copy replaces a stored open
  copy (deleted, then inserted with a new, larger position, so the live stream delivers it);
  otherwise the first stored copy wins. Closed copies are written before open ones.
* Row ids (``log_id``, ``span_pk``) are the live stream's positions (see 0004_events.sql).

Every function runs inside a transaction of :class:`PgEngine`; errors are asyncpg's (the engine
maps connection loss to ``StoreUnavailable``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rundial_collector.store.data_base import Diagnostics, LogLine, LogQuery, LogRow, SpanRecord
from rundial_collector.store.event_rows import (SPAN_COLUMNS, line_values, log_page, span_values,
                                                spans_in_write_order)
from rundial_collector.store.postgres.engine import Conn

__all__ = ["latest_diagnostics", "query_lines", "run_is_known", "select_spans", "write_lines",
           "write_spans"]

_LINE_TYPES = ("text[]", "text[]", "bigint[]", "bigint[]", "smallint[]", "text[]", "boolean[]",
               "bigint[]", "bigint[]")
_SPAN_TYPES = ("text[]",) * 7 + ("bigint[]", "bigint[]") + ("text[]",) * 7 + (
    "float8[]", "bigint[]")


def _unnest(types: Sequence[str]) -> str:
    """``unnest($1::t1, $2::t2, ...)``: one parameter per column, one array element per row."""
    return "unnest(" + ", ".join(f"${i}::{t}" for i, t in enumerate(types, 1)) + ")"


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows transposed into one list per column (the ``unnest`` parameters)."""
    return [list(col) for col in zip(*rows)] if rows else [[] for _ in range(width)]


async def write_lines(conn: Conn, lines: Sequence[LogLine], now_ms: int) -> None:
    """Insert lines in request order, skipping exact re-sends (one statement)."""
    if not lines:
        return
    rows = [line_values(x, now_ms) for x in lines]
    await conn.execute(
        "INSERT INTO log_lines (project_id, run_id, ts_ms, seq, level, message, truncated,"
        " msg_hash, received_ms) SELECT * FROM " + _unnest(_LINE_TYPES)
        + " ON CONFLICT DO NOTHING", *_columns(rows, len(_LINE_TYPES)))


async def write_spans(conn: Conn, spans: Sequence[SpanRecord], now_ms: int) -> None:
    """Closed copies replace stored open copies of the same span, then every span is inserted
    (closed first) unless its key is stored; see the module docstring."""
    if not spans:
        return
    closed = [s for s in spans if s.end_ns is not None]
    if closed:
        await conn.execute(
            "DELETE FROM spans AS s USING unnest($1::text[], $2::text[], $3::text[],"
            " $4::text[]) AS k (project_id, run_id, trace_id, span_id)"
            " WHERE s.project_id = k.project_id AND s.run_id = k.run_id"
            " AND s.trace_id = k.trace_id AND s.span_id = k.span_id AND s.end_ns IS NULL",
            *_columns([(s.project_id, s.run_id, s.trace_id, s.span_id) for s in closed], 4))
    rows = [span_values(s, now_ms) for s in spans_in_write_order(spans)]
    await conn.execute(
        f"INSERT INTO spans ({SPAN_COLUMNS}, received_ms) SELECT * FROM "
        + _unnest(_SPAN_TYPES) + " ON CONFLICT DO NOTHING", *_columns(rows, len(_SPAN_TYPES)))


async def query_lines(conn: Conn, query: LogQuery) -> tuple[list[LogRow], bool]:
    """One keyset page of log lines (see :class:`LogQuery`) and whether more follow; a page
    also ends early to bound its message characters (:func:`log_page`)."""
    where, params = _log_filters(query)
    direction = "DESC" if query.newest_first else "ASC"
    params.append(query.limit + 1)
    rows = await conn.fetch(
        "SELECT log_id, ts_ms, seq, level, message, truncated FROM log_lines WHERE "
        + " AND ".join(where)
        + f" ORDER BY ts_ms {direction}, seq {direction}, log_id {direction}"
        + f" LIMIT ${len(params)}", *params)
    return log_page(rows, query.limit)


def _log_filters(query: LogQuery) -> tuple[list[str], list[Any]]:
    params: list[Any] = [query.project_id, query.run_id]
    where = ["project_id = $1", "run_id = $2"]

    def add(condition: str, *values: Any) -> None:
        numbers = range(len(params) + 1, len(params) + len(values) + 1)
        where.append(condition.format(*(f"${n}" for n in numbers)))
        params.extend(values)

    if query.min_level > 0:
        add("level >= {}", query.min_level)
    if query.text:
        add("strpos(message, {}) > 0", query.text)
    if query.start_ms is not None:
        add("ts_ms >= {}", query.start_ms)
    if query.end_ms is not None:
        add("ts_ms <= {}", query.end_ms)
    if query.after is not None:
        add("(ts_ms, seq, log_id) " + ("<" if query.newest_first else ">") + " ({}, {}, {})",
            *query.after)
    return where, params


async def select_spans(conn: Conn, project_id: str, run_id: str, limit: int
                       ) -> list[SpanRecord]:
    """Spans of a run by start time (then position), at most ``limit``."""
    rows = await conn.fetch(f"SELECT {SPAN_COLUMNS} FROM spans WHERE project_id = $1"
                            " AND run_id = $2 ORDER BY start_ns, span_pk LIMIT $3",
                            project_id, run_id, limit)
    return [SpanRecord(*row) for row in rows]


async def latest_diagnostics(conn: Conn, project_id: str, run_id: str) -> Diagnostics | None:
    """The run's newest stored ``clientDiagnostics`` snapshot, if any."""
    row = await conn.fetchrow("SELECT captured_at_ms, payload_json FROM client_diagnostics"
                              " WHERE project_id = $1 AND run_id = $2", project_id, run_id)
    return None if row is None else Diagnostics(project_id, run_id, int(row[0]), str(row[1]))


async def run_is_known(conn: Conn, project_id: str, run_id: str) -> bool:
    """True when the run has a runs row or any stored metric chunk, log line or span in the
    project (one statement, each branch an index probe)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = $2 AND project_id = $1)"
        " OR EXISTS (SELECT 1 FROM series s JOIN metric_chunks c ON c.series_id = s.series_id"
        "            WHERE s.project_id = $1 AND s.run_id = $2)"
        " OR EXISTS (SELECT 1 FROM log_lines WHERE project_id = $1 AND run_id = $2)"
        " OR EXISTS (SELECT 1 FROM spans WHERE project_id = $1 AND run_id = $2)",
        project_id, run_id))
