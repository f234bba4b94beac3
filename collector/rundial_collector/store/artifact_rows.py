"""Backend-neutral pieces of the artifact stores: column lists, row <-> dataclass conversion,
the retention rule and the media query filter. Both the SQLite and the PostgreSQL store import
them, so the two build identical results from identical rows.

Column lists name the same columns in both schemas; values are kept as both store them (JSON as
TEXT written by orjson, milliseconds as integers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import orjson

from rundial_collector.store.artifacts_base import (CHECKPOINT_KEEP_LAST_DEFAULT, ArtifactFile,
                                                    ArtifactUse, ArtifactVersion, MediaItem,
                                                    MediaQuery, NewArtifactVersion)

VERSION_COLUMNS = ("artifact_id, upload_id, project_id, run_id, name, artifact_type, state, "
                   "version, requested_aliases, metadata, keep_last, created_ms, finalized_ms, "
                   "expires_ms, deduplicated_bytes")
USE_COLUMNS = ("u.run_id, u.artifact_id, v.name, v.version, u.ref, u.first_used_ms, "
               "u.last_used_ms, u.use_count")
MEDIA_COLUMNS = ("project_id, run_id, media_key, media_type, step, timestamp_ms, artifact_id, "
                 "artifact_version, artifact_path, artifact_sha256, caption, width, height, "
                 "table_rows, table_columns, metadata")
FILE_COLUMNS = "path, size_bytes, sha256, content_type"


class Row(Protocol):
    """A result row of either driver (a tuple from sqlite3, a Record from asyncpg)."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


def qualified_version_columns(table_alias: str) -> str:
    """:data:`VERSION_COLUMNS`, each prefixed with ``table_alias.``."""
    return ", ".join(f"{table_alias}.{c.strip()}" for c in VERSION_COLUMNS.split(","))


def version_from_row(row: Row, files: Sequence[ArtifactFile],
                     aliases: Sequence[str]) -> ArtifactVersion:
    """A version from a :data:`VERSION_COLUMNS` row, its files (manifest order) and the
    aliases that point at it now (sorted)."""
    return ArtifactVersion(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
        tuple(orjson.loads(row[8])), tuple(aliases), orjson.loads(row[9]), row[10], row[11],
        row[12], row[13], tuple(files), row[14])


def new_version_values(new: NewArtifactVersion, artifact_id: str,
                       upload_id: str) -> tuple[Any, ...]:
    """The values of a pending version's row, in the order: artifact_id, upload_id,
    project_id, run_id, name, artifact_type, requested_aliases, metadata, keep_last,
    idempotency_key, created_ms, expires_ms, deduplicated_bytes."""
    return (artifact_id, upload_id, new.project_id, new.run_id, new.name, new.artifact_type,
            orjson.dumps(list(new.aliases)).decode(), orjson.dumps(new.metadata).decode(),
            new.keep_last, new.idempotency_key, new.created_ms, new.expires_ms,
            new.deduplicated_bytes)


def file_rows(artifact_id: str, files: Sequence[ArtifactFile]) -> list[tuple[Any, ...]]:
    """``(artifact_id, ordinal, path, size_bytes, sha256, content_type)`` per file."""
    return [(artifact_id, i, f.path, f.size_bytes, f.sha256, f.content_type)
            for i, f in enumerate(files)]


def keep_last_of(v: ArtifactVersion) -> int | None:
    """How many ready versions of (project, name, run) retention keeps (None: all)."""
    if v.keep_last is not None:
        return v.keep_last
    return CHECKPOINT_KEEP_LAST_DEFAULT if v.artifact_type == "checkpoint" else None


def use_from_row(row: Row) -> ArtifactUse:
    """An :class:`ArtifactUse` from a :data:`USE_COLUMNS` row."""
    return ArtifactUse(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def media_row(item: MediaItem) -> tuple[Any, ...]:
    """The :data:`MEDIA_COLUMNS` values of ``item``."""
    return (item.project_id, item.run_id, item.media_key, item.media_type, item.step,
            item.timestamp_ms, item.artifact_id, item.artifact_version, item.artifact_path,
            item.artifact_sha256, item.caption, item.width, item.height, item.table_rows,
            item.table_columns, orjson.dumps(item.metadata).decode())


def media_item(row: Row) -> MediaItem:
    """A :class:`MediaItem` from a :data:`MEDIA_COLUMNS` row followed by ``item_id``."""
    (project_id, run_id, key, kind, step, ts, artifact_id, version, path, sha256, caption,
     width, height, rows, columns, metadata, item_id) = row
    return MediaItem(project_id, run_id, key, kind, step, ts, artifact_id, version, path,
                     sha256, caption, width, height, rows, columns, orjson.loads(metadata),
                     item_id)


def media_filter(query: MediaQuery, mark: Callable[[int], str]) -> tuple[str, list[Any]]:
    """A WHERE clause of fixed fragments and its parameters (no user text in the SQL);
    ``mark(n)`` is the backend's placeholder for the n-th parameter (1-based)."""
    fragments = ["project_id = ", "run_id = ", "item_id > "]
    params: list[Any] = [query.project_id, query.run_id, query.after_id]
    optional = (("media_key = ", query.media_key), ("step >= ", query.min_step),
                ("step <= ", query.max_step))
    for fragment, value in optional:
        if value is not None:
            fragments.append(fragment)
            params.append(value)
    clauses = [fragment + mark(i) for i, fragment in enumerate(fragments, start=1)]
    return " AND ".join(clauses), params
