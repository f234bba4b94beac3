"""The run-list query: filters, ordering and keyset pagination (no OFFSET).

Rows are ordered by (sort expression, run_id) in one direction, and a page continues strictly
after the (value, run_id) of the previous page's last row, so pages are stable while runs are
being added. Soft-deleted runs are never listed. ``runName`` sorts missing names as the empty string. A run whose stored status is
``running`` but whose last heartbeat is older than the cutoff reads as ``lost``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from rundial_collector.store.control_base import RunQuery

SORT_EXPRESSIONS = {"runId": "run_id", "startedAtMs": "started_ms",
                    "updatedAtMs": "updated_ms", "runName": "COALESCE(name, '')"}
_STATUS = "CASE WHEN status = 'running' AND last_heartbeat_ms < ? THEN 'lost' ELSE status END"
RUN_COLUMNS = ("run_id, project_id, kind, name, run_group, job_type, tags, config, {status}, "
            "reason, started_ms, finished_ms, updated_ms, last_heartbeat_ms, client, "
            "(SELECT m.notes FROM run_meta m WHERE m.run_id = runs.run_id)")
# Soft-deleted runs (store/sqlite/run_edits.py) are invisible to every run read.
NOT_DELETED = ("NOT EXISTS (SELECT 1 FROM run_meta m WHERE m.run_id = runs.run_id "
               "AND m.deleted_ms IS NOT NULL)")


def status_sql() -> str:
    """The effective-status expression; takes one parameter, the lost cutoff (ms)."""
    return _STATUS


TABLE_COLUMNS = ("run_id, name, {status}, reason, kind, run_group, job_type, "
                 "CASE WHEN json_type(client, '$.host') = 'text' "
                 "THEN json_extract(client, '$.host') END, "
                 "tags, started_ms, finished_ms, updated_ms, config")


def query_page(conn: sqlite3.Connection, query: RunQuery, cutoff_ms: int,
               columns: str = RUN_COLUMNS) -> tuple[list[tuple[Any, ...]], bool]:
    """At most ``query.limit`` rows of ``columns`` (:data:`RUN_COLUMNS` or
    :data:`TABLE_COLUMNS`) and whether another page exists."""
    where, params = _filters(query, cutoff_ms)
    expr = SORT_EXPRESSIONS[query.order_by]
    direction = "ASC" if query.order == "asc" else "DESC"
    sql = (f"SELECT {columns.format(status=_STATUS)} FROM runs WHERE {' AND '.join(where)} "
           f"ORDER BY {expr} {direction}, run_id {direction} LIMIT ?")
    rows = conn.execute(sql, (cutoff_ms, *params, query.limit + 1)).fetchall()
    return rows[:query.limit], len(rows) > query.limit


def is_deleted(conn: sqlite3.Connection, run_id: str) -> bool:
    """True when ``run_id`` was soft-deleted."""
    row = conn.execute("SELECT 1 FROM run_meta WHERE run_id = ? AND deleted_ms IS NOT NULL",
                       (run_id,)).fetchone()
    return row is not None


def _filters(query: RunQuery, cutoff_ms: int) -> tuple[list[str], list[Any]]:
    where = ["project_id = ?", NOT_DELETED]
    params: list[Any] = [query.project_id]
    if query.after is not None:
        expr = SORT_EXPRESSIONS[query.order_by]
        op = ">" if query.order == "asc" else "<"
        value, run_id = query.after
        where.append(f"({expr} {op} ? OR ({expr} = ? AND run_id {op} ?))")
        params += [value, value, run_id]
    if query.search:
        pattern = "%" + _escape_like(query.search) + "%"
        where.append("(run_id LIKE ? ESCAPE '\\' OR COALESCE(name, '') LIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    if query.statuses:
        marks = ", ".join("?" for _ in query.statuses)
        where.append(f"{_STATUS} IN ({marks})")
        params += [cutoff_ms, *sorted(query.statuses)]
    return where, params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
