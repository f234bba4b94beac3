"""Reclaiming staged multipart uploads nobody touched for a while (the artifact GC sweep)."""

from __future__ import annotations

import shutil
from pathlib import Path

from rundial_collector.artifacts.blobstage import StagedUploads
from rundial_collector.artifacts.blobshare import stage_lock
from rundial_collector.artifacts.blobstore_base import BlobBusy, BlobIncomplete, StageKey


def sweep_staging_dir(staging: Path, staged: StagedUploads, cutoff: float) -> int:
    """Delete the staged uploads under ``staging`` untouched since ``cutoff`` (unix seconds);
    return the bytes reclaimed (blocking: run it on an I/O thread).

    An upload whose part is being received is skipped, and no part write can begin while one is
    examined (it gets :class:`BlobBusy`, a 409). Files of an older naming (no project tag) are
    reclaimed the same way.
    """
    reclaimed = 0
    for data in staging.glob("*.data"):
        key = StageKey.from_stem(data.name[:-len(".data")])  # None: an older naming
        try:
            if key is not None:
                staged.begin_complete(key)
        except BlobBusy:
            continue
        try:
            freed = _drop_if_stale(data, cutoff)
            if freed is not None and key is not None:
                staged.forget(key)
            reclaimed += freed or 0
        finally:
            if key is not None:
                staged.end_complete(key)
    return reclaimed


def _drop_if_stale(data: Path, cutoff: float) -> int | None:
    """Delete one staged upload untouched since ``cutoff``: the bytes reclaimed, or None when it
    is kept (or already gone)."""
    parts = data.with_suffix(".parts")
    try:  # another collector sharing the directory may be writing or completing it
        with stage_lock(parts, exclusive=True, missing=lambda: BlobIncomplete([])):
            return _drop_unlocked(data, parts, cutoff)
    except BlobIncomplete:  # no parts directory: nothing to lock
        return _drop_unlocked(data, parts, cutoff)
    except BlobBusy:
        return None


def _drop_unlocked(data: Path, parts: Path, cutoff: float) -> int | None:
    try:
        size = data.stat().st_size
        stamp = max(data.stat().st_mtime, parts.stat().st_mtime if parts.exists() else 0)
    except FileNotFoundError:  # completed or discarded meanwhile
        return None
    if stamp >= cutoff:
        return None
    data.unlink(missing_ok=True)
    shutil.rmtree(parts, ignore_errors=True)
    return size
