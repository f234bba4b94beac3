"""Read models the web UI's artifacts and media tabs need (docs/protocol.md §5.7, §5.8).

Every read is bounded by the caller's ``limit``: no method returns an unbounded list, so an
artifact of 10,000 files or a run with thousands of media steps is read page by page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rundial_collector.store.artifacts_base import ArtifactFile, ArtifactUse, ArtifactVersion


@dataclass(frozen=True)
class VersionSummary:
    """One artifact version without its file list: counts instead, plus its first consumers."""

    version: ArtifactVersion  # ``files`` is empty: page them with ``artifact_file_page``
    file_count: int
    size_bytes: int
    consumers: tuple[ArtifactUse, ...]  # the first ``consumer_limit`` runs that used it
    consumer_count: int


@dataclass(frozen=True)
class RunAssets:
    """What a run produced and used, each list cut at the caller's limit (``*_more`` set)."""

    produced: tuple[VersionSummary, ...]
    used: tuple[tuple[ArtifactUse, VersionSummary], ...]
    produced_more: bool
    used_more: bool


@dataclass(frozen=True)
class RunLabel:
    run_id: str
    name: str | None
    status: str


@dataclass(frozen=True)
class FilePage:
    """Files of a version in manifest order, each with its ordinal (the paging cursor)."""

    files: tuple[tuple[int, ArtifactFile], ...]
    total: int


@dataclass(frozen=True)
class MediaKeySummary:
    media_key: str
    media_type: str
    item_count: int
    step_count: int
    min_step: int
    max_step: int


class AssetReadStore(Protocol):
    """Bounded reads of a run's artifacts and media."""

    async def run_assets(self, project_id: str, run_id: str, limit: int,
                         consumer_limit: int, exclude_types: Sequence[str] = ()) -> RunAssets:
        """Versions ``run_id`` produced (ready or deleted) and used, at most ``limit`` each,
        leaving out versions whose type is in ``exclude_types``."""
        ...

    async def artifact_summary(self, artifact_id: str) -> VersionSummary | None:
        """One version without files (and without consumers), None when unknown."""
        ...

    async def run_labels(self, run_ids: Sequence[str]) -> dict[str, RunLabel]:
        """Name and status of the known runs among ``run_ids`` (unknown ids are left out)."""
        ...

    async def artifact_file_page(self, artifact_id: str, after_ordinal: int,
                                 limit: int) -> FilePage:
        """Up to ``limit`` files with an ordinal above ``after_ordinal``, and the total."""
        ...

    async def artifact_file(self, artifact_id: str, path: str) -> ArtifactFile | None:
        """The file at ``path`` of a version, None when the version has no such file."""
        ...

    async def media_keys(self, project_id: str, run_id: str, after_key: str,
                         limit: int) -> list[MediaKeySummary]:
        """The run's media keys sorted, those after ``after_key``, at most ``limit``."""
        ...

    async def media_steps(self, project_id: str, run_id: str, media_key: str,
                          after_step: int, limit: int) -> list[int]:
        """Distinct steps of one key above ``after_step``, ascending, at most ``limit``."""
        ...
