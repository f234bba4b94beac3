"""PostgreSQL: workspaces, projects and API keys; with :class:`PgRuns` (runs), :class:`PgRunEdits`
and :class:`PgSessions` it is the control part of :class:`PostgresStore` (ControlStore,
RunEditStore, SessionStore and ``runs_by_id``).

The statements and row decoding are the SQLite store's (:mod:`rundial_collector.store.control_sql`,
:mod:`rundial_collector.store.control_rows`). Creation is race-free across collectors: the
insert is ``ON CONFLICT DO NOTHING``, which waits for a concurrent insert of the same slug (or
key hash) to commit; when it skipped, the row another collector committed is read back and
answered as SQLite answers an existing one (returned under ``exist_ok``, else
:class:`StoreConflict`), never a unique-violation 500.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from rundial_collector.config import CollectorConfig
from rundial_collector.store.accounts_base import AuditEvent
from rundial_collector.store.control_base import (ApiKey, NewApiKey, Project, StoreConflict,
                                                  Workspace)
from rundial_collector.store.control_rows import key_from_row, key_in_project, key_insert_values
from rundial_collector.store.control_sql import (INSERT_KEY, INSERT_PROJECT, INSERT_WORKSPACE,
                                                 KEY_BY_HASH, KEY_IN_PROJECT, KEYS_OF_PROJECT,
                                                 PROJECT_BY_ID, PROJECT_BY_SLUGS,
                                                 PROJECT_IN_WORKSPACE, REVOKE_KEY,
                                                 SELECT_WORKSPACE, find_projects_sql,
                                                 list_projects_sql, list_workspaces_sql,
                                                 numbered, projects_sql)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres.accounts import audit_in_tx
from rundial_collector.store.postgres.control_edits import PgRunEdits, PgSessions
from rundial_collector.store.postgres.control_runs import PgRuns
from rundial_collector.store.postgres.engine import Conn, PgEngine

_SKIP_DUPLICATE = " ON CONFLICT DO NOTHING RETURNING 1"
FIRST_KEY_LOCK = 0x72646B5F666972  # "rdk_fir": the transaction lock of the first-key check


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _workspace(conn: Conn, ref: str) -> Workspace | None:
    row = await conn.fetchrow(numbered(SELECT_WORKSPACE), ref, ref)
    return Workspace(*row) if row is not None else None


async def _projects(conn: Conn, sql: str, params: list[Any]) -> list[Project]:
    return [Project(*row) for row in await conn.fetch(numbered(sql), *params)]


async def _key_by_hash(conn: Conn, key_hash: str) -> ApiKey | None:
    row = await conn.fetchrow(numbered(KEY_BY_HASH), key_hash)
    return key_from_row(row) if row is not None else None


async def _inserted(conn: Conn, sql: str, *params: Any) -> bool:
    """Insert unless a unique key exists (waiting for a concurrent insert to commit)."""
    return await conn.fetchval(numbered(sql) + _SKIP_DUPLICATE, *params) is not None


class PgControl(PgRuns, PgRunEdits, PgSessions):
    """Part of :class:`PostgresStore` (which sets ``engine`` and ``config``)."""

    engine: PgEngine
    config: CollectorConfig

    def __init__(self) -> None:
        self.lost_after_ms = int(self.config.lost_after_seconds * 1000)

    # -- workspaces -----------------------------------------------------------------------
    async def create_workspace(self, slug: str, name: str, *, exist_ok: bool = False
                               ) -> Workspace:
        async def job(conn: Conn) -> Workspace:
            found = await _workspace(conn, slug)
            if found is None:
                ws = Workspace("ws_" + secrets.token_hex(6), slug, name, _now_ms())
                if await _inserted(conn, INSERT_WORKSPACE, ws.workspace_id, ws.slug, ws.name,
                                   ws.created_ms):
                    return ws
                found = await _workspace(conn, slug)  # committed by another collector
            if found is not None and exist_ok:
                return found
            raise StoreConflict(f"workspace {slug} already exists", "slug")
        return await self.engine.write(job)

    async def get_workspace(self, ref: str) -> Workspace | None:
        if has_nul(ref):
            return None
        return await self.engine.read(lambda conn: _workspace(conn, ref))

    async def list_workspaces(self, workspace_id: str | None, after_slug: str | None,
                              limit: int) -> list[Workspace]:
        sql, params = list_workspaces_sql(workspace_id, after_slug, limit)
        rows = await self.engine.read(lambda conn: conn.fetch(numbered(sql), *params))
        return [Workspace(*row) for row in rows]

    # -- projects -------------------------------------------------------------------------
    async def create_project(self, workspace_id: str, slug: str, name: str, *,
                             exist_ok: bool = False) -> Project:
        in_workspace = projects_sql(PROJECT_IN_WORKSPACE)

        async def job(conn: Conn) -> Project:
            found = await _projects(conn, in_workspace, [workspace_id, slug])
            if not found:
                inserted = await _inserted(conn, INSERT_PROJECT, "prj_" + secrets.token_hex(6),
                                           workspace_id, slug, name, _now_ms())
                found = await _projects(conn, in_workspace, [workspace_id, slug])
                if inserted:  # else another collector committed it meanwhile
                    return found[0]
            if found and exist_ok:
                return found[0]
            raise StoreConflict(f"project {slug} already exists in this workspace", "slug")
        return await self.engine.write(job)

    async def get_project(self, project_id: str) -> Project | None:
        found = await self.engine.read(
            lambda conn: _projects(conn, projects_sql(PROJECT_BY_ID), [project_id]))
        return found[0] if found else None

    async def get_project_by_slugs(self, workspace: str, project: str) -> Project | None:
        params = [workspace, workspace, project, project]
        found = await self.engine.read(
            lambda conn: _projects(conn, projects_sql(PROJECT_BY_SLUGS), params))
        return found[0] if found else None

    async def find_projects_by_slug(self, slug: str, workspace_id: str | None,
                                    project_id: str | None) -> list[Project]:
        return await self._read_projects(find_projects_sql(slug, workspace_id, project_id))

    async def list_projects(self, workspace_id: str, project_id: str | None,
                            after_slug: str | None, limit: int) -> list[Project]:
        return await self._read_projects(
            list_projects_sql(workspace_id, project_id, after_slug, limit))

    async def _read_projects(self, query: tuple[str, list[Any]]) -> list[Project]:
        return await self.engine.read(lambda conn: _projects(conn, *query))

    # -- API keys -------------------------------------------------------------------------
    async def create_api_key(self, key: NewApiKey, *, exist_ok: bool = False,
                             audit: AuditEvent | None = None) -> ApiKey:
        async def job(conn: Conn) -> ApiKey:
            found = await _key_by_hash(conn, key.key_hash)
            if found is None:
                inserted = await _inserted(conn, INSERT_KEY, *key_insert_values(key, _now_ms()))
                found = await _key_by_hash(conn, key.key_hash)
                if inserted and found is not None:  # else committed by another collector
                    await audit_in_tx(conn, audit)
                    return found
            if found is not None and exist_ok:
                return found
            raise StoreConflict("this API key already exists")
        return await self.engine.write(job)

    async def create_first_api_key(self, key: NewApiKey) -> ApiKey | None:
        async def job(conn: Conn) -> ApiKey | None:
            # Collectors starting together serialise here; the statement after the lock sees
            # a key another one committed meanwhile (READ COMMITTED: a fresh snapshot).
            await conn.execute("SELECT pg_advisory_xact_lock($1)", FIRST_KEY_LOCK)
            if await conn.fetchval("SELECT 1 FROM api_keys LIMIT 1") is not None:
                return None
            await conn.execute(numbered(INSERT_KEY), *key_insert_values(key, _now_ms()))
            return await _key_by_hash(conn, key.key_hash)
        return await self.engine.write(job)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        return await self.engine.read(lambda conn: _key_by_hash(conn, key_hash))

    async def count_api_keys(self) -> int:
        count = await self.engine.read(lambda conn: conn.fetchval("SELECT COUNT(*) FROM api_keys"))
        return int(count)

    async def list_api_keys(self, project_id: str) -> list[ApiKey]:
        rows = await self.engine.read(
            lambda conn: conn.fetch(numbered(KEYS_OF_PROJECT), project_id))
        return [key_from_row(row) for row in rows]

    async def revoke_api_key(self, project_id: str, key_id: str, now_ms: int, *,
                             audit: AuditEvent | None = None) -> ApiKey:
        if has_nul(key_id):
            key_in_project(None, key_id)  # raises StoreNotFound, as for any unknown key

        async def job(conn: Conn) -> ApiKey:
            await conn.execute(numbered(REVOKE_KEY), now_ms, key_id, project_id)
            row = await conn.fetchrow(numbered(KEY_IN_PROJECT), key_id, project_id)
            key = key_in_project(row, key_id)
            await audit_in_tx(conn, audit if key.revoked_ms == now_ms else None)
            return key
        return await self.engine.write(job)

    async def ping(self) -> None:
        await self.engine.read(lambda conn: conn.fetchval("SELECT 1"))

