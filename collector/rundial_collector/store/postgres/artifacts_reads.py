"""PostgreSQL implementation of :class:`~rundial_collector.store.asset_reads_base.AssetReadStore`.

The web UI's artifacts and media reads, each in one read-only transaction (one snapshot), every
list cut at the caller's limit, every statement parameterised. Results equal SQLite's
(:mod:`rundial_collector.store.sqlite.asset_reads`) for the same data.
"""

from __future__ import annotations

from collections.abc import Sequence

from rundial_collector.store.artifact_rows import (FILE_COLUMNS, USE_COLUMNS, VERSION_COLUMNS,
                                                   Row, use_from_row, version_from_row)
from rundial_collector.store.artifacts_base import ArtifactFile
from rundial_collector.store.asset_reads_base import (FilePage, MediaKeySummary, RunAssets,
                                                      RunLabel, VersionSummary)
from rundial_collector.store.errors import has_nul
from rundial_collector.store.postgres.engine import Conn, PgEngine

# Versions of these types are left out ($n is the array of excluded types; may be empty).
_NOT_EXCLUDED = " AND (v.artifact_type IS NULL OR NOT v.artifact_type = ANY(${n}::text[]))"


class PgAssetReads:
    """The artifacts and media reads of the web UI (part of :class:`PgArtifacts`)."""

    engine: PgEngine

    async def run_assets(self, project_id: str, run_id: str, limit: int,
                         consumer_limit: int, exclude_types: Sequence[str] = ()) -> RunAssets:
        excluded = list(exclude_types)

        async def read(conn: Conn) -> RunAssets:
            rows = await conn.fetch(
                f"SELECT {VERSION_COLUMNS} FROM artifact_versions AS v WHERE project_id = $1 "
                "AND run_id = $2 AND state IN ('ready', 'deleted')"
                f"{_NOT_EXCLUDED.format(n=3)} ORDER BY name, version LIMIT $4",
                project_id, run_id, excluded, limit + 1)
            produced = tuple([await _summary(conn, row, consumer_limit) for row in rows[:limit]])
            uses = [use_from_row(u) for u in await conn.fetch(
                f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
                "ON v.artifact_id = u.artifact_id WHERE u.project_id = $1 AND u.run_id = $2"
                f"{_NOT_EXCLUDED.format(n=3)} ORDER BY u.first_used_ms LIMIT $4",
                project_id, run_id, excluded, limit + 1)]
            used = []
            for use in uses[:limit]:
                row = await conn.fetchrow(f"SELECT {VERSION_COLUMNS} FROM artifact_versions "
                                          "WHERE artifact_id = $1", use.artifact_id)
                if row is not None:
                    used.append((use, await _summary(conn, row, consumer_limit)))
            return RunAssets(produced, tuple(used), len(rows) > limit, len(uses) > limit)
        return await self.engine.read(read)

    async def artifact_summary(self, artifact_id: str) -> VersionSummary | None:
        if has_nul(artifact_id):
            return None

        async def read(conn: Conn) -> VersionSummary | None:
            row = await conn.fetchrow(f"SELECT {VERSION_COLUMNS} FROM artifact_versions "
                                      "WHERE artifact_id = $1", artifact_id)
            return None if row is None else await _summary(conn, row, 0)
        return await self.engine.read(read)

    async def run_labels(self, run_ids: Sequence[str]) -> dict[str, RunLabel]:
        wanted = sorted(set(run_ids))

        async def read(conn: Conn) -> dict[str, RunLabel]:
            rows = await conn.fetch("SELECT run_id, name, status FROM runs "
                                    "WHERE run_id = ANY($1::text[])", wanted)
            return {str(r[0]): RunLabel(r[0], r[1], r[2]) for r in rows}
        return await self.engine.read(read) if wanted else {}

    async def artifact_file_page(self, artifact_id: str, after_ordinal: int,
                                 limit: int) -> FilePage:
        async def read(conn: Conn) -> FilePage:
            rows = await conn.fetch(
                f"SELECT ordinal, {FILE_COLUMNS} FROM artifact_files WHERE artifact_id = $1 "
                "AND ordinal > $2 ORDER BY ordinal LIMIT $3", artifact_id, after_ordinal, limit)
            total = await conn.fetchval("SELECT COUNT(*) FROM artifact_files "
                                        "WHERE artifact_id = $1", artifact_id)
            return FilePage(tuple((int(r[0]), ArtifactFile(*r[1:])) for r in rows), int(total))
        return await self.engine.read(read)

    async def artifact_file(self, artifact_id: str, path: str) -> ArtifactFile | None:
        async def read(conn: Conn) -> ArtifactFile | None:
            row = await conn.fetchrow(f"SELECT {FILE_COLUMNS} FROM artifact_files "
                                      "WHERE artifact_id = $1 AND path = $2", artifact_id, path)
            return None if row is None else ArtifactFile(*row)
        return await self.engine.read(read)

    async def media_keys(self, project_id: str, run_id: str, after_key: str,
                         limit: int) -> list[MediaKeySummary]:
        async def read(conn: Conn) -> list[MediaKeySummary]:
            rows = await conn.fetch(
                "SELECT media_key, MAX(media_type), COUNT(*), COUNT(DISTINCT step), MIN(step), "
                "MAX(step) FROM media_items WHERE project_id = $1 AND run_id = $2 AND "
                "media_key > $3 GROUP BY media_key ORDER BY media_key LIMIT $4",
                project_id, run_id, after_key, limit)
            return [MediaKeySummary(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]))
                    for r in rows]
        return await self.engine.read(read)

    async def media_steps(self, project_id: str, run_id: str, media_key: str,
                          after_step: int, limit: int) -> list[int]:
        if has_nul(run_id, media_key):
            return []

        async def read(conn: Conn) -> list[int]:
            rows = await conn.fetch(
                "SELECT DISTINCT step FROM media_items WHERE project_id = $1 AND run_id = $2 "
                "AND media_key = $3 AND step > $4 ORDER BY step LIMIT $5",
                project_id, run_id, media_key, after_step, limit)
            return [int(step) for (step,) in rows]
        return await self.engine.read(read)


async def _summary(conn: Conn, row: Row, consumer_limit: int) -> VersionSummary:
    """A version row with its aliases, file count and size, and its first consumers."""
    artifact_id = row[0]
    aliases = [a for (a,) in await conn.fetch(
        "SELECT alias FROM artifact_aliases WHERE artifact_id = $1 ORDER BY alias", artifact_id)]
    totals = await conn.fetchrow(
        "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM artifact_files "
        "WHERE artifact_id = $1", artifact_id)
    assert totals is not None  # an aggregate always yields one row
    count, size = totals
    consumers = tuple(use_from_row(u) for u in await conn.fetch(
        f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
        "ON v.artifact_id = u.artifact_id WHERE u.artifact_id = $1 ORDER BY u.first_used_ms "
        "LIMIT $2", artifact_id, consumer_limit))
    consumer_count = await conn.fetchval("SELECT COUNT(*) FROM artifact_uses "
                                         "WHERE artifact_id = $1", artifact_id)
    return VersionSummary(version_from_row(row, (), aliases), int(count), int(size), consumers,
                          int(consumer_count))
