"""Control-plane SQL: workspaces, projects and API keys (runs live in :mod:`.runs`).

Every statement is parameterised. Creations are single ``engine.write`` jobs that check and
insert atomically, so a duplicate slug is a :class:`StoreConflict`, never a 500.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

import orjson

from rundial_collector.config import CollectorConfig
from rundial_collector.store.control_base import (ApiKey, NewApiKey, Project, StoreConflict,
                                                  StoreNotFound, Workspace)
from rundial_collector.store.sqlite.runquery import NOT_DELETED
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

_WS_COLUMNS = "workspace_id, slug, name, created_ms"
_PROJECT_SELECT = (
    "SELECT p.project_id, p.slug, p.name, p.workspace_id, w.slug, w.name, p.created_ms, {count} "
    "FROM projects p JOIN workspaces w ON w.workspace_id = p.workspace_id")
_RUN_COUNT = ("(SELECT COUNT(*) FROM runs WHERE runs.project_id = p.project_id "
              f"AND {NOT_DELETED}), "
              "(SELECT MAX(r.updated_ms) FROM runs r WHERE r.project_id = p.project_id)")
_KEY_COLUMNS = ("key_id, workspace_id, project_id, scopes, label, created_ms, expires_ms, "
                "revoked_ms")


def key_columns(prefix: str = "") -> str:
    """The API-key columns :func:`key_from_row` reads, each prefixed (``"k."``) for joins."""
    return ", ".join(prefix + column.strip() for column in _KEY_COLUMNS.split(","))


def key_from_row(row: tuple[Any, ...]) -> ApiKey:
    """An :class:`ApiKey` from a row selected with :func:`key_columns`."""
    return _key(row)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _project(row: tuple[Any, ...]) -> Project:
    return Project(*row)


def _key(row: tuple[Any, ...]) -> ApiKey:
    key_id, ws, prj, scopes, label, created, expires, revoked = row
    return ApiKey(key_id, ws, prj, tuple(orjson.loads(scopes)), label, created, expires, revoked)


def _select_projects(conn: sqlite3.Connection, where: str, params: tuple[Any, ...],
                     tail: str = "", count: bool = False) -> list[Project]:
    sql = _PROJECT_SELECT.format(count=_RUN_COUNT if count else "0, NULL") + f" WHERE {where} {tail}"
    return [_project(row) for row in conn.execute(sql, params).fetchall()]


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
            conn.execute(f"INSERT INTO workspaces ({_WS_COLUMNS}) VALUES (?, ?, ?, ?)",
                         (ws.workspace_id, ws.slug, ws.name, ws.created_ms))
            return ws
        return await self.engine.write(job)

    async def get_workspace(self, ref: str) -> Workspace | None:
        return await self.engine.read(lambda conn: _workspace(conn, ref))

    async def list_workspaces(self, workspace_id: str | None, after_slug: str | None,
                              limit: int) -> list[Workspace]:
        where, params = ["slug > ?"], [after_slug or ""]
        if workspace_id is not None:
            where.append("workspace_id = ?")
            params.append(workspace_id)
        sql = (f"SELECT {_WS_COLUMNS} FROM workspaces WHERE {' AND '.join(where)} "
               "ORDER BY slug LIMIT ?")
        rows = await self.engine.read(lambda conn: conn.execute(sql, (*params, limit)).fetchall())
        return [Workspace(*row) for row in rows]

    # -- projects -------------------------------------------------------------------------
    async def create_project(self, workspace_id: str, slug: str, name: str, *,
                             exist_ok: bool = False) -> Project:
        def job(conn: sqlite3.Connection) -> Project:
            where = "p.workspace_id = ? AND p.slug = ?"
            found = _select_projects(conn, where, (workspace_id, slug))
            if found:
                if exist_ok:
                    return found[0]
                raise StoreConflict(f"project {slug} already exists in this workspace", "slug")
            conn.execute("INSERT INTO projects (project_id, workspace_id, slug, name, created_ms)"
                         " VALUES (?, ?, ?, ?, ?)",
                         ("prj_" + secrets.token_hex(6), workspace_id, slug, name, _now_ms()))
            return _select_projects(conn, where, (workspace_id, slug))[0]
        return await self.engine.write(job)

    async def get_project(self, project_id: str) -> Project | None:
        found = await self.engine.read(
            lambda conn: _select_projects(conn, "p.project_id = ?", (project_id,)))
        return found[0] if found else None

    async def get_project_by_slugs(self, workspace: str, project: str) -> Project | None:
        where = "(w.slug = ? OR w.workspace_id = ?) AND (p.slug = ? OR p.project_id = ?)"
        found = await self.engine.read(lambda conn: _select_projects(
            conn, where, (workspace, workspace, project, project)))
        return found[0] if found else None

    async def find_projects_by_slug(self, slug: str, workspace_id: str | None,
                                    project_id: str | None) -> list[Project]:
        where, params = ["p.slug = ?"], [slug]
        for column, value in (("p.workspace_id", workspace_id), ("p.project_id", project_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return await self.engine.read(lambda conn: _select_projects(
            conn, " AND ".join(where), tuple(params), "ORDER BY w.slug LIMIT 6"))

    async def list_projects(self, workspace_id: str, project_id: str | None,
                            after_slug: str | None, limit: int) -> list[Project]:
        where, params = ["p.workspace_id = ? AND p.slug > ?"], [workspace_id, after_slug or ""]
        if project_id is not None:
            where.append("p.project_id = ?")
            params.append(project_id)
        return await self.engine.read(lambda conn: _select_projects(
            conn, " AND ".join(where), (*params, limit), "ORDER BY p.slug LIMIT ?", count=True))

    # -- API keys -------------------------------------------------------------------------
    async def create_api_key(self, key: NewApiKey, *, exist_ok: bool = False) -> ApiKey:
        def job(conn: sqlite3.Connection) -> ApiKey:
            found = _key_by_hash(conn, key.key_hash)
            if found is not None:
                if exist_ok:
                    return found
                raise StoreConflict("this API key already exists")
            conn.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key.key_id, key.workspace_id, key.project_id,
                 orjson.dumps(list(key.scopes)).decode(), key.label, _now_ms(), key.expires_ms,
                 None, key.key_hash))
            stored = _key_by_hash(conn, key.key_hash)
            assert stored is not None
            return stored
        return await self.engine.write(job)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        return await self.engine.read(lambda conn: _key_by_hash(conn, key_hash))

    async def count_api_keys(self) -> int:
        row = await self.engine.read(
            lambda conn: conn.execute("SELECT COUNT(*) FROM api_keys").fetchone())
        return int(row[0])

    async def list_api_keys(self, project_id: str) -> list[ApiKey]:
        sql = (f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE project_id = ? "
               "ORDER BY created_ms, key_id")
        rows = await self.engine.read(lambda conn: conn.execute(sql, (project_id,)).fetchall())
        return [_key(row) for row in rows]

    async def revoke_api_key(self, project_id: str, key_id: str, now_ms: int) -> ApiKey:
        def job(conn: sqlite3.Connection) -> ApiKey:
            conn.execute("UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, ?) "
                         "WHERE key_id = ? AND project_id = ?", (now_ms, key_id, project_id))
            row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys "
                               "WHERE key_id = ? AND project_id = ?",
                               (key_id, project_id)).fetchone()
            if row is None:
                raise StoreNotFound(f"API key {key_id} was not found in this project", "keyId")
            return _key(row)
        return await self.engine.write(job)

    async def ping(self) -> None:
        await self.engine.read(lambda conn: conn.execute("SELECT 1").fetchone())


def _workspace(conn: sqlite3.Connection, ref: str) -> Workspace | None:
    row = conn.execute(f"SELECT {_WS_COLUMNS} FROM workspaces WHERE slug = ? OR workspace_id = ?",
                       (ref, ref)).fetchone()
    return Workspace(*row) if row else None


def _key_by_hash(conn: sqlite3.Connection, key_hash: str) -> ApiKey | None:
    row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?",
                       (key_hash,)).fetchone()
    return _key(row) if row else None
