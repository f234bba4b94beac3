"""SQLite implementation of :class:`~rundial_collector.store.asset_reads_base.AssetReadStore`.

A mixin for :class:`~rundial_collector.store.sqlite.store.SQLiteStore` (uses ``self.engine``).
Read-only; every statement is parameterised and every list is cut at the caller's limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from rundial_collector.store.artifact_rows import (USE_COLUMNS, VERSION_COLUMNS, use_from_row,
                                                   version_from_row)
from rundial_collector.store.artifacts_base import ArtifactFile
from rundial_collector.store.asset_reads_base import (FilePage, MediaKeySummary, RunAssets,
                                                      RunLabel, VersionSummary)
from rundial_collector.store.sqlite.engine import SQLiteEngine

_IN_CHUNK = 500


class SQLiteAssetReads:
    """The artifacts and media reads of the web UI."""

    engine: SQLiteEngine

    async def run_assets(self, project_id: str, run_id: str, limit: int,
                         consumer_limit: int, exclude_types: Sequence[str] = ()) -> RunAssets:
        excluded = list(exclude_types)
        marks = ", ".join("?" * len(excluded))
        not_excluded = (f" AND (v.artifact_type IS NULL OR v.artifact_type NOT IN ({marks}))"
                        if excluded else "")

        def read(conn: sqlite3.Connection) -> RunAssets:
            rows = conn.execute(
                f"SELECT {VERSION_COLUMNS} FROM artifact_versions AS v WHERE project_id = ? AND "
                f"run_id = ? AND state IN ('ready', 'deleted'){not_excluded} "
                "ORDER BY name, version LIMIT ?",
                (project_id, run_id, *excluded, limit + 1)).fetchall()
            produced = tuple(_summary(conn, row, consumer_limit) for row in rows[:limit])
            uses = [use_from_row(u) for u in conn.execute(
                f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
                f"ON v.artifact_id = u.artifact_id WHERE u.project_id = ? AND u.run_id = ?"
                f"{not_excluded} ORDER BY u.first_used_ms LIMIT ?",
                (project_id, run_id, *excluded, limit + 1))]
            used = []
            for use in uses[:limit]:
                row = conn.execute(f"SELECT {VERSION_COLUMNS} FROM artifact_versions "
                                   "WHERE artifact_id = ?", (use.artifact_id,)).fetchone()
                if row is not None:
                    used.append((use, _summary(conn, row, consumer_limit)))
            return RunAssets(produced, tuple(used), len(rows) > limit, len(uses) > limit)
        return await self.engine.read(read)

    async def artifact_summary(self, artifact_id: str) -> VersionSummary | None:
        def read(conn: sqlite3.Connection) -> VersionSummary | None:
            row = conn.execute(f"SELECT {VERSION_COLUMNS} FROM artifact_versions "
                               "WHERE artifact_id = ?", (artifact_id,)).fetchone()
            return None if row is None else _summary(conn, row, 0)
        return await self.engine.read(read)

    async def run_labels(self, run_ids: Sequence[str]) -> dict[str, RunLabel]:
        wanted = sorted(set(run_ids))

        def read(conn: sqlite3.Connection) -> dict[str, RunLabel]:
            found: dict[str, RunLabel] = {}
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start:start + _IN_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for run_id, name, status in conn.execute(
                        f"SELECT run_id, name, status FROM runs WHERE run_id IN ({marks})",
                        chunk):
                    found[run_id] = RunLabel(run_id, name, status)
            return found
        return await self.engine.read(read)

    async def artifact_file_page(self, artifact_id: str, after_ordinal: int,
                                 limit: int) -> FilePage:
        def read(conn: sqlite3.Connection) -> FilePage:
            rows = conn.execute(
                "SELECT ordinal, path, size_bytes, sha256, content_type FROM artifact_files "
                "WHERE artifact_id = ? AND ordinal > ? ORDER BY ordinal LIMIT ?",
                (artifact_id, after_ordinal, limit)).fetchall()
            (total,) = conn.execute("SELECT COUNT(*) FROM artifact_files WHERE artifact_id = ?",
                                    (artifact_id,)).fetchone()
            return FilePage(tuple((r[0], ArtifactFile(*r[1:])) for r in rows), int(total))
        return await self.engine.read(read)

    async def artifact_file(self, artifact_id: str, path: str) -> ArtifactFile | None:
        def read(conn: sqlite3.Connection) -> ArtifactFile | None:
            row = conn.execute(
                "SELECT path, size_bytes, sha256, content_type FROM artifact_files "
                "WHERE artifact_id = ? AND path = ?", (artifact_id, path)).fetchone()
            return None if row is None else ArtifactFile(*row)
        return await self.engine.read(read)

    async def media_keys(self, project_id: str, run_id: str, after_key: str,
                         limit: int) -> list[MediaKeySummary]:
        def read(conn: sqlite3.Connection) -> list[MediaKeySummary]:
            rows = conn.execute(
                "SELECT media_key, MAX(media_type), COUNT(*), COUNT(DISTINCT step), MIN(step), "
                "MAX(step) FROM media_items WHERE project_id = ? AND run_id = ? AND "
                "media_key > ? GROUP BY media_key ORDER BY media_key LIMIT ?",
                (project_id, run_id, after_key, limit)).fetchall()
            return [MediaKeySummary(*row) for row in rows]
        return await self.engine.read(read)

    async def media_steps(self, project_id: str, run_id: str, media_key: str,
                          after_step: int, limit: int) -> list[int]:
        def read(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT DISTINCT step FROM media_items WHERE project_id = ? AND run_id = ? "
                "AND media_key = ? AND step > ? ORDER BY step LIMIT ?",
                (project_id, run_id, media_key, after_step, limit)).fetchall()
            return [int(step) for (step,) in rows]
        return await self.engine.read(read)


def _summary(conn: sqlite3.Connection, row: Sequence[Any], consumer_limit: int) -> VersionSummary:
    """A version row with its aliases, file count and size, and its first consumers."""
    artifact_id = row[0]
    aliases = tuple(a for (a,) in conn.execute(
        "SELECT alias FROM artifact_aliases WHERE artifact_id = ? ORDER BY alias",
        (artifact_id,)))
    version = version_from_row(row, (), aliases)
    count, size = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM artifact_files WHERE artifact_id = ?",
        (artifact_id,)).fetchone()
    consumers = tuple(use_from_row(u) for u in conn.execute(
        f"SELECT {USE_COLUMNS} FROM artifact_uses AS u JOIN artifact_versions AS v "
        "ON v.artifact_id = u.artifact_id WHERE u.artifact_id = ? ORDER BY u.first_used_ms "
        "LIMIT ?", (artifact_id, consumer_limit)))
    (consumer_count,) = conn.execute("SELECT COUNT(*) FROM artifact_uses WHERE artifact_id = ?",
                                     (artifact_id,)).fetchone()
    return VersionSummary(version, int(count), int(size), consumers, int(consumer_count))
