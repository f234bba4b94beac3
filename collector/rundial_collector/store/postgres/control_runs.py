"""PostgreSQL: the run lifecycle (resume matrix, terminal statuses, config merges, heartbeats)
and the run reads (one run, pages of runs or table rows, runs by id).

The SQL and the decisions are the SQLite store's (:mod:`rundial_collector.store.control_sql`,
:mod:`rundial_collector.store.control_rows`). What differs is how they are made safe across
collectors: every read-modify-write first locks the run's row (``SELECT ... FOR UPDATE``), so a
start, a finish, a config merge and an edit of one run serialise across processes. A start
inserts with ``ON CONFLICT (run_id) DO NOTHING`` first; when the id exists (or another collector
created it meanwhile) the start decides on the stored, locked run (attach, ``unchanged`` for its
own token, or the same :class:`StoreConflict` SQLite gives), so two concurrent starts of one id
never both create it and never fail with a 500.
"""

from __future__ import annotations

import time
from typing import Any

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.store.control_base import Run, RunQuery, RunStart, TableRow
from rundial_collector.store.control_rows import (finish_changes, found_run, in_asked_order,
                                                  run_from_row, start_action)
from rundial_collector.store.control_sql import (IS_DELETED, NOT_DELETED, REMEMBER_TOKEN,
                                                 RUN_COLUMNS, STATUS, TOKEN_KNOWN, attach_run,
                                                 finish_run, insert_run, merge_config,
                                                 numbered, page_sql, select_run_sql,
                                                 table_columns)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres.accounts import audit_in_tx
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.postgres.events_listen import notify_runs
from rundial_collector.store.postgres.ingest_tx import touch_runs

_SELECT_RUN = numbered(select_run_sql())
_SELECT_RUN_STATUS = numbered(select_run_sql(STATUS))
_LOCK_RUN = "SELECT 1 FROM runs WHERE run_id = $1 FOR UPDATE"
_IS_DELETED = numbered(IS_DELETED)
_TOKEN_KNOWN = numbered(TOKEN_KNOWN)
_REMEMBER_TOKEN = numbered(REMEMBER_TOKEN)
_NEW_RUN = " ON CONFLICT (run_id) DO NOTHING RETURNING 1"
_RUNS_BY_ID = numbered(f"SELECT {RUN_COLUMNS.format(status=STATUS)} FROM runs "
                       f"WHERE project_id = ? AND run_id = ANY(?::text[]) AND {NOT_DELETED}")
TABLE_COLUMNS = table_columns("CASE WHEN json_typeof(client::json -> 'host') = 'string' "
                              "THEN client::json ->> 'host' END")


async def select_run(conn: Conn, run_id: str) -> Run | None:
    """The run with this id (stored status); None when unknown or soft-deleted, or when the id
    holds NUL (no run has one: :func:`has_nul`)."""
    if has_nul(run_id):
        return None
    row = await conn.fetchrow(_SELECT_RUN, run_id)
    return run_from_row(row) if row is not None else None


async def locked_run(conn: Conn, run_id: str) -> Run | None:
    """:func:`select_run` after locking the run's row (deleted runs' rows too) until the
    transaction ends: the caller's read-modify-write is not interleaved with another's."""
    if has_nul(run_id):
        return None
    await conn.execute(_LOCK_RUN, run_id)
    return await select_run(conn, run_id)


async def execute(conn: Conn, statement: tuple[str, tuple[Any, ...]]) -> None:
    """Run a shared ``?`` statement (:mod:`~rundial_collector.store.control_sql`)."""
    sql, params = statement
    await conn.execute(numbered(sql), *params)


def _now_ms() -> int:
    return int(time.time() * 1000)


class PgRuns:
    """Run methods of the control store (part of :class:`PgControl`)."""

    engine: PgEngine
    lost_after_ms: int

    async def start_run(self, start: RunStart, now_ms: int, *, audit: AuditEvent | None = None
                        ) -> tuple[Run, bool]:
        async def job(conn: Conn) -> tuple[Run, bool]:
            run, created = await _start(conn, start, now_ms)
            await audit_in_tx(conn, audit if created else None)
            return run, created
        return await self.engine.write(job)

    async def record_heartbeat(self, project_id: str, run_id: str, now_ms: int) -> None:
        async def job(conn: Conn) -> None:
            await touch_runs(conn, [(project_id, run_id)], now_ms)
            await notify_runs(conn, [(project_id, run_id)])  # a lost run may be back
        await self.engine.write(job)

    async def get_run(self, run_id: str) -> Run | None:
        """The run, or None; None for an id holding NUL (no run has one, and PostgreSQL could
        not compare it: SQLite answers the same)."""
        if has_nul(run_id):
            return None
        cutoff = _now_ms() - self.lost_after_ms

        async def read(conn: Conn) -> Run | None:
            row = await conn.fetchrow(_SELECT_RUN_STATUS, cutoff, run_id)
            return run_from_row(row) if row is not None else None
        return await self.engine.read(read)

    async def finish_run(self, run_id: str, status: str, reason: str | None,
                         finished_ms: int, now_ms: int, *, audit: AuditEvent | None = None
                         ) -> tuple[Run, bool]:
        async def job(conn: Conn) -> tuple[Run, bool]:
            run = found_run(await locked_run(conn, run_id), run_id)
            if not finish_changes(run, status):
                return run, False
            await execute(conn, finish_run(run, status, reason, finished_ms, now_ms))
            await audit_in_tx(conn, audit)
            await notify_runs(conn, [(run.project_id, run_id)])
            return await _reload(conn, run_id), True
        return await self.engine.write(job)

    async def merge_run_config(self, run_id: str, patch: dict[str, Any], now_ms: int) -> Run:
        async def job(conn: Conn) -> Run:
            run = found_run(await locked_run(conn, run_id), run_id)
            await execute(conn, merge_config(run, patch, now_ms))
            return await _reload(conn, run_id)
        return await self.engine.write(job)

    async def query_runs(self, query: RunQuery, now_ms: int) -> tuple[list[Run], bool]:
        rows, more = await self._page(query, now_ms, RUN_COLUMNS)
        return [run_from_row(row) for row in rows], more

    async def query_table_rows(self, query: RunQuery, now_ms: int
                               ) -> tuple[list[TableRow], bool]:
        rows, more = await self._page(query, now_ms, TABLE_COLUMNS)
        return [TableRow(*row) for row in rows], more

    async def runs_by_id(self, project_id: str, run_ids: list[str]) -> list[Run]:
        cutoff = _now_ms() - self.lost_after_ms
        wanted = [run_id for run_id in set(run_ids) if not has_nul(run_id)]

        async def read(conn: Conn) -> list[Run]:
            rows = await conn.fetch(_RUNS_BY_ID, cutoff, project_id, wanted)
            return in_asked_order([run_from_row(row) for row in rows], run_ids, project_id)
        return await self.engine.read(read)

    async def _page(self, query: RunQuery, now_ms: int, columns: str
                    ) -> tuple[list[Any], bool]:
        sql, params = page_sql(query, now_ms - self.lost_after_ms, columns)
        rows = await self.engine.read(lambda conn: conn.fetch(numbered(sql), *params))
        return rows[:query.limit], len(rows) > query.limit


async def _start(conn: Conn, start: RunStart, now_ms: int) -> tuple[Run, bool]:
    """The resume matrix (:func:`start_action`). Unless ``must`` is asked, the run is first
    inserted with ``ON CONFLICT DO NOTHING`` (waiting for a concurrent insert of the id to
    commit): a new id is created in one statement. Otherwise the id exists (a run, maybe of
    another project, maybe deleted: rows are never removed) and the matrix decides on the
    locked row. A start whose token already started (or attached to) this run is a repeat of
    that client's own start: the run is returned unchanged (idempotent)."""
    if start.resume != "must":
        sql, params = insert_run(start, now_ms)
        if await conn.fetchval(numbered(sql) + _NEW_RUN, *params) is not None:
            await _remember_token(conn, start)
            return await _announced(conn, start.run_id), True
    existing = await locked_run(conn, start.run_id)
    deleted = await conn.fetchval(_IS_DELETED, start.run_id) is not None
    token_known = (start.start_token is not None and await conn.fetchval(
        _TOKEN_KNOWN, start.run_id, start.start_token) is not None)
    action = start_action(deleted, existing, start, token_known)
    assert existing is not None and action != "create"  # the id exists (or it raised)
    if action == "attach":
        await execute(conn, attach_run(existing, start, now_ms))
        await _remember_token(conn, start)
        return await _announced(conn, start.run_id), False
    return existing, False


async def _remember_token(conn: Conn, start: RunStart) -> None:
    if start.start_token is not None:
        await conn.execute(_REMEMBER_TOKEN, start.run_id, start.start_token)


async def _announced(conn: Conn, run_id: str) -> Run:
    """The run as stored now, its change queued for other collectors' streams (NOTIFY)."""
    run = await _reload(conn, run_id)
    await notify_runs(conn, [(run.project_id, run.run_id)])
    return run


async def _reload(conn: Conn, run_id: str) -> Run:
    run = await select_run(conn, run_id)
    assert run is not None
    return run
