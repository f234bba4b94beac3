"""The run-list query on SQLite: the shared SQL of :mod:`rundial_collector.store.control_sql`
(filters, ordering, keyset pagination, the derived ``lost`` status) run on a connection."""

from __future__ import annotations

import sqlite3
from typing import Any

from rundial_collector.store.control_base import RunQuery
from rundial_collector.store.control_sql import (IS_DELETED, NOT_DELETED, RUN_COLUMNS, STATUS,
                                                   page_sql, table_columns)

__all__ = ["NOT_DELETED", "RUN_COLUMNS", "TABLE_COLUMNS", "is_deleted", "query_page",
           "status_sql"]

TABLE_COLUMNS = table_columns("CASE WHEN json_type(client, '$.host') = 'text' "
                              "THEN json_extract(client, '$.host') END")


def status_sql() -> str:
    """The effective-status expression; takes one parameter, the lost cutoff (ms)."""
    return STATUS


def query_page(conn: sqlite3.Connection, query: RunQuery, cutoff_ms: int,
               columns: str = RUN_COLUMNS) -> tuple[list[tuple[Any, ...]], bool]:
    """At most ``query.limit`` rows of ``columns`` (:data:`RUN_COLUMNS` or
    :data:`TABLE_COLUMNS`) and whether another page exists."""
    sql, params = page_sql(query, cutoff_ms, columns)
    rows = conn.execute(sql, params).fetchall()
    return rows[:query.limit], len(rows) > query.limit


def is_deleted(conn: sqlite3.Connection, run_id: str) -> bool:
    """True when ``run_id`` was soft-deleted."""
    return conn.execute(IS_DELETED, (run_id,)).fetchone() is not None
