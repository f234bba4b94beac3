"""SQL of artifact versions: reads, the initiate upsert, and finalize with retention.

Every function takes a connection and runs inside the caller's transaction (one
``engine.write`` job is atomic). Every statement is parameterised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from rundial_collector.store.artifact_rows import (FILE_COLUMNS, VERSION_COLUMNS, file_rows,
                                                   keep_last_of, new_version_values,
                                                   qualified_version_columns, version_from_row)
from rundial_collector.store.artifacts_base import (LATEST, ArtifactFile, ArtifactVersion,
                                                    FinalizeOutcome, NewArtifactVersion)
from rundial_collector.store.control_base import StoreConflict, StoreNotFound


def load_version(conn: sqlite3.Connection, artifact_id: str) -> ArtifactVersion | None:
    row = conn.execute(f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE artifact_id = ?",
                       (artifact_id,)).fetchone()
    return None if row is None else with_details(conn, row)


def with_details(conn: sqlite3.Connection, row: Sequence[Any]) -> ArtifactVersion:
    """Build a version from a :data:`VERSION_COLUMNS` row plus its files and current aliases."""
    artifact_id = row[0]
    files = [ArtifactFile(*f) for f in conn.execute(
        f"SELECT {FILE_COLUMNS} FROM artifact_files WHERE artifact_id = ? ORDER BY ordinal",
        (artifact_id,))]
    aliases = [a for (a,) in conn.execute(
        "SELECT alias FROM artifact_aliases WHERE artifact_id = ? ORDER BY alias",
        (artifact_id,))]
    return version_from_row(row, files, aliases)


def begin_upload(conn: sqlite3.Connection, new: NewArtifactVersion) -> ArtifactVersion:
    """Insert a pending version; with a known idempotency key reuse (and refresh) that row."""
    existing = _by_idempotency_key(conn, new)
    if existing is not None and existing.state == "ready":
        return existing
    if existing is not None and existing.state != "pending":
        raise StoreConflict(f"the upload with this idempotency key is {existing.state}",
                            "idempotencyKey")
    artifact_id = existing.artifact_id if existing else new.artifact_id
    upload_id = existing.upload_id if existing else new.upload_id
    conn.execute("DELETE FROM artifact_files WHERE artifact_id = ?", (artifact_id,))
    conn.execute("DELETE FROM artifact_versions WHERE artifact_id = ?", (artifact_id,))
    conn.execute(
        "INSERT INTO artifact_versions (artifact_id, upload_id, project_id, run_id, name, "
        "artifact_type, state, requested_aliases, metadata, keep_last, idempotency_key, "
        "created_ms, expires_ms, deduplicated_bytes) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
        new_version_values(new, artifact_id, upload_id))
    conn.executemany(
        "INSERT INTO artifact_files (artifact_id, ordinal, path, size_bytes, sha256, "
        "content_type) VALUES (?, ?, ?, ?, ?, ?)",
        file_rows(artifact_id, new.files))
    version = load_version(conn, artifact_id)
    assert version is not None
    return version


def _by_idempotency_key(conn: sqlite3.Connection,
                        new: NewArtifactVersion) -> ArtifactVersion | None:
    if new.idempotency_key is None:
        return None
    row = conn.execute(
        "SELECT artifact_id FROM artifact_versions WHERE project_id = ? AND idempotency_key = ?",
        (new.project_id, new.idempotency_key)).fetchone()
    return None if row is None else load_version(conn, row[0])


def finalize(conn: sqlite3.Connection, artifact_id: str, now_ms: int) -> FinalizeOutcome:
    """Number a pending version, move its aliases and apply its retention policy."""
    current = load_version(conn, artifact_id)
    if current is None:
        raise StoreNotFound(f"artifact {artifact_id} was not found", "artifactId")
    if current.state == "ready":
        return FinalizeOutcome(current, already_final=True)
    if current.state != "pending":
        raise StoreConflict(f"artifact {artifact_id} is {current.state}", "artifactId")
    (number,) = conn.execute(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM artifact_versions "
        "WHERE project_id = ? AND name = ?", (current.project_id, current.name)).fetchone()
    conn.execute("UPDATE artifact_versions SET state = 'ready', version = ?, finalized_ms = ? "
                 "WHERE artifact_id = ?", (number, now_ms, artifact_id))
    _move_aliases(conn, current, (LATEST, *current.requested_aliases), now_ms)
    deleted, released = _apply_retention(conn, current, now_ms)
    final = load_version(conn, artifact_id)
    assert final is not None
    return FinalizeOutcome(final, False, tuple(deleted), tuple(unreferenced(conn, released)))


def _move_aliases(conn: sqlite3.Connection, v: ArtifactVersion, aliases: Iterable[str],
                  now_ms: int) -> None:
    conn.executemany(
        "INSERT INTO artifact_aliases (project_id, name, alias, artifact_id, updated_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, name, alias) DO UPDATE SET "
        "artifact_id = excluded.artifact_id, updated_ms = excluded.updated_ms",
        [(v.project_id, v.name, alias, v.artifact_id, now_ms) for alias in dict.fromkeys(aliases)])


def _apply_retention(conn: sqlite3.Connection, v: ArtifactVersion,
                     now_ms: int) -> tuple[list[int], set[str]]:
    """Delete this run's ready versions beyond keep-last N, sparing aliased ones."""
    keep = keep_last_of(v)
    if keep is None:
        return [], set()
    victims = conn.execute(
        "SELECT artifact_id, version FROM artifact_versions AS v WHERE project_id = ? "
        "AND name = ? AND run_id = ? AND state = 'ready' AND artifact_id NOT IN "
        "(SELECT artifact_id FROM artifact_aliases) AND version < (SELECT MIN(version) FROM "
        "(SELECT version FROM artifact_versions WHERE project_id = ? AND name = ? AND "
        "run_id = ? AND state = 'ready' ORDER BY version DESC LIMIT ?))",
        (v.project_id, v.name, v.run_id, v.project_id, v.name, v.run_id, keep)).fetchall()
    released: set[str] = set()
    for victim_id, _ in victims:
        released.update(drop_version(conn, victim_id, "deleted", now_ms))
    return sorted(number for _, number in victims), released


def drop_version(conn: sqlite3.Connection, artifact_id: str, state: str,
                 now_ms: int) -> set[str]:
    """Mark a version deleted/expired and forget its files; return the sha256s it listed."""
    shas = {s for (s,) in conn.execute(
        "SELECT sha256 FROM artifact_files WHERE artifact_id = ?", (artifact_id,))}
    conn.execute("DELETE FROM artifact_files WHERE artifact_id = ?", (artifact_id,))
    conn.execute("UPDATE artifact_versions SET state = ?, deleted_ms = ? WHERE artifact_id = ?",
                 (state, now_ms, artifact_id))
    return shas


def unreferenced(conn: sqlite3.Connection, sha256s: Iterable[str]) -> list[str]:
    """The sha256s no remaining file row lists (rows exist only for pending/ready versions)."""
    return sorted(s for s in set(sha256s) if conn.execute(
        "SELECT 1 FROM artifact_files WHERE sha256 = ? LIMIT 1", (s,)).fetchone() is None)


def resolve(conn: sqlite3.Connection, project_id: str, name: str, alias: str | None,
            version: int | None) -> ArtifactVersion | None:
    """The ready version of (project, name) selected by alias or number."""
    if alias is not None:
        row = conn.execute(
            f"SELECT {qualified_version_columns('v')} FROM artifact_aliases AS a JOIN "
            "artifact_versions AS v ON v.artifact_id = a.artifact_id WHERE a.project_id = ? "
            "AND a.name = ? AND a.alias = ? AND v.state = 'ready'",
            (project_id, name, alias)).fetchone()
    else:
        row = conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE project_id = ? AND "
            "name = ? AND version = ? AND state = 'ready'", (project_id, name, version)).fetchone()
    return None if row is None else with_details(conn, row)


def versions_where(conn: sqlite3.Connection, where: str,
                   params: Sequence[Any]) -> list[ArtifactVersion]:
    """Versions matching a fixed ``where`` clause (callers pass constants, never user text)."""
    rows = conn.execute(f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE {where} "
                        "ORDER BY name, version", tuple(params)).fetchall()
    return [with_details(conn, row) for row in rows]
