"""The artifact store interface: versions, aliases, retention, lineage and media manifests.

Backend-neutral and async; no SQL leaks out. Rules every backend implements (docs/protocol.md
§5):

* An artifact **version** is one upload: it gets its ``artifact_id`` at initiate (state
  ``pending``) and its integer ``version`` at finalize (state ``ready``). Versions count up per
  (project, name) in finalize order and are never reused, even after deletion.
* **Aliases** are per (project, name) and move: ``latest`` always points at the newest ready
  version; any other alias moves to the version that last asked for it.
* **Retention** (``keep_last`` N, applied at finalize) keeps the N newest ready versions of
  (project, name, producing run); older ones are deleted unless some alias points at them.
  Checkpoints without a hint keep :data:`CHECKPOINT_KEEP_LAST_DEFAULT`.
* A blob is **referenced** while any pending or ready version lists it; deleting or expiring
  a version returns the sha256s nobody references any more, for the caller to delete.
* A project **holds** a blob once it proved it has the bytes: a verified upload of them on its
  behalf (content stored before holders were recorded is held by nobody). Only held content is
  deduplicated: a sha256 alone never grants another project's bytes. Holders of a deleted blob
  are forgotten with it.
* One garbage-collection sweep runs at a time across the collectors of a database
  (:meth:`ArtifactStore.sweep_lock`).
* Failures that a handler must answer with 409/404 raise ``StoreConflict``/``StoreNotFound``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

CHECKPOINT_KEEP_LAST_DEFAULT = 5  # README: checkpoints keep the last 5 unless told otherwise
LATEST = "latest"


@dataclass(frozen=True)
class ArtifactFile:
    path: str
    size_bytes: int
    sha256: str
    content_type: str | None = None


@dataclass(frozen=True)
class NewArtifactVersion:
    """What initiate records. ``idempotency_key`` makes a repeated initiate reuse the row."""

    artifact_id: str
    upload_id: str
    project_id: str
    run_id: str
    name: str
    artifact_type: str | None
    aliases: tuple[str, ...]
    metadata: dict[str, Any]
    keep_last: int | None
    files: tuple[ArtifactFile, ...]
    created_ms: int
    expires_ms: int
    idempotency_key: str | None = None
    deduplicated_bytes: int = 0  # bytes of files already stored when the upload began


@dataclass(frozen=True)
class ArtifactVersion:
    artifact_id: str
    upload_id: str
    project_id: str
    run_id: str
    name: str
    artifact_type: str | None
    state: str  # pending | ready | deleted | expired
    version: int | None
    requested_aliases: tuple[str, ...]
    aliases: tuple[str, ...]  # aliases that point at this version now
    metadata: dict[str, Any]
    keep_last: int | None
    created_ms: int
    finalized_ms: int | None
    expires_ms: int
    files: tuple[ArtifactFile, ...] = ()
    deduplicated_bytes: int = 0

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    @property
    def content_bytes(self) -> int:
        """Bytes of distinct content (a sha256 listed twice counts once)."""
        return sum({f.sha256: f.size_bytes for f in self.files}.values())


@dataclass(frozen=True)
class FinalizeOutcome:
    version: ArtifactVersion
    already_final: bool  # a repeated finalize: nothing changed
    deleted_versions: tuple[int, ...] = ()
    orphaned_blobs: tuple[str, ...] = ()  # sha256s no longer referenced by anything


@dataclass(frozen=True)
class ArtifactUse:
    """Lineage: ``run_id`` consumed ``artifact_id`` (resolved from ``ref``)."""

    run_id: str
    artifact_id: str
    name: str
    version: int | None
    ref: str
    first_used_ms: int
    last_used_ms: int
    use_count: int


@dataclass(frozen=True)
class MediaItem:
    project_id: str
    run_id: str
    media_key: str
    media_type: str  # image | table
    step: int
    timestamp_ms: int
    artifact_id: str
    artifact_version: int
    artifact_path: str
    artifact_sha256: str
    caption: str | None = None
    width: int | None = None
    height: int | None = None
    table_rows: int | None = None
    table_columns: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    item_id: int | None = None  # assigned by the store


@dataclass(frozen=True)
class MediaQuery:
    project_id: str
    run_id: str
    media_key: str | None = None
    min_step: int | None = None
    max_step: int | None = None
    after_id: int = 0  # cursor: items with a larger id
    limit: int = 100


class ArtifactStore(Protocol):
    """Artifact metadata; the bytes live in a
    :class:`~rundial_collector.artifacts.blobstore.BlobStore`."""

    async def begin_artifact_upload(self, new: NewArtifactVersion) -> ArtifactVersion:
        """Record a pending version, or return the one with the same idempotency key."""
        ...

    async def get_artifact_version(self, artifact_id: str) -> ArtifactVersion | None: ...

    async def finalize_artifact_version(self, artifact_id: str, now_ms: int) -> FinalizeOutcome:
        """Publish a pending version: number it, move aliases, apply retention (idempotent)."""
        ...

    async def resolve_artifact(self, project_id: str, name: str, alias: str | None,
                               version: int | None) -> ArtifactVersion | None:
        """The ready version named by an alias or a version number (None: not found)."""
        ...

    async def record_artifact_use(self, use: ArtifactUse, project_id: str) -> None: ...

    async def list_artifact_versions(self, project_id: str, name: str,
                                     include_deleted: bool) -> list[ArtifactVersion]: ...

    async def artifact_lineage(self, project_id: str, run_id: str
                               ) -> tuple[list[ArtifactUse], list[ArtifactVersion]]:
        """(what ``run_id`` used, what it produced)."""
        ...

    async def artifact_consumers(self, artifact_id: str) -> list[ArtifactUse]: ...

    async def unreferenced_blobs(self, sha256s: Sequence[str]) -> list[str]:
        """The subset of ``sha256s`` that no pending or ready version lists."""
        ...

    async def expire_artifact_uploads(self, now_ms: int) -> list[str]:
        """Expire pending versions past their deadline; return their now-orphaned blobs."""
        ...

    async def held_blobs(self, project_id: str, sha256s: Sequence[str]) -> dict[str, int]:
        """Of ``sha256s``, those ``project_id`` holds, with their size in bytes."""
        ...

    async def add_blob_holder(self, project_id: str, sha256: str, size_bytes: int) -> None:
        """Record that ``project_id`` uploaded the verified content ``sha256`` (idempotent)."""
        ...

    async def forget_blob_holders(self, sha256: str) -> None:
        """The blob ``sha256`` was deleted: nobody holds it any more."""
        ...

    async def run_project_id(self, run_id: str) -> str | None:
        """The project of a known run, None for a run the collector has not seen."""
        ...

    async def add_media_items(self, items: Sequence[MediaItem]) -> int:
        """Store media manifest items (a repeat of the same item is ignored); count stored."""
        ...

    async def query_media(self, query: MediaQuery) -> list[MediaItem]: ...

    def sweep_lock(self) -> AbstractAsyncContextManager[bool]:
        """Enter before a garbage-collection sweep: yields True when this collector may sweep
        now, False while another collector of the same database sweeps (skip this round).
        Never waits. SQLite: always True (one process owns the database file)."""
        ...
