"""PostgreSQL: artifacts, blob holders, media and asset reads.

:class:`PgArtifacts` implements :class:`~rundial_collector.store.artifacts_base.ArtifactStore`
(and, through :class:`~.artifacts_reads.PgAssetReads`, the UI's asset reads) over the store's
:class:`PgEngine`, with the same results and errors as the SQLite store. Each mutation is one
``engine.write`` transaction; what makes it safe with several collectors on one database is
described in :mod:`.artifacts_sql` (numbering lock, idempotency lock, row locks) and
:mod:`.artifacts_sweep` (one garbage-collection sweeper at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from rundial_collector.config import CollectorConfig
from rundial_collector.store.artifact_rows import (MEDIA_COLUMNS, USE_COLUMNS, media_filter,
                                                   media_item, media_row, use_from_row)
from rundial_collector.store.artifacts_base import (ArtifactUse, ArtifactVersion, FinalizeOutcome,
                                                    MediaItem, MediaQuery, NewArtifactVersion)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres import artifacts_sql as sql
from rundial_collector.store.postgres.artifacts_reads import PgAssetReads
from rundial_collector.store.postgres.artifacts_sweep import sweep_lock
from rundial_collector.store.postgres.engine import Conn, PgEngine

# Column types of MEDIA_COLUMNS, for the one multi-row insert (unnest of typed arrays).
_MEDIA_TYPES = ("text", "text", "text", "text", "bigint", "bigint", "text", "bigint", "text",
                "text", "text", "bigint", "bigint", "bigint", "bigint", "text")
_MEDIA_INSERT = (
    f"INSERT INTO media_items ({MEDIA_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"${i}::{t}[]" for i, t in enumerate(_MEDIA_TYPES, start=1))
    + ") ON CONFLICT DO NOTHING RETURNING item_id")
_MEDIA_LOCK = "rundial.media.run"


async def insert_media(conn: Conn, items: Sequence[MediaItem]) -> int:
    """Insert ``items`` (repeats ignored) in the caller's transaction; the count stored.

    ``item_id`` is the paging cursor of :meth:`query_media` ("items after this id" of one run),
    so a run's ids must become visible in increasing order: two collectors could otherwise
    commit ids 11 then 10, and a reader that already paged past 11 would never see 10. A
    transaction lock per (project, run), taken in sorted order, makes the inserts of one run
    follow each other (the second draws its ids after the first committed)."""
    for project_id, run_id in sorted({(item.project_id, item.run_id) for item in items}):
        await sql.lock_pair(conn, _MEDIA_LOCK, project_id, run_id)
    columns = [list(values) for values in zip(*(media_row(item) for item in items))]
    return len(await conn.fetch(_MEDIA_INSERT, *columns))


class PgArtifacts(PgAssetReads):
    """Part of :class:`PostgresStore` (which sets ``engine`` and ``config``)."""

    engine: PgEngine
    config: CollectorConfig

    def __init__(self) -> None:
        """Nothing to set up: the schema is migration 0005."""

    async def begin_artifact_upload(self, new: NewArtifactVersion) -> ArtifactVersion:
        return await self.engine.write(lambda conn: sql.begin_upload(conn, new))

    async def get_artifact_version(self, artifact_id: str) -> ArtifactVersion | None:
        if has_nul(artifact_id):
            return None
        return await self.engine.read(lambda conn: sql.load_version(conn, artifact_id))

    async def finalize_artifact_version(self, artifact_id: str, now_ms: int) -> FinalizeOutcome:
        return await self.engine.write(lambda conn: sql.finalize(conn, artifact_id, now_ms))

    async def resolve_artifact(self, project_id: str, name: str, alias: str | None,
                               version: int | None) -> ArtifactVersion | None:
        return await self.engine.read(
            lambda conn: sql.resolve(conn, project_id, name, alias, version))

    async def record_artifact_use(self, use: ArtifactUse, project_id: str) -> None:
        async def upsert(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO artifact_uses (run_id, artifact_id, project_id, ref, "
                "first_used_ms, last_used_ms, use_count) VALUES ($1, $2, $3, $4, $5, $6, 1) "
                "ON CONFLICT (run_id, artifact_id) DO UPDATE SET last_used_ms = "
                "excluded.last_used_ms, use_count = artifact_uses.use_count + 1, "
                "ref = excluded.ref",
                use.run_id, use.artifact_id, project_id, use.ref, use.first_used_ms,
                use.last_used_ms)
        await self.engine.write(upsert)

    async def list_artifact_versions(self, project_id: str, name: str,
                                     include_deleted: bool) -> list[ArtifactVersion]:
        where = "project_id = $1 AND name = $2 AND state IN " + (
            "('ready', 'deleted')" if include_deleted else "('ready')")
        return await self.engine.read(
            lambda conn: sql.versions_where(conn, where, (project_id, name)))

    async def artifact_lineage(self, project_id: str, run_id: str
                               ) -> tuple[list[ArtifactUse], list[ArtifactVersion]]:
        if has_nul(run_id):
            return [], []

        async def read(conn: Conn) -> tuple[list[ArtifactUse], list[ArtifactVersion]]:
            used = await _uses(conn, "u.project_id = $1 AND u.run_id = $2", (project_id, run_id))
            produced = await sql.versions_where(
                conn, "project_id = $1 AND run_id = $2 AND state IN ('ready', 'deleted')",
                (project_id, run_id))
            return used, produced
        return await self.engine.read(read)

    async def artifact_consumers(self, artifact_id: str) -> list[ArtifactUse]:
        return await self.engine.read(
            lambda conn: _uses(conn, "u.artifact_id = $1", (artifact_id,)))

    async def unreferenced_blobs(self, sha256s: Sequence[str]) -> list[str]:
        return await self.engine.read(lambda conn: sql.unreferenced(conn, sha256s))

    async def expire_artifact_uploads(self, now_ms: int) -> list[str]:
        async def expire(conn: Conn) -> list[str]:
            released: set[str] = set()
            # Locked in one order, re-checked after any wait: a version another collector
            # finalized or expired meanwhile no longer matches and is left alone.
            for (artifact_id,) in await conn.fetch(
                    "SELECT artifact_id FROM artifact_versions WHERE state = 'pending' "
                    "AND expires_ms < $1 ORDER BY artifact_id FOR UPDATE", now_ms):
                released |= await sql.drop_version(conn, artifact_id, "expired", now_ms)
            return await sql.unreferenced(conn, released)
        return await self.engine.write(expire)

    async def held_blobs(self, project_id: str, sha256s: Sequence[str]) -> dict[str, int]:
        async def read(conn: Conn) -> dict[str, int]:
            rows = await conn.fetch(
                "SELECT sha256, size_bytes FROM blob_holders WHERE project_id = $1 "
                "AND sha256 = ANY($2::text[])", project_id, sorted(set(sha256s)))
            return {str(sha): int(size) for sha, size in rows}
        return await self.engine.read(read)

    async def add_blob_holder(self, project_id: str, sha256: str, size_bytes: int) -> None:
        async def insert(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO blob_holders (project_id, sha256, size_bytes) VALUES ($1, $2, $3) "
                "ON CONFLICT (project_id, sha256) DO NOTHING", project_id, sha256, size_bytes)
        await self.engine.write(insert)

    async def forget_blob_holders(self, sha256: str) -> None:
        async def delete(conn: Conn) -> None:
            await conn.execute("DELETE FROM blob_holders WHERE sha256 = $1", sha256)
        await self.engine.write(delete)

    async def run_project_id(self, run_id: str) -> str | None:
        async def read(conn: Conn) -> str | None:
            found = await conn.fetchval("SELECT project_id FROM runs WHERE run_id = $1", run_id)
            return None if found is None else str(found)
        return await self.engine.read(read)

    async def add_media_items(self, items: Sequence[MediaItem]) -> int:
        if not items:
            return 0
        return await self.engine.write(lambda conn: insert_media(conn, items))

    async def query_media(self, query: MediaQuery) -> list[MediaItem]:
        if has_nul(query.run_id, query.media_key):
            return []
        where, params = media_filter(query, lambda n: f"${n}")

        async def read(conn: Conn) -> list[MediaItem]:
            rows = await conn.fetch(
                f"SELECT {MEDIA_COLUMNS}, item_id FROM media_items WHERE {where} "
                f"ORDER BY item_id LIMIT ${len(params) + 1}", *params, query.limit)
            return [media_item(row) for row in rows]
        return await self.engine.read(read)

    def sweep_lock(self) -> AbstractAsyncContextManager[bool]:
        """Whether this collector may run the artifact GC sweep now (see
        :func:`.artifacts_sweep.sweep_lock`): False while another collector sweeps."""
        return sweep_lock(self.engine)


async def _uses(conn: Conn, where: str, params: Sequence[object]) -> list[ArtifactUse]:
    rows = await conn.fetch(
        f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
        f"ON v.artifact_id = u.artifact_id WHERE {where} ORDER BY u.first_used_ms", *params)
    return [use_from_row(row) for row in rows]
