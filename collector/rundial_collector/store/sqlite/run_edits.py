"""Run edits SQL (:mod:`rundial_collector.store.run_edits_base`).

``run_meta`` holds what the UI adds to a run (notes, the deletion time); ``run_edits`` is the
append-only log of every edit. Name and tags are updated in ``runs`` itself. A run with
``run_meta.deleted_ms`` set is invisible to :func:`~.runs.select_run` and the run lists (see
:data:`~.runquery.NOT_DELETED`), and ``runs/start`` refuses its id (409).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from rundial_collector.store.control_base import Run, StoreNotFound
from rundial_collector.store.run_edits_base import RunEdit
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
                       now_ms: int) -> Run:
        def job(conn: sqlite3.Connection) -> Run:
            _visible_run(conn, project_id, run_id)
            if edit.name is not None:
                conn.execute("UPDATE runs SET name = ?, updated_ms = MAX(updated_ms, ?) "
                             "WHERE run_id = ?", (edit.name, now_ms, run_id))
                _log(conn, run_id, now_ms, key_id, "runName", edit.name)
            if edit.tags is not None:
                conn.execute("UPDATE runs SET tags = ?, updated_ms = MAX(updated_ms, ?) "
                             "WHERE run_id = ?",
                             (orjson.dumps(list(edit.tags)).decode(), now_ms, run_id))
                _log(conn, run_id, now_ms, key_id, "tags", list(edit.tags))
            if edit.notes is not None:
                conn.execute("INSERT INTO run_meta (run_id, notes) VALUES (?, ?) "
                             "ON CONFLICT(run_id) DO UPDATE SET notes = excluded.notes",
                             (run_id, edit.notes))
                _log(conn, run_id, now_ms, key_id, "notes", edit.notes)
            return _visible_run(conn, project_id, run_id)
        return await self.engine.write(job)

    async def delete_run(self, project_id: str, run_id: str, key_id: str, now_ms: int) -> None:
        def job(conn: sqlite3.Connection) -> None:
            _visible_run(conn, project_id, run_id)
            conn.execute("INSERT INTO run_meta (run_id, deleted_ms) VALUES (?, ?) "
                         "ON CONFLICT(run_id) DO UPDATE SET deleted_ms = excluded.deleted_ms",
                         (run_id, now_ms))
            _log(conn, run_id, now_ms, key_id, "deleted", True)
        await self.engine.write(job)


def _visible_run(conn: sqlite3.Connection, project_id: str, run_id: str) -> Run:
    run = select_run(conn, run_id)
    if run is None or run.project_id != project_id:
        raise StoreNotFound(f"run {run_id} was not found in this project", "runId")
    return run


def _log(conn: sqlite3.Connection, run_id: str, now_ms: int, key_id: str, field: str,
         value: Any) -> None:
    conn.execute("INSERT INTO run_edits (run_id, edited_ms, key_id, field, value) "
                 "VALUES (?, ?, ?, ?, ?)",
                 (run_id, now_ms, key_id, field, orjson.dumps(value).decode()))
