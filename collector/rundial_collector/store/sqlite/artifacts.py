"""SQLite implementation of :class:`~rundial_collector.store.artifacts_base.ArtifactStore`.

A mixin for :class:`~rundial_collector.store.sqlite.store.SQLiteStore`: it uses ``self.engine``
(one writer thread, group commit) and adds :data:`ARTIFACT_SCHEMA` to the database. Each
mutation is one ``engine.write`` job, so finalize (numbering, aliases, retention) is atomic.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

from rundial_collector.store.artifact_rows import (MEDIA_COLUMNS, USE_COLUMNS, media_filter,
                                                   media_item, media_row, use_from_row)
from rundial_collector.store.artifacts_base import (ArtifactUse, ArtifactVersion, FinalizeOutcome,
                                                    MediaItem, MediaQuery, NewArtifactVersion)
from rundial_collector.store.sqlite import artifact_sql as sql
from rundial_collector.store.sqlite.engine import SQLiteEngine

ARTIFACT_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS artifact_versions (
    artifact_id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    artifact_type TEXT,
    state TEXT NOT NULL,
    version INTEGER,
    requested_aliases TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    keep_last INTEGER,
    idempotency_key TEXT,
    created_ms INTEGER NOT NULL,
    finalized_ms INTEGER,
    expires_ms INTEGER NOT NULL,
    deleted_ms INTEGER,
    deduplicated_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS artifact_versions_number
    ON artifact_versions(project_id, name, version) WHERE version IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS artifact_versions_idempotency
    ON artifact_versions(project_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS artifact_versions_retention
    ON artifact_versions(project_id, name, run_id, state, version);
CREATE INDEX IF NOT EXISTS artifact_versions_by_run ON artifact_versions(project_id, run_id);
CREATE INDEX IF NOT EXISTS artifact_versions_pending ON artifact_versions(state, expires_ms);
CREATE TABLE IF NOT EXISTS artifact_files (
    artifact_id TEXT NOT NULL REFERENCES artifact_versions(artifact_id),
    ordinal INTEGER NOT NULL,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT,
    PRIMARY KEY (artifact_id, path)
);
CREATE INDEX IF NOT EXISTS artifact_files_by_sha ON artifact_files(sha256);
CREATE TABLE IF NOT EXISTS artifact_aliases (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifact_versions(artifact_id),
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, name, alias)
);
CREATE INDEX IF NOT EXISTS artifact_aliases_by_id ON artifact_aliases(artifact_id);
CREATE TABLE IF NOT EXISTS artifact_uses (
    run_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifact_versions(artifact_id),
    project_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    first_used_ms INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL,
    use_count INTEGER NOT NULL,
    PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX IF NOT EXISTS artifact_uses_by_artifact ON artifact_uses(artifact_id);
CREATE TABLE IF NOT EXISTS media_items (
    item_id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    media_key TEXT NOT NULL,
    media_type TEXT NOT NULL,
    step INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    artifact_id TEXT NOT NULL,
    artifact_version INTEGER NOT NULL,
    artifact_path TEXT NOT NULL,
    artifact_sha256 TEXT NOT NULL,
    caption TEXT,
    width INTEGER,
    height INTEGER,
    table_rows INTEGER,
    table_columns INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (run_id, media_key, step, artifact_id, artifact_path)
);
CREATE INDEX IF NOT EXISTS media_items_by_run
    ON media_items(project_id, run_id, media_key, step, item_id);
CREATE TABLE IF NOT EXISTS blob_holders (
    project_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    PRIMARY KEY (project_id, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_holders_by_sha ON blob_holders(sha256);
"""]

class SQLiteArtifacts:
    """Artifact versions, aliases, retention, lineage and media manifests on SQLite."""

    engine: SQLiteEngine

    def __init__(self) -> None:
        """Nothing to set up: the schema is part of the store's engine."""

    async def begin_artifact_upload(self, new: NewArtifactVersion) -> ArtifactVersion:
        return await self.engine.write(lambda conn: sql.begin_upload(conn, new))

    async def get_artifact_version(self, artifact_id: str) -> ArtifactVersion | None:
        return await self.engine.read(lambda conn: sql.load_version(conn, artifact_id))

    async def finalize_artifact_version(self, artifact_id: str, now_ms: int) -> FinalizeOutcome:
        return await self.engine.write(lambda conn: sql.finalize(conn, artifact_id, now_ms))

    async def resolve_artifact(self, project_id: str, name: str, alias: str | None,
                               version: int | None) -> ArtifactVersion | None:
        return await self.engine.read(
            lambda conn: sql.resolve(conn, project_id, name, alias, version))

    async def record_artifact_use(self, use: ArtifactUse, project_id: str) -> None:
        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO artifact_uses (run_id, artifact_id, project_id, ref, "
                "first_used_ms, last_used_ms, use_count) VALUES (?, ?, ?, ?, ?, ?, 1) "
                "ON CONFLICT (run_id, artifact_id) DO UPDATE SET last_used_ms = "
                "excluded.last_used_ms, use_count = use_count + 1, ref = excluded.ref",
                (use.run_id, use.artifact_id, project_id, use.ref, use.first_used_ms,
                 use.last_used_ms))
        await self.engine.write(upsert)

    async def list_artifact_versions(self, project_id: str, name: str,
                                     include_deleted: bool) -> list[ArtifactVersion]:
        where = "project_id = ? AND name = ? AND state IN " + (
            "('ready', 'deleted')" if include_deleted else "('ready')")
        return await self.engine.read(
            lambda conn: sql.versions_where(conn, where, (project_id, name)))

    async def artifact_lineage(self, project_id: str, run_id: str
                               ) -> tuple[list[ArtifactUse], list[ArtifactVersion]]:
        def read(conn: sqlite3.Connection) -> tuple[list[ArtifactUse], list[ArtifactVersion]]:
            used = _uses(conn, "u.project_id = ? AND u.run_id = ?", (project_id, run_id))
            produced = sql.versions_where(
                conn, "project_id = ? AND run_id = ? AND state IN ('ready', 'deleted')",
                (project_id, run_id))
            return used, produced
        return await self.engine.read(read)

    async def artifact_consumers(self, artifact_id: str) -> list[ArtifactUse]:
        return await self.engine.read(
            lambda conn: _uses(conn, "u.artifact_id = ?", (artifact_id,)))

    async def unreferenced_blobs(self, sha256s: Sequence[str]) -> list[str]:
        return await self.engine.read(lambda conn: sql.unreferenced(conn, sha256s))

    async def expire_artifact_uploads(self, now_ms: int) -> list[str]:
        def expire(conn: sqlite3.Connection) -> list[str]:
            released: set[str] = set()
            for (artifact_id,) in conn.execute(
                    "SELECT artifact_id FROM artifact_versions WHERE state = 'pending' "
                    "AND expires_ms < ?", (now_ms,)).fetchall():
                released |= sql.drop_version(conn, artifact_id, "expired", now_ms)
            return sql.unreferenced(conn, released)
        return await self.engine.write(expire)

    async def held_blobs(self, project_id: str, sha256s: Sequence[str]) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            held: dict[str, int] = {}
            for sha in set(sha256s):
                row = conn.execute("SELECT size_bytes FROM blob_holders WHERE project_id = ? "
                                   "AND sha256 = ?", (project_id, sha)).fetchone()
                if row is not None:
                    held[sha] = int(row[0])
            return held
        return await self.engine.read(read)

    async def add_blob_holder(self, project_id: str, sha256: str, size_bytes: int) -> None:
        await self.engine.write(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO blob_holders (project_id, sha256, size_bytes) "
            "VALUES (?, ?, ?)", (project_id, sha256, size_bytes)))

    async def forget_blob_holders(self, sha256: str) -> None:
        await self.engine.write(lambda conn: conn.execute(
            "DELETE FROM blob_holders WHERE sha256 = ?", (sha256,)))

    async def run_project_id(self, run_id: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT project_id FROM runs WHERE run_id = ?",
                               (run_id,)).fetchone()
            return None if row is None else str(row[0])
        return await self.engine.read(read)

    async def add_media_items(self, items: Sequence[MediaItem]) -> int:
        rows = [media_row(item) for item in items]

        def insert(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(f"INSERT OR IGNORE INTO media_items ({MEDIA_COLUMNS}) VALUES "
                             f"({', '.join('?' * 16)})", rows)
            return conn.total_changes - before
        return await self.engine.write(insert)

    async def query_media(self, query: MediaQuery) -> list[MediaItem]:
        where, params = media_filter(query, lambda _: "?")

        def read(conn: sqlite3.Connection) -> list[MediaItem]:
            rows = conn.execute(
                f"SELECT {MEDIA_COLUMNS}, item_id FROM media_items WHERE {where} "
                "ORDER BY item_id LIMIT ?", (*params, query.limit)).fetchall()
            return [media_item(row) for row in rows]
        return await self.engine.read(read)

    @contextlib.asynccontextmanager
    async def sweep_lock(self) -> AsyncIterator[bool]:
        """Always True: one collector process owns the SQLite file."""
        yield True


def _uses(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[ArtifactUse]:
    rows = conn.execute(
        f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
        f"ON v.artifact_id = u.artifact_id WHERE {where} ORDER BY u.first_used_ms",
        tuple(params)).fetchall()
    return [use_from_row(row) for row in rows]
