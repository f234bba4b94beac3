"""What ``run.use_artifact(ref)`` returns: the resolved version, and ``download(dir)``.

``download`` fetches every file through ``POST /api/v1/artifacts/download`` and the signed URL
it answers, streaming into a temporary file next to the destination while hashing; the file is
renamed into place only when its sha256 and size match the manifest, otherwise it is deleted
and :class:`ArtifactIntegrityError` is raised. A file already present with the right content is
not downloaded again. Paths from the server are checked like the collector checks them
(relative, no ``..``/``.``/empty segments, no backslash or NUL), and the destination must stay
inside ``dir``: a hostile server cannot write elsewhere. There is no cache directory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rundial._artifacts.http import BlobHttp, ControlClient
from rundial._artifacts.journal import sha256_file


class ArtifactIntegrityError(RuntimeError):
    """A downloaded file did not match its manifest sha256/size (nothing was kept)."""


class ArtifactHandle:
    """A resolved artifact version (read-only) that can download its files."""

    def __init__(self, artifact: Mapping[str, Any], project: Mapping[str, str],
                 control: ControlClient, blob_http: BlobHttp) -> None:
        self.artifact = dict(artifact)
        self._project = dict(project)
        self._control = control
        self._blob_http = blob_http

    @property
    def artifact_id(self) -> str:
        return str(self.artifact["artifactId"])

    @property
    def name(self) -> str:
        return str(self.artifact.get("name", ""))

    @property
    def version(self) -> int | None:
        version = self.artifact.get("version")
        return version if isinstance(version, int) else None

    @property
    def run_id(self) -> str:
        """The run that produced this version."""
        return str(self.artifact.get("runId", ""))

    @property
    def aliases(self) -> list[str]:
        return list(self.artifact.get("aliases") or [])

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.artifact.get("metadata") or {})

    @property
    def files(self) -> list[dict[str, Any]]:
        return [dict(f) for f in self.artifact.get("files") or []]

    def __repr__(self) -> str:
        return f"ArtifactHandle({self.name}:v{self.version}, {len(self.files)} files)"

    def download(self, directory: str | os.PathLike[str]) -> Path:
        """Download every file under ``directory``; return it. See the module docstring.

        Raises ``ValueError`` for an unsafe path, :class:`ArtifactIntegrityError` on a hash or
        size mismatch, ``ArtifactHTTPError``/``TransportError`` when the collector fails.
        """
        root = Path(directory).resolve()
        root.mkdir(parents=True, exist_ok=True)
        for entry in self.files:
            self._download_one(root, entry)
        return root

    def _download_one(self, root: Path, entry: Mapping[str, Any]) -> None:
        rel, sha256, size = str(entry["path"]), str(entry["sha256"]), int(entry["sizeBytes"])
        target = safe_destination(root, rel)
        if target.is_file() and target.stat().st_size == size and sha256_file(target) == sha256:
            return
        answer = self._control.post("/api/v1/artifacts/download", {
            **self._project, "runId": self.run_id, "artifactId": self.artifact_id, "path": rel})
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with open(tmp, "w+b") as out:
                got_size, got_sha = self._blob_http.get_to(str(answer["url"]), out)
            if (got_size, got_sha) != (size, sha256):
                raise ArtifactIntegrityError(
                    f"{rel}: got {got_size} bytes with sha256 {got_sha}, expected {size} "
                    f"bytes with sha256 {sha256}")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def safe_destination(root: Path, rel: str) -> Path:
    """``root / rel`` for a safe relative POSIX path that stays inside ``root``; else ValueError."""
    segments = rel.split("/")
    if not rel or rel.startswith("/") or any(s in ("", ".", "..") for s in segments) \
            or "\\" in rel or "\x00" in rel:
        raise ValueError(f"refusing unsafe artifact path {rel!r}")
    target = root.joinpath(*segments)
    if not target.resolve().is_relative_to(root):
        raise ValueError(f"artifact path {rel!r} leaves the destination directory")
    return target
