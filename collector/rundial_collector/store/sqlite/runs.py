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

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.store.control_base import Run, RunQuery, RunStart, TableRow
from rundial_collector.store.control_rows import (finish_changes, found_run, run_from_row,
                                                  start_action)
from rundial_collector.store.control_sql import (REMEMBER_TOKEN, TOKEN_KNOWN, attach_run,
                                                 finish_run, insert_run, merge_config,
                                                 select_run_sql)
from rundial_collector.store.sqlite.accounts import audit_in_tx
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.runquery import (TABLE_COLUMNS, is_deleted, query_page,
                                                     status_sql)

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


def select_run(conn: sqlite3.Connection, run_id: str, status_expr: str = "status",
               params: tuple[Any, ...] = ()) -> Run | None:
    """The run with this id; None when unknown or soft-deleted."""
    row = conn.execute(select_run_sql(status_expr), (*params, run_id)).fetchone()
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

    async def start_run(self, start: RunStart, now_ms: int, *, audit: AuditEvent | None = None
                        ) -> tuple[Run, bool]:
        def job(conn: sqlite3.Connection) -> tuple[Run, bool]:
            run, created = _start(conn, start, now_ms)
            audit_in_tx(conn, audit if created else None)
            return run, created
        return await self.engine.write(job)

    async def record_heartbeat(self, project_id: str, run_id: str, now_ms: int) -> None:
        await self.engine.write(lambda conn: touch_runs(conn, [(project_id, run_id)], now_ms))

    async def get_run(self, run_id: str) -> Run | None:
        cutoff = int(time.time() * 1000) - self.lost_after_ms
        return await self.engine.read(
            lambda conn: select_run(conn, run_id, status_sql(), (cutoff,)))

    async def finish_run(self, run_id: str, status: str, reason: str | None,
                         finished_ms: int, now_ms: int, *, audit: AuditEvent | None = None
                         ) -> tuple[Run, bool]:
        def job(conn: sqlite3.Connection) -> tuple[Run, bool]:
            run, changed = _finish(conn, run_id, status, reason, finished_ms, now_ms)
            audit_in_tx(conn, audit if changed else None)
            return run, changed
        return await self.engine.write(job)

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
    """The resume matrix (:func:`start_action`). A start whose token already started (or
    attached to) this run is a repeat of that client's own start: the run is returned
    unchanged (idempotent)."""
    existing = select_run(conn, start.run_id)
    token_known = start.start_token is not None and _known_token(conn, start)
    action = start_action(is_deleted(conn, start.run_id), existing, start, token_known)
    if action == "unchanged":
        assert existing is not None
        return existing, False
    if action == "create":
        conn.execute(*insert_run(start, now_ms))
    else:
        assert existing is not None
        conn.execute(*attach_run(existing, start, now_ms))
    _remember_token(conn, start)
    return _reload(conn, start.run_id), action == "create"


def _known_token(conn: sqlite3.Connection, start: RunStart) -> bool:
    row = conn.execute(TOKEN_KNOWN, (start.run_id, start.start_token)).fetchone()
    return row is not None


def _remember_token(conn: sqlite3.Connection, start: RunStart) -> None:
    if start.start_token is not None:
        conn.execute(REMEMBER_TOKEN, (start.run_id, start.start_token))


def _finish(conn: sqlite3.Connection, run_id: str, status: str, reason: str | None,
            finished_ms: int, now_ms: int) -> tuple[Run, bool]:
    run = _existing(conn, run_id)
    if not finish_changes(run, status):
        return run, False
    conn.execute(*finish_run(run, status, reason, finished_ms, now_ms))
    return _reload(conn, run_id), True


def _merge_config(conn: sqlite3.Connection, run_id: str, patch: dict[str, Any],
                  now_ms: int) -> Run:
    conn.execute(*merge_config(_existing(conn, run_id), patch, now_ms))
    return _reload(conn, run_id)


def _existing(conn: sqlite3.Connection, run_id: str) -> Run:
    return found_run(select_run(conn, run_id), run_id)


def _reload(conn: sqlite3.Connection, run_id: str) -> Run:
    run = select_run(conn, run_id)
    assert run is not None
    return run
