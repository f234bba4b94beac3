"""SQLite implementation of :class:`EventStore`: read-only SQL for the live event stream.

Positions are the global AUTOINCREMENT ids of ``metric_chunks.chunk_id``,
``log_lines.log_id`` and ``spans.span_pk``. The single writer assigns them in commit order, so "every row of a run
with an id at or below P" is a well-defined, gap-free prefix once P has been read.

* Live tails (:func:`tail_chunks`, :func:`tail_lines`, :func:`tail_spans`) walk the rowid range after a position
  that is close to the head, whatever the run's size (``NOT INDEXED`` forces the rowid range
  scan; ``CROSS JOIN`` keeps ``metric_chunks`` as the outer loop).
* Replays walk one run's own index: chunks series by series (:func:`series_chunks`), lines in
  (timestampMs, sequence, id) order (:func:`replay_lines`), both bounded by an id window.

Every function runs on a reader connection and never writes. They raise only
``sqlite3.Error`` (the callers log it and retry on their next cycle).
"""

from __future__ import annotations

import functools
import sqlite3

from rundial_collector.store.data_base import LogRow, SpanRecord
from rundial_collector.store.event_rows import SPAN_COLUMNS, chunk_row, log_row
from rundial_collector.store.events_base import ChunkRow, CommitCallback, EventBatch, SpanRow
from rundial_collector.store.sqlite.engine import SQLiteEngine

_LINE_COLUMNS = "log_id, ts_ms, seq, level, message, truncated"


class SQLiteEvents:
    """:class:`EventStore` methods (mixed into :class:`SQLiteStore`); each is one reader job."""

    engine: SQLiteEngine

    def on_remote_commit(self, callback: CommitCallback) -> None:
        """No other process writes this database: nothing to report."""

    async def event_head(self) -> tuple[int, int, int]:
        return await self.engine.read(head)

    async def tail_events(self, project_id: str, run_id: str, after: tuple[int, int, int],
                          limits: tuple[int, int, int]) -> EventBatch:
        return await self.engine.read(lambda conn: EventBatch(
            tail_chunks(conn, project_id, run_id, after[0], limits[0]),
            tail_lines(conn, project_id, run_id, after[1], limits[1]),
            tail_spans(conn, project_id, run_id, after[2], limits[2])))

    async def replay_spans(self, project_id: str, run_id: str, window: tuple[int, int],
                           limit: int) -> list[SpanRow]:
        return await self.engine.read(functools.partial(
            replay_spans, project_id=project_id, run_id=run_id, window=window, limit=limit))

    async def run_series(self, project_id: str, run_id: str) -> list[tuple[int, str]]:
        return await self.engine.read(functools.partial(run_series, project_id=project_id,
                                                        run_id=run_id))

    async def series_chunks(self, series_id: int, metric_key: str, window: tuple[int, int],
                            limit: int) -> list[ChunkRow]:
        return await self.engine.read(functools.partial(
            series_chunks, series_id=series_id, metric_key=metric_key, window=window,
            limit=limit))

    async def replay_lines(self, project_id: str, run_id: str, window: tuple[int, int],
                           after: tuple[int, int, int] | None, limit: int) -> list[LogRow]:
        return await self.engine.read(functools.partial(
            replay_lines, project_id=project_id, run_id=run_id, window=window, after=after,
            limit=limit))


def head(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """The newest (chunk id, log id, span id) committed so far, over every run (0 when
    empty)."""
    chunk = conn.execute("SELECT COALESCE(max(chunk_id), 0) FROM metric_chunks").fetchone()[0]
    line = conn.execute("SELECT COALESCE(max(log_id), 0) FROM log_lines").fetchone()[0]
    span = conn.execute("SELECT COALESCE(max(span_pk), 0) FROM spans").fetchone()[0]
    return int(chunk), int(line), int(span)


def tail_chunks(conn: sqlite3.Connection, project_id: str, run_id: str, after: int,
                limit: int) -> list[ChunkRow]:
    """Up to ``limit`` chunks of the run with id > ``after``, by id (live path)."""
    rows = conn.execute(
        "SELECT c.chunk_id, s.metric_key, c.writer_rank, c.steps, c.vals, c.timestamps"
        " FROM metric_chunks AS c NOT INDEXED CROSS JOIN series AS s"
        " ON s.series_id = c.series_id"
        " WHERE c.chunk_id > ? AND s.project_id = ? AND s.run_id = ?"
        " ORDER BY c.chunk_id LIMIT ?", (after, project_id, run_id, limit)).fetchall()
    return [chunk_row(row) for row in rows]


def tail_lines(conn: sqlite3.Connection, project_id: str, run_id: str, after: int,
               limit: int) -> list[LogRow]:
    """Up to ``limit`` log lines of the run with id > ``after``, by id (live path)."""
    rows = conn.execute(
        f"SELECT {_LINE_COLUMNS} FROM log_lines NOT INDEXED"
        " WHERE log_id > ? AND project_id = ? AND run_id = ? ORDER BY log_id LIMIT ?",
        (after, project_id, run_id, limit)).fetchall()
    return [log_row(row) for row in rows]


def tail_spans(conn: sqlite3.Connection, project_id: str, run_id: str, after: int,
               limit: int) -> list[SpanRow]:
    """Up to ``limit`` spans of the run with id > ``after``, by id (live path)."""
    rows = conn.execute(
        f"SELECT span_pk, {SPAN_COLUMNS} FROM spans NOT INDEXED"
        " WHERE span_pk > ? AND project_id = ? AND run_id = ? ORDER BY span_pk LIMIT ?",
        (after, project_id, run_id, limit)).fetchall()
    return [SpanRow(int(row[0]), SpanRecord(*row[1:])) for row in rows]


def replay_spans(conn: sqlite3.Connection, project_id: str, run_id: str,
                 window: tuple[int, int], limit: int) -> list[SpanRow]:
    """Up to ``limit`` spans of the run with ``window[0] < id <= window[1]``, by id (replay
    path: the run's own index, then a sort of its spans in the window)."""
    rows = conn.execute(
        f"SELECT span_pk, {SPAN_COLUMNS} FROM spans WHERE project_id = ? AND run_id = ?"
        " AND span_pk > ? AND span_pk <= ? ORDER BY span_pk LIMIT ?",
        (project_id, run_id, window[0], window[1], limit)).fetchall()
    return [SpanRow(int(row[0]), SpanRecord(*row[1:])) for row in rows]


def run_series(conn: sqlite3.Connection, project_id: str, run_id: str
               ) -> list[tuple[int, str]]:
    """(series id, metric key) of every series of the run, by key."""
    rows = conn.execute("SELECT series_id, metric_key FROM series WHERE project_id = ?"
                        " AND run_id = ? ORDER BY metric_key", (project_id, run_id)).fetchall()
    return [(int(series_id), str(key)) for series_id, key in rows]


def series_chunks(conn: sqlite3.Connection, series_id: int, metric_key: str,
                  window: tuple[int, int], limit: int) -> list[ChunkRow]:
    """Up to ``limit`` chunks of one series with ``window[0] < id <= window[1]``, by id."""
    rows = conn.execute(
        "SELECT chunk_id, ?, writer_rank, steps, vals, timestamps FROM metric_chunks"
        " WHERE series_id = ? AND chunk_id > ? AND chunk_id <= ? ORDER BY chunk_id LIMIT ?",
        (metric_key, series_id, window[0], window[1], limit)).fetchall()
    return [chunk_row(row) for row in rows]


def replay_lines(conn: sqlite3.Connection, project_id: str, run_id: str,
                 window: tuple[int, int], after: tuple[int, int, int] | None,
                 limit: int) -> list[LogRow]:
    """Up to ``limit`` lines with ``window[0] < id <= window[1]`` in (timestampMs, sequence,
    id) order, continuing strictly after the key ``after`` (None = from the start)."""
    key = after if after is not None else (-1, -1, -1)
    rows = conn.execute(
        f"SELECT {_LINE_COLUMNS} FROM log_lines"
        " WHERE project_id = ? AND run_id = ? AND (ts_ms, seq, log_id) > (?, ?, ?)"
        " AND log_id > ? AND log_id <= ? ORDER BY ts_ms, seq, log_id LIMIT ?",
        (project_id, run_id, *key, window[0], window[1], limit)).fetchall()
    return [log_row(row) for row in rows]
