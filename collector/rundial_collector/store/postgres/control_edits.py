"""PostgreSQL: run edits and soft deletes (:mod:`rundial_collector.store.run_edits_base`) and UI
sessions (:mod:`rundial_collector.store.sessions_base`), with the SQLite store's statements
(:mod:`rundial_collector.store.control_sql`).

An edit or delete locks the run's row first (as every run read-modify-write does, see
:mod:`.control_runs`), so it never interleaves with a start, finish or another edit of the run
on another collector. A login token is consumed by one ``DELETE ... RETURNING``: of two
collectors consuming it at once, exactly one gets the key.
"""

from __future__ import annotations

from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.store.control_base import ApiKey, Run
from rundial_collector.store.control_rows import key_from_row, visible_in_project
from rundial_collector.store.control_sql import (DELETE_EXPIRED_SESSIONS, DELETE_SESSION,
                                                 INSERT_SESSION, SESSION_KEY, delete_statements,
                                                 edit_statements, key_columns, numbered)
from rundial_collector.store.postgres.control_runs import execute, locked_run, select_run
from rundial_collector.store.postgres.accounts import audit_in_tx
from rundial_collector.store.postgres.engine import Conn, PgEngine
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.store.sessions_base import NewUiSession

_SESSION_KEY = numbered(SESSION_KEY)
_CONSUME = ("WITH gone AS (DELETE FROM ui_sessions WHERE token_hash = $1 AND kind = 'once' "
            "RETURNING key_id, expires_ms) "
            f"SELECT {key_columns('k.')} FROM gone JOIN api_keys k ON k.key_id = gone.key_id "
            "WHERE gone.expires_ms > $2")


class PgRunEdits:
    """Run edits and soft deletes (part of :class:`PgControl`)."""

    engine: PgEngine

    async def edit_run(self, project_id: str, run_id: str, edit: RunEdit, key_id: str,
                       now_ms: int, *, audit: AuditEvent | None = None) -> Run:
        async def job(conn: Conn) -> Run:
            run = visible_in_project(await locked_run(conn, run_id), project_id, run_id)
            updated_ms = max(run.updated_ms, now_ms)
            for statement in edit_statements(run_id, edit, key_id, now_ms, updated_ms):
                await execute(conn, statement)
            await audit_in_tx(conn, audit)
            return visible_in_project(await select_run(conn, run_id), project_id, run_id)
        return await self.engine.write(job)

    async def delete_run(self, project_id: str, run_id: str, key_id: str, now_ms: int, *,
                         audit: AuditEvent | None = None) -> None:
        async def job(conn: Conn) -> None:
            visible_in_project(await locked_run(conn, run_id), project_id, run_id)
            for statement in delete_statements(run_id, key_id, now_ms):
                await execute(conn, statement)
            await audit_in_tx(conn, audit)
        await self.engine.write(job)


class PgSessions:
    """UI sessions and single-use login tokens (part of :class:`PgControl`)."""

    engine: PgEngine

    async def create_ui_session(self, session: NewUiSession) -> None:
        async def job(conn: Conn) -> None:
            await conn.execute(numbered(DELETE_EXPIRED_SESSIONS), session.created_ms)
            await conn.execute(numbered(INSERT_SESSION), session.token_hash, session.kind,
                               session.key_id, session.created_ms, session.expires_ms)
        await self.engine.write(job)

    async def find_ui_session(self, token_hash: str, now_ms: int) -> ApiKey | None:
        row = await self.engine.read(
            lambda conn: conn.fetchrow(_SESSION_KEY, token_hash, "session", now_ms))
        return key_from_row(row) if row is not None else None

    async def consume_login_token(self, token_hash: str, now_ms: int) -> ApiKey | None:
        row = await self.engine.write(lambda conn: conn.fetchrow(_CONSUME, token_hash, now_ms))
        return key_from_row(row) if row is not None else None

    async def delete_ui_session(self, token_hash: str) -> None:
        await self.engine.write(lambda conn: conn.execute(numbered(DELETE_SESSION), token_hash))
