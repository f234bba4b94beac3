"""PostgreSQL SQL of artifact versions: reads, the initiate upsert, finalize with retention.

Every function takes a connection and runs inside the caller's transaction (one
``engine.write``/``engine.read`` call). Every statement is parameterised.

Concurrency across collectors (READ COMMITTED):

* Finalize takes a transaction-level advisory lock on (project, name) before numbering, so two
  collectors finalizing versions of one artifact serialise: each reads ``MAX(version)`` after
  the other committed and the numbers stay distinct and gap-free. Aliases move and retention
  runs under the same lock, so ``latest`` always ends on the highest number.
* Initiate with an idempotency key takes an advisory lock on (project, key), so a retry that
  reaches another collector at the same moment reuses the row instead of failing on the
  unique index.
* A pending row is locked (``FOR UPDATE``) by whoever changes it: finalize, a repeated
  initiate and expiry never interleave on one version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rundial_collector.store.artifact_rows import (FILE_COLUMNS, VERSION_COLUMNS, Row, file_rows,
                                                   keep_last_of, new_version_values,
                                                   qualified_version_columns, version_from_row)
from rundial_collector.store.artifacts_base import (LATEST, ArtifactFile, ArtifactVersion,
                                                    FinalizeOutcome, NewArtifactVersion)
from rundial_collector.store.control_base import StoreConflict, StoreNotFound
from rundial_collector.store.postgres.engine import Conn

_NUMBERING_LOCK = "rundial.artifact.numbering"
_IDEMPOTENCY_LOCK = "rundial.artifact.idempotency"


async def lock_pair(conn: Conn, namespace: str, first: str, second: str) -> None:
    """Take the transaction-level advisory lock of (``namespace``, ``first``, ``second``);
    released at COMMIT/ROLLBACK. A hash collision only makes two callers wait for each other."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0))",
        namespace, first, second)


async def load_version(conn: Conn, artifact_id: str, *,
                       for_update: bool = False) -> ArtifactVersion | None:
    """The version ``artifact_id`` with files and aliases; ``for_update`` locks its row."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE artifact_id = $1{lock}",
        artifact_id)
    return None if row is None else await with_details(conn, row)


async def with_details(conn: Conn, row: Row) -> ArtifactVersion:
    """Build a version from a :data:`VERSION_COLUMNS` row plus its files and current aliases."""
    artifact_id = row[0]
    files = [ArtifactFile(*f) for f in await conn.fetch(
        f"SELECT {FILE_COLUMNS} FROM artifact_files WHERE artifact_id = $1 ORDER BY ordinal",
        artifact_id)]
    aliases = [a for (a,) in await conn.fetch(
        "SELECT alias FROM artifact_aliases WHERE artifact_id = $1 ORDER BY alias",
        artifact_id)]
    return version_from_row(row, files, aliases)


async def begin_upload(conn: Conn, new: NewArtifactVersion) -> ArtifactVersion:
    """Insert a pending version; with a known idempotency key reuse (and refresh) that row."""
    existing = None
    if new.idempotency_key is not None:
        await lock_pair(conn, _IDEMPOTENCY_LOCK, new.project_id, new.idempotency_key)
        artifact_id = await conn.fetchval(
            "SELECT artifact_id FROM artifact_versions WHERE project_id = $1 AND "
            "idempotency_key = $2", new.project_id, new.idempotency_key)
        if artifact_id is not None:
            existing = await load_version(conn, artifact_id, for_update=True)
    if existing is not None and existing.state == "ready":
        return existing
    if existing is not None and existing.state != "pending":
        raise StoreConflict(f"the upload with this idempotency key is {existing.state}",
                            "idempotencyKey")
    if existing is None:
        await _insert_pending(conn, new)
    else:
        await _refresh_pending(conn, new, existing)
    await conn.executemany(
        "INSERT INTO artifact_files (artifact_id, ordinal, path, size_bytes, sha256, "
        "content_type) VALUES ($1, $2, $3, $4, $5, $6)",
        file_rows(existing.artifact_id if existing else new.artifact_id, new.files))
    version = await load_version(conn, existing.artifact_id if existing else new.artifact_id)
    assert version is not None
    return version


async def _insert_pending(conn: Conn, new: NewArtifactVersion) -> None:
    await conn.execute(
        "INSERT INTO artifact_versions (artifact_id, upload_id, project_id, run_id, name, "
        "artifact_type, state, requested_aliases, metadata, keep_last, idempotency_key, "
        "created_ms, expires_ms, deduplicated_bytes) "
        "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13)",
        *new_version_values(new, new.artifact_id, new.upload_id))


async def _refresh_pending(conn: Conn, new: NewArtifactVersion,
                           existing: ArtifactVersion) -> None:
    """Rewrite a locked pending row in place with what the repeated initiate sent (the same
    outcome as SQLite's delete and re-insert, without a moment where the row is missing)."""
    await conn.execute("DELETE FROM artifact_files WHERE artifact_id = $1", existing.artifact_id)
    await conn.execute(
        "UPDATE artifact_versions SET upload_id = $2, project_id = $3, run_id = $4, name = $5, "
        "artifact_type = $6, requested_aliases = $7, metadata = $8, keep_last = $9, "
        "idempotency_key = $10, created_ms = $11, expires_ms = $12, deduplicated_bytes = $13 "
        "WHERE artifact_id = $1",
        *new_version_values(new, existing.artifact_id, existing.upload_id))


async def finalize(conn: Conn, artifact_id: str, now_ms: int) -> FinalizeOutcome:
    """Number a pending version, move its aliases and apply its retention policy."""
    current = await _lock_for_numbering(conn, artifact_id)
    if current.state == "ready":
        return FinalizeOutcome(current, already_final=True)
    if current.state != "pending":
        raise StoreConflict(f"artifact {artifact_id} is {current.state}", "artifactId")
    number = await conn.fetchval(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM artifact_versions "
        "WHERE project_id = $1 AND name = $2", current.project_id, current.name)
    await conn.execute("UPDATE artifact_versions SET state = 'ready', version = $1, "
                       "finalized_ms = $2 WHERE artifact_id = $3", number, now_ms, artifact_id)
    await _move_aliases(conn, current, (LATEST, *current.requested_aliases), now_ms)
    deleted, released = await _apply_retention(conn, current, now_ms)
    final = await load_version(conn, artifact_id)
    assert final is not None
    return FinalizeOutcome(final, False, tuple(deleted),
                           tuple(await unreferenced(conn, released)))


async def _lock_for_numbering(conn: Conn, artifact_id: str) -> ArtifactVersion:
    """The version, its row locked, under the numbering lock of its (project, name).

    The lock is taken before the row's, as every finalize does (no deadlock); a repeated
    initiate that renamed the row meanwhile makes us lock the new name too and look again."""
    locked: set[tuple[str, str]] = set()
    while True:
        row = await conn.fetchrow("SELECT project_id, name FROM artifact_versions "
                                  "WHERE artifact_id = $1", artifact_id)
        if row is None:
            raise StoreNotFound(f"artifact {artifact_id} was not found", "artifactId")
        key = (str(row[0]), str(row[1]))
        if key not in locked:
            await lock_pair(conn, _NUMBERING_LOCK, *key)
            locked.add(key)
        current = await load_version(conn, artifact_id, for_update=True)
        if current is None:
            raise StoreNotFound(f"artifact {artifact_id} was not found", "artifactId")
        if (current.project_id, current.name) in locked:
            return current


async def _move_aliases(conn: Conn, v: ArtifactVersion, aliases: Iterable[str],
                        now_ms: int) -> None:
    await conn.executemany(
        "INSERT INTO artifact_aliases (project_id, name, alias, artifact_id, updated_ms) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, name, alias) DO UPDATE SET "
        "artifact_id = excluded.artifact_id, updated_ms = excluded.updated_ms",
        [(v.project_id, v.name, alias, v.artifact_id, now_ms) for alias in dict.fromkeys(aliases)])


async def _apply_retention(conn: Conn, v: ArtifactVersion,
                           now_ms: int) -> tuple[list[int], set[str]]:
    """Delete this run's ready versions beyond keep-last N, sparing aliased ones."""
    keep = keep_last_of(v)
    if keep is None:
        return [], set()
    victims = await conn.fetch(
        "SELECT artifact_id, version FROM artifact_versions WHERE project_id = $1 "
        "AND name = $2 AND run_id = $3 AND state = 'ready' AND artifact_id NOT IN "
        "(SELECT artifact_id FROM artifact_aliases) AND version < (SELECT MIN(version) FROM "
        "(SELECT version FROM artifact_versions WHERE project_id = $1 AND name = $2 AND "
        "run_id = $3 AND state = 'ready' ORDER BY version DESC LIMIT $4) AS kept)",
        v.project_id, v.name, v.run_id, keep)
    released: set[str] = set()
    for victim_id, _ in victims:
        released.update(await drop_version(conn, victim_id, "deleted", now_ms))
    return sorted(int(number) for _, number in victims), released


async def drop_version(conn: Conn, artifact_id: str, state: str, now_ms: int) -> set[str]:
    """Mark a version deleted/expired and forget its files; return the sha256s it listed."""
    shas = {str(s) for (s,) in await conn.fetch(
        "DELETE FROM artifact_files WHERE artifact_id = $1 RETURNING sha256", artifact_id)}
    await conn.execute("UPDATE artifact_versions SET state = $1, deleted_ms = $2 "
                       "WHERE artifact_id = $3", state, now_ms, artifact_id)
    return shas


async def unreferenced(conn: Conn, sha256s: Iterable[str]) -> list[str]:
    """The sha256s no remaining file row lists (rows exist only for pending/ready versions)."""
    wanted = sorted(set(sha256s))
    if not wanted:
        return []
    rows = await conn.fetch(
        "SELECT s FROM unnest($1::text[]) AS s WHERE NOT EXISTS "
        "(SELECT 1 FROM artifact_files WHERE sha256 = s)", wanted)
    return sorted(str(s) for (s,) in rows)


async def resolve(conn: Conn, project_id: str, name: str, alias: str | None,
                  version: int | None) -> ArtifactVersion | None:
    """The ready version of (project, name) selected by alias or number."""
    if alias is not None:
        row = await conn.fetchrow(
            f"SELECT {qualified_version_columns('v')} FROM artifact_aliases AS a JOIN "
            "artifact_versions AS v ON v.artifact_id = a.artifact_id WHERE a.project_id = $1 "
            "AND a.name = $2 AND a.alias = $3 AND v.state = 'ready'", project_id, name, alias)
    else:
        row = await conn.fetchrow(
            f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE project_id = $1 AND "
            "name = $2 AND version = $3 AND state = 'ready'", project_id, name, version)
    return None if row is None else await with_details(conn, row)


async def versions_where(conn: Conn, where: str, params: Sequence[Any]) -> list[ArtifactVersion]:
    """Versions matching a fixed ``where`` clause (callers pass constants, never user text)."""
    rows = await conn.fetch(f"SELECT {VERSION_COLUMNS} FROM artifact_versions WHERE {where} "
                            "ORDER BY name, version", *params)
    return [await with_details(conn, row) for row in rows]
