"""Run lifecycle SQL: the resume matrix, terminal statuses, config merges and run reads.

Every mutation runs as one ``engine.write`` job, so check-and-insert is atomic with respect to
other writers (the engine has a single writer thread): two concurrent ``resume="allow"`` starts
of a missing id serialize, one creates, the other attaches.

``touch_runs`` is for the data plane: call it inside an ingest write job to record liveness.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

import orjson

from rundial_collector.store.control_base import (TERMINAL_STATUSES, Run, RunQuery, RunStart,
                                                  StoreConflict, StoreNotFound, TableRow)
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.runquery import (NOT_DELETED, RUN_COLUMNS, TABLE_COLUMNS,
                                                     is_deleted, query_page, status_sql)

RUNS_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    kind TEXT NOT NULL,
    name TEXT,
    run_group TEXT,
    job_type TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    reason TEXT,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    updated_ms INTEGER NOT NULL,
    last_heartbeat_ms INTEGER NOT NULL,
    client TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_started ON runs(project_id, started_ms, run_id);
CREATE INDEX IF NOT EXISTS runs_by_updated ON runs(project_id, updated_ms, run_id);
CREATE INDEX IF NOT EXISTS runs_by_id ON runs(project_id, run_id);
CREATE TABLE IF NOT EXISTS run_start_tokens (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    token TEXT NOT NULL,
    PRIMARY KEY (run_id, token)
);
"""]

HEARTBEAT_GRANULARITY_MS = 1000  # touch_runs skips runs seen less than this long ago


def run_from_row(row: tuple[Any, ...]) -> Run:
    """Build a :class:`Run` from a row selected with :data:`RUN_COLUMNS`."""
    (run_id, project_id, kind, name, group, job_type, tags, config, status, reason, started,
     finished, updated, heartbeat, client, notes) = row
    return Run(run_id, project_id, kind, name, group, job_type, tuple(orjson.loads(tags)),
               orjson.loads(config), status, reason, started, finished, updated, heartbeat,
               orjson.loads(client) if client else None, notes or "")


def select_run(conn: sqlite3.Connection, run_id: str, status_expr: str = "status",
               params: tuple[Any, ...] = ()) -> Run | None:
    """The run with this id; None when unknown or soft-deleted."""
    sql = (f"SELECT {RUN_COLUMNS.format(status=status_expr)} FROM runs "
           f"WHERE run_id = ? AND {NOT_DELETED}")
    row = conn.execute(sql, (*params, run_id)).fetchone()
    return run_from_row(row) if row else None


def touch_runs(conn: sqlite3.Connection, runs: Iterable[tuple[str, str]], now_ms: int) -> None:
    """Record activity (``lastHeartbeatMs``/``updatedAtMs``) for existing runs.

    ``runs`` are (project id, run id) pairs: a run is touched only by activity in its own
    project, so data another project writes under the same run id never revives it.
    """
    stale = now_ms - HEARTBEAT_GRANULARITY_MS
    conn.executemany(
        "UPDATE runs SET last_heartbeat_ms = ?, updated_ms = ? "
        "WHERE project_id = ? AND run_id = ? AND last_heartbeat_ms < ?",
        [(now_ms, now_ms, project_id, run_id, stale) for project_id, run_id in set(runs)])


class SQLiteRuns:
    """Run methods of the control store (mixed into :class:`SQLiteControl`)."""

    engine: SQLiteEngine
    lost_after_ms: int

    async def start_run(self, start: RunStart, now_ms: int) -> tuple[Run, bool]:
        return await self.engine.write(lambda conn: _start(conn, start, now_ms))

    async def record_heartbeat(self, project_id: str, run_id: str, now_ms: int) -> None:
        await self.engine.write(lambda conn: touch_runs(conn, [(project_id, run_id)], now_ms))

    async def get_run(self, run_id: str) -> Run | None:
        cutoff = int(time.time() * 1000) - self.lost_after_ms
        return await self.engine.read(
            lambda conn: select_run(conn, run_id, status_sql(), (cutoff,)))

    async def finish_run(self, run_id: str, status: str, reason: str | None,
                         finished_ms: int, now_ms: int) -> tuple[Run, bool]:
        return await self.engine.write(
            lambda conn: _finish(conn, run_id, status, reason, finished_ms, now_ms))

    async def merge_run_config(self, run_id: str, patch: dict[str, Any], now_ms: int) -> Run:
        return await self.engine.write(lambda conn: _merge_config(conn, run_id, patch, now_ms))

    async def query_runs(self, query: RunQuery, now_ms: int) -> tuple[list[Run], bool]:
        cutoff = now_ms - self.lost_after_ms
        return await self.engine.read(lambda conn: _query_runs(conn, query, cutoff))

    async def query_table_rows(self, query: RunQuery, now_ms: int
                               ) -> tuple[list[TableRow], bool]:
        cutoff = now_ms - self.lost_after_ms
        def read(conn: sqlite3.Connection) -> tuple[list[TableRow], bool]:
            rows, more = query_page(conn, query, cutoff, TABLE_COLUMNS)
            return [TableRow(*row) for row in rows], more
        return await self.engine.read(read)


def _query_runs(conn: sqlite3.Connection, query: RunQuery, cutoff_ms: int
                ) -> tuple[list[Run], bool]:
    """A page of runs, decoded on the reader thread (a 10,000-run page never parses JSON on
    the event loop)."""
    rows, more = query_page(conn, query, cutoff_ms)
    return [run_from_row(row) for row in rows], more


def _start(conn: sqlite3.Connection, start: RunStart, now_ms: int) -> tuple[Run, bool]:
    """The resume matrix. A start whose token already started (or attached to) this run is a
    repeat of that client's own start: the run is returned unchanged (idempotent)."""
    if is_deleted(conn, start.run_id):  # never revived: docs/protocol.md §4.9
        raise StoreConflict(f"run {start.run_id} was deleted; its id cannot be used again",
                            "runId")
    existing = select_run(conn, start.run_id)
    if existing is None:
        if start.resume == "must":
            raise StoreNotFound(f"run {start.run_id} does not exist (resume=must)", "runId")
        _insert(conn, start, now_ms)
        _remember_token(conn, start)
        return _reload(conn, start.run_id), True
    if existing.project_id != start.project_id:
        raise StoreConflict(f"run id {start.run_id} belongs to another project", "runId")
    if start.start_token is not None and _known_token(conn, start):
        return existing, False
    terminal = existing.status in TERMINAL_STATUSES
    if start.resume == "never":
        raise StoreConflict(f"run {start.run_id} already exists; start it with resume='allow' "
                            "or 'must' to attach", "runId")
    if start.resume == "allow" and terminal:
        raise StoreConflict(f"run {start.run_id} is {existing.status}; resume='allow' does not "
                            "reopen finished runs (use resume='must')", "runId")
    _attach(conn, existing, start, now_ms)
    _remember_token(conn, start)
    return _reload(conn, start.run_id), False


def _known_token(conn: sqlite3.Connection, start: RunStart) -> bool:
    row = conn.execute("SELECT 1 FROM run_start_tokens WHERE run_id = ? AND token = ?",
                       (start.run_id, start.start_token)).fetchone()
    return row is not None


def _remember_token(conn: sqlite3.Connection, start: RunStart) -> None:
    if start.start_token is not None:
        conn.execute("INSERT OR IGNORE INTO run_start_tokens (run_id, token) VALUES (?, ?)",
                     (start.run_id, start.start_token))


def _insert(conn: sqlite3.Connection, start: RunStart, now_ms: int) -> None:
    conn.execute(
        "INSERT INTO runs (run_id, project_id, kind, name, run_group, job_type, tags, config, "
        "status, started_ms, updated_ms, last_heartbeat_ms, client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        (start.run_id, start.project_id, start.kind, start.name, start.group, start.job_type,
         orjson.dumps(list(start.tags)).decode(), orjson.dumps(start.config).decode(),
         now_ms if start.started_ms is None else start.started_ms, now_ms, now_ms,
         orjson.dumps(start.client).decode() if start.client else None))


def _attach(conn: sqlite3.Connection, run: Run, start: RunStart, now_ms: int) -> None:
    """Attach (or, for a terminal run under ``must``, reopen): status back to running,
    config merged, tags unioned, name/group/jobType replaced only when given, the start time
    moved earlier only (to a client's recorded start)."""
    tags = list(dict.fromkeys([*run.tags, *start.tags]))
    started = run.started_ms if start.started_ms is None else min(run.started_ms, start.started_ms)
    conn.execute(
        "UPDATE runs SET status = 'running', finished_ms = NULL, reason = NULL, "
        "name = COALESCE(?, name), run_group = COALESCE(?, run_group), "
        "job_type = COALESCE(?, job_type), tags = ?, config = ?, started_ms = ?, updated_ms = ?, "
        "last_heartbeat_ms = ? WHERE run_id = ?",
        (start.name, start.group, start.job_type, orjson.dumps(tags).decode(),
         orjson.dumps({**run.config, **start.config}).decode(), started, now_ms, now_ms,
         run.run_id))


def _finish(conn: sqlite3.Connection, run_id: str, status: str, reason: str | None,
            finished_ms: int, now_ms: int) -> tuple[Run, bool]:
    run = _existing(conn, run_id)
    if run.status == status:
        return run, False
    if run.status in TERMINAL_STATUSES:
        raise StoreConflict(f"run {run_id} is already {run.status}; it cannot become {status}",
                            "status")
    conn.execute(
        "UPDATE runs SET status = ?, reason = ?, finished_ms = ?, updated_ms = ? "
        "WHERE run_id = ?", (status, reason, finished_ms, max(now_ms, run.updated_ms), run_id))
    return _reload(conn, run_id), True


def _merge_config(conn: sqlite3.Connection, run_id: str, patch: dict[str, Any],
                  now_ms: int) -> Run:
    run = _existing(conn, run_id)
    if run.status in TERMINAL_STATUSES:
        raise StoreConflict(f"run {run_id} is {run.status}; its config is frozen", "runId")
    conn.execute(
        "UPDATE runs SET config = ?, updated_ms = ?, last_heartbeat_ms = ? WHERE run_id = ?",
        (orjson.dumps({**run.config, **patch}).decode(), now_ms, now_ms, run_id))
    return _reload(conn, run_id)


def _existing(conn: sqlite3.Connection, run_id: str) -> Run:
    run = select_run(conn, run_id)
    if run is None:
        raise StoreNotFound(f"run {run_id} was not found", "runId")
    return run


def _reload(conn: sqlite3.Connection, run_id: str) -> Run:
    run = select_run(conn, run_id)
    assert run is not None
    return run
