"""Control-plane SQL: workspaces, projects and API keys (runs live in :mod:`.runs`).

Every statement is parameterised. Creations are single ``engine.write`` jobs that check and
insert atomically, so a duplicate slug is a :class:`StoreConflict`, never a 500.
"""

from __future__ import annotations

import secrets
import sqlite3
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
                                                 projects_sql)
from rundial_collector.store.sqlite.accounts import audit_in_tx
from rundial_collector.store.sqlite.runs import RUNS_SCHEMA, SQLiteRuns

CONTROL_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS workspaces (
    workspace_id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(workspace_id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (workspace_id, slug)
);
CREATE INDEX IF NOT EXISTS projects_by_slug ON projects(slug);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    workspace_id TEXT REFERENCES workspaces(workspace_id),
    project_id TEXT REFERENCES projects(project_id),
    scopes TEXT NOT NULL,
    label TEXT,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    revoked_ms INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_by_project ON api_keys(project_id, created_ms);
""", *RUNS_SCHEMA]



def _now_ms() -> int:
    return int(time.time() * 1000)


def _projects(conn: sqlite3.Connection, query: tuple[str, list[Any]]) -> list[Project]:
    sql, params = query
    return [Project(*row) for row in conn.execute(sql, params).fetchall()]


def _select_projects(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]
                     ) -> list[Project]:
    return _projects(conn, (projects_sql(where), list(params)))


class SQLiteControl(SQLiteRuns):
    """The SQLite :class:`ControlStore`; shares ``self.engine``/``self.config`` with the store."""

    config: CollectorConfig

    def __init__(self) -> None:
        self.lost_after_ms = int(self.config.lost_after_seconds * 1000)

    # -- workspaces -----------------------------------------------------------------------
    async def create_workspace(self, slug: str, name: str, *, exist_ok: bool = False
                               ) -> Workspace:
        def job(conn: sqlite3.Connection) -> Workspace:
            found = _workspace(conn, slug)
            if found is not None:
                if exist_ok:
                    return found
                raise StoreConflict(f"workspace {slug} already exists", "slug")
            ws = Workspace("ws_" + secrets.token_hex(6), slug, name, _now_ms())
            conn.execute(INSERT_WORKSPACE, (ws.workspace_id, ws.slug, ws.name, ws.created_ms))
            return ws
        return await self.engine.write(job)

    async def get_workspace(self, ref: str) -> Workspace | None:
        return await self.engine.read(lambda conn: _workspace(conn, ref))

    async def list_workspaces(self, workspace_id: str | None, after_slug: str | None,
                              limit: int) -> list[Workspace]:
        sql, params = list_workspaces_sql(workspace_id, after_slug, limit)
        rows = await self.engine.read(lambda conn: conn.execute(sql, params).fetchall())
        return [Workspace(*row) for row in rows]

    # -- projects -------------------------------------------------------------------------
    async def create_project(self, workspace_id: str, slug: str, name: str, *,
                             exist_ok: bool = False) -> Project:
        def job(conn: sqlite3.Connection) -> Project:
            found = _select_projects(conn, PROJECT_IN_WORKSPACE, (workspace_id, slug))
            if found:
                if exist_ok:
                    return found[0]
                raise StoreConflict(f"project {slug} already exists in this workspace", "slug")
            conn.execute(INSERT_PROJECT,
                         ("prj_" + secrets.token_hex(6), workspace_id, slug, name, _now_ms()))
            return _select_projects(conn, PROJECT_IN_WORKSPACE, (workspace_id, slug))[0]
        return await self.engine.write(job)

    async def get_project(self, project_id: str) -> Project | None:
        found = await self.engine.read(
            lambda conn: _select_projects(conn, PROJECT_BY_ID, (project_id,)))
        return found[0] if found else None

    async def get_project_by_slugs(self, workspace: str, project: str) -> Project | None:
        found = await self.engine.read(lambda conn: _select_projects(
            conn, PROJECT_BY_SLUGS, (workspace, workspace, project, project)))
        return found[0] if found else None

    async def find_projects_by_slug(self, slug: str, workspace_id: str | None,
                                    project_id: str | None) -> list[Project]:
        query = find_projects_sql(slug, workspace_id, project_id)
        return await self.engine.read(lambda conn: _projects(conn, query))

    async def list_projects(self, workspace_id: str, project_id: str | None,
                            after_slug: str | None, limit: int) -> list[Project]:
        query = list_projects_sql(workspace_id, project_id, after_slug, limit)
        return await self.engine.read(lambda conn: _projects(conn, query))

    # -- API keys -------------------------------------------------------------------------
    async def create_api_key(self, key: NewApiKey, *, exist_ok: bool = False,
                             audit: AuditEvent | None = None) -> ApiKey:
        def job(conn: sqlite3.Connection) -> ApiKey:
            found = _key_by_hash(conn, key.key_hash)
            if found is not None:
                if exist_ok:
                    return found
                raise StoreConflict("this API key already exists")
            conn.execute(INSERT_KEY, key_insert_values(key, _now_ms()))
            stored = _key_by_hash(conn, key.key_hash)
            assert stored is not None
            audit_in_tx(conn, audit)
            return stored
        return await self.engine.write(job)

    async def create_first_api_key(self, key: NewApiKey) -> ApiKey | None:
        def job(conn: sqlite3.Connection) -> ApiKey | None:  # one writer: count and insert
            if conn.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None:
                return None
            conn.execute(INSERT_KEY, key_insert_values(key, _now_ms()))
            return _key_by_hash(conn, key.key_hash)
        return await self.engine.write(job)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        return await self.engine.read(lambda conn: _key_by_hash(conn, key_hash))

    async def count_api_keys(self) -> int:
        row = await self.engine.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM api_keys").fetchone())
        return int(row[0])

    async def list_api_keys(self, project_id: str) -> list[ApiKey]:
        rows = await self.engine.read(
            lambda conn: conn.execute(KEYS_OF_PROJECT, (project_id,)).fetchall())
        return [key_from_row(row) for row in rows]

    async def revoke_api_key(self, project_id: str, key_id: str, now_ms: int, *,
                             audit: AuditEvent | None = None) -> ApiKey:
        def job(conn: sqlite3.Connection) -> ApiKey:
            conn.execute(REVOKE_KEY, (now_ms, key_id, project_id))
            row = conn.execute(KEY_IN_PROJECT, (key_id, project_id)).fetchone()
            key = key_in_project(row, key_id)
            audit_in_tx(conn, audit if key.revoked_ms == now_ms else None)
            return key
        return await self.engine.write(job)

    async def ping(self) -> None:
        await self.engine.read(lambda conn: conn.execute("SELECT 1").fetchone())


def _workspace(conn: sqlite3.Connection, ref: str) -> Workspace | None:
    row = conn.execute(SELECT_WORKSPACE, (ref, ref)).fetchone()
    return Workspace(*row) if row else None


def _key_by_hash(conn: sqlite3.Connection, key_hash: str) -> ApiKey | None:
    row = conn.execute(KEY_BY_HASH, (key_hash,)).fetchone()
    return key_from_row(row) if row else None
