"""``run["path"].track_files(location)``: Neptune's artifact field, as a hash of local files.

Neptune records, for each file under ``location`` (a file, or a directory walked recursively),
its path relative to ``location`` (under ``destination`` when given), the SHA-1 of its bytes,
its size and its type ``Local``, and keeps the artifact's hash: a SHA-256 over those entries in
path order. The shim computes that hash — the variant without file metadata, which Neptune
servers with the ``artifacts_hash_exclude_metadata`` feature compute, so the same files give
the same hash wherever they are — and stores it as a text config value at the field's path
(:meth:`rundial.compat.neptune._run.Run._track_files`). Files are read on the caller's thread
(Neptune hashes them in its background thread). Only local paths (``file://`` or plain) are
supported: other schemes (``s3://``) raise ``NotImplementedError``; a wildcard is a
``ValueError``, as is a location with no files (Neptune: "Uploading an empty Artifact").
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

from rundial.compat import _keyed

__all__ = ["TrackedFile", "artifact_hash", "tracked_files"]

_DOC = "docs/neptune-compat.md"
_LOCAL = "Local"
_READ_BYTES = 1 << 16


class TrackedFile(NamedTuple):
    """One file of an artifact field: Neptune's ``file_path``, ``file_hash`` and ``size``."""

    file_path: str
    file_hash: str
    size_bytes: int


def tracked_files(location: str, destination: str | None = None) -> list[TrackedFile]:
    """The files at ``location`` as Neptune lists them (see the module docstring)."""
    if not isinstance(location, str):
        raise TypeError(f"track_files takes a path (str), not {type(location).__name__}")
    if urlparse(location).scheme not in ("", "file"):
        raise _keyed.unsupported("neptune", f"track_files({location!r}) of a remote location",
                                 _DOC)
    path = location.removeprefix("file://")
    if "*" in path:
        raise ValueError(f"track_files: wildcards are not supported ({location!r})")
    source = Path(path).expanduser()
    candidates = sorted(source.rglob("*")) if source.is_dir() else [source]
    out = []
    for file in candidates:
        if not file.is_file():
            continue
        relative = file.relative_to(source).as_posix() if source.is_dir() else file.name
        if destination is not None:
            relative = (Path(destination) / relative).as_posix()
        out.append(TrackedFile(relative, _sha1(file), file.stat().st_size))
    if not out:
        raise ValueError(f"track_files: no files at {location!r}")
    return out


def artifact_hash(files: list[TrackedFile]) -> str:
    """Neptune's artifact hash (without metadata) of ``files``."""
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.file_path):
        for part in (_sized(file.file_path), file.file_hash.encode(),
                     file.size_bytes.to_bytes(8, "big"), _sized(_LOCAL)):
            digest.update(b"#")
            digest.update(part)
    return digest.hexdigest()


def _sized(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(text).to_bytes(4, "big") + data


def _sha1(file: Path) -> str:
    digest = hashlib.sha1()
    with file.open("rb") as source:
        while block := source.read(_READ_BYTES):
            digest.update(block)
    return digest.hexdigest()
