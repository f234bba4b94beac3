"""Builders of artifact store inputs for the store contract tests (no backend specifics)."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from rundial_collector.store.artifacts_base import ArtifactFile, MediaItem, NewArtifactVersion

PROJECT = "proj-a"
OTHER_PROJECT = "proj-b"
NOW_MS = 1_700_000_000_000
_ids = itertools.count(1)


def sha(text: str) -> str:
    """A valid-looking sha256 derived from ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


def new_version(name: str = "model", *, project_id: str = PROJECT, run_id: str = "run-1",
                files: tuple[ArtifactFile, ...] | None = None, **kwargs: Any
                ) -> NewArtifactVersion:
    """A pending version to begin; ``kwargs`` override any other field."""
    n = next(_ids)
    fields: dict[str, Any] = {
        "artifact_id": f"art-{n}", "upload_id": f"up-{n}", "project_id": project_id,
        "run_id": run_id, "name": name, "artifact_type": None, "aliases": (),
        "metadata": {"n": n}, "keep_last": None,
        "files": files if files is not None else (
            ArtifactFile("weights.bin", 100 + n, sha(f"w{n}"), "application/octet-stream"),),
        "created_ms": NOW_MS + n, "expires_ms": NOW_MS + 86_400_000}
    fields.update(kwargs)
    return NewArtifactVersion(**fields)


def media(run_id: str, key: str, step: int, path: str = "img.png", **kwargs: Any) -> MediaItem:
    """One image media item of ``run_id`` in :data:`PROJECT`."""
    fields: dict[str, Any] = {
        "project_id": PROJECT, "run_id": run_id, "media_key": key, "media_type": "image",
        "step": step, "timestamp_ms": NOW_MS + step, "artifact_id": "art-media",
        "artifact_version": 1, "artifact_path": path, "artifact_sha256": sha(f"{key}{step}"),
        "width": 4, "height": 3, "metadata": {"step": step}}
    fields.update(kwargs)
    return MediaItem(**fields)
