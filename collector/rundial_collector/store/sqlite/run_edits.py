"""Run edits SQL (:mod:`rundial_collector.store.run_edits_base`).

``run_meta`` holds what the UI adds to a run (notes, the deletion time); ``run_edits`` is the
append-only log of every edit. Name and tags are updated in ``runs`` itself. A run with
``run_meta.deleted_ms`` set is invisible to :func:`~.runs.select_run` and the run lists (see
:data:`~.runquery.NOT_DELETED`), and ``runs/start`` refuses its id (409).
"""

from __future__ import annotations

import sqlite3

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.store.control_base import Run
from rundial_collector.store.control_rows import visible_in_project
from rundial_collector.store.control_sql import delete_statements, edit_statements
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.store.sqlite.accounts import audit_in_tx
from rundial_collector.store.sqlite.engine import SQLiteEngine
from rundial_collector.store.sqlite.runs import select_run

RUN_EDITS_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS run_meta (
    run_id TEXT PRIMARY KEY REFERENCES runs(run_id),
    notes TEXT,
    deleted_ms INTEGER
);
CREATE TABLE IF NOT EXISTS run_edits (
    edit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    edited_ms INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT
);
CREATE INDEX IF NOT EXISTS run_edits_by_run ON run_edits(run_id, edit_id);
"""]


class SQLiteRunEdits:
    """Run edit methods of the store (mixed into :class:`SQLiteStore`)."""

    engine: SQLiteEngine

    async def edit_run(self, project_id: str, run_id: str, edit: RunEdit, key_id: str,
                       now_ms: int, *, audit: AuditEvent | None = None) -> Run:
        def job(conn: sqlite3.Connection) -> Run:
            run = _visible_run(conn, project_id, run_id)
            updated_ms = max(run.updated_ms, now_ms)
            for sql, params in edit_statements(run_id, edit, key_id, now_ms, updated_ms):
                conn.execute(sql, params)
            audit_in_tx(conn, audit)
            return _visible_run(conn, project_id, run_id)
        return await self.engine.write(job)

    async def delete_run(self, project_id: str, run_id: str, key_id: str, now_ms: int, *,
                         audit: AuditEvent | None = None) -> None:
        def job(conn: sqlite3.Connection) -> None:
            _visible_run(conn, project_id, run_id)
            for sql, params in delete_statements(run_id, key_id, now_ms):
                conn.execute(sql, params)
            audit_in_tx(conn, audit)
        await self.engine.write(job)


def _visible_run(conn: sqlite3.Connection, project_id: str, run_id: str) -> Run:
    return visible_in_project(select_run(conn, run_id), project_id, run_id)
