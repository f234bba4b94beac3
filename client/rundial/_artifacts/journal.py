"""Artifact jobs: the job model, manifest building and the crash-safe journal.

**Manifest.** :func:`build_manifest` hashes a file, or every regular file under a directory
(sorted, POSIX paths relative to it), in 1 MiB reads; it records each file's size and mtime so
a file changed after hashing is noticed. Nothing is copied.

**Journal.** Every path-based job is a JSON file ``<spool>/artifacts/journal/<job_id>.json``
written (tmp + ``os.replace``) before ``log_artifact`` returns, and deleted once the version
is finalized or the server rejected it for good (then it moves to ``../rejected/``). Each
uploader holds an exclusive ``flock`` on ``<spool>/artifacts/owners/<owner>/.lock`` while it
lives; a job whose owner lock nobody holds belonged to a process that died, and
:meth:`Journal.adopt` takes it over. The job id doubles as the server's idempotency key, so a
job finalized just before a crash is not published twice when it is replayed. API keys are
never written to disk.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rundial._endpoint import same_endpoint
from rundial._spool.layout import (ARTIFACT_JOBS_DIR, ARTIFACT_OWNERS_DIR, ARTIFACT_REJECTED_DIR,
                                   ARTIFACTS_DIR)
from rundial._spool.writer_queue import try_lock
from rundial._values import has_utf8_form, with_utf8_form

HASH_CHUNK_BYTES = 1024 * 1024
NO_OWNER = "none"


@dataclass(frozen=True)
class ManifestFile:
    """One file of an artifact: wire fields plus where its bytes come from."""

    path: str
    size: int
    sha256: str
    content_type: str | None
    source: Path | None = None  # a file on disk, streamed from its place
    data: bytes | None = None  # generated content (media), kept in memory
    mtime_ns: int = 0

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sizeBytes": self.size, "sha256": self.sha256}
        if self.content_type:
            out["contentType"] = self.content_type
        return out

    def changed(self) -> bool:
        """True when the source file no longer has the size/mtime it had when hashed."""
        if self.source is None:
            return False
        try:
            st = self.source.stat()
        except OSError:
            return True
        return (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns)


def sha256_file(path: Path) -> str:
    """The sha256 hex of a file, read in 1 MiB chunks (hashlib releases the GIL)."""
    hasher = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()


def manifest_entry(source: Path, path: str) -> ManifestFile:
    """Hash one file on disk into a manifest entry named ``path``."""
    st = source.stat()
    return ManifestFile(path, st.st_size, sha256_file(source),
                        mimetypes.guess_type(source.name)[0], source, mtime_ns=st.st_mtime_ns)


def bytes_entry(path: str, data: bytes, content_type: str | None) -> ManifestFile:
    return ManifestFile(path, len(data), hashlib.sha256(data).hexdigest(), content_type,
                        data=data)


def build_manifest(source: Path, skipped: list[str] | None = None) -> list[ManifestFile]:
    """Entries of a file (named by its base name) or of every file under a directory.

    A file under the directory whose relative path has no UTF-8 form (a name with a lone
    surrogate: no request could carry it) is left out and its path, with ``?`` for each
    surrogate, appended to ``skipped``. Raises ``FileNotFoundError`` when ``source`` is gone
    and ``ValueError`` for a directory with no file left.
    """
    if source.is_file():
        return [manifest_entry(source, source.name)]
    if not source.is_dir():
        raise FileNotFoundError(f"artifact path does not exist: {source}")
    entries: list[ManifestFile] = []
    for path in _walk(source):
        relative = path.relative_to(source).as_posix()
        if has_utf8_form(relative):
            entries.append(manifest_entry(path, relative))
        elif skipped is not None:
            skipped.append(with_utf8_form(relative))
    if not entries:
        raise ValueError(f"artifact directory is empty: {source}")
    return entries


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file():
                yield path


@dataclass
class ArtifactJob:
    """One artifact to upload. ``media`` jobs (generated content) are never journaled."""

    project: dict[str, str]  # {"projectId": ...} or {"workspace": ..., "project": ...}
    run_id: str
    name: str
    endpoint: str
    source: str | None = None  # absolute path of the file or directory
    artifact_type: str | None = None
    aliases: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    retention: dict[str, Any] | None = None
    job_id: str = field(default_factory=lambda: "job_" + uuid.uuid4().hex)
    created_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    owner: str = NO_OWNER
    media: Any = None  # _media.MediaRequest, in memory only
    failures: int = 0  # conflicts (409 / content changed) so far
    not_before: float = 0.0  # monotonic time of the next attempt
    backoff: Any = None  # _http.retry.Backoff once the job failed

    _PERSISTED = ("project", "run_id", "name", "endpoint", "source", "artifact_type", "aliases",
                  "metadata", "retention", "job_id", "created_ms", "owner")

    def to_json(self) -> bytes:
        data = asdict(self)
        return orjson.dumps({k: data[k] for k in self._PERSISTED})

    @classmethod
    def from_json(cls, raw: bytes) -> ArtifactJob:
        """Parse a journal file; ``ValueError`` when it is not a job."""
        try:
            doc = orjson.loads(raw)
            return cls(**{k: doc[k] for k in cls._PERSISTED})
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"not an artifact job: {exc}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class Journal:
    """Journal of path-based jobs under ``<spool>/artifacts`` (see the module docstring)."""

    def __init__(self, spool_dir: Path) -> None:
        self.root = spool_dir / ARTIFACTS_DIR
        self.jobs_dir = self.root / ARTIFACT_JOBS_DIR
        self.owners_dir = self.root / ARTIFACT_OWNERS_DIR
        self.owner = "own_" + uuid.uuid4().hex[:16]
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Create the directories and take this owner's lock. Raises ``OSError``."""
        for folder in (self.jobs_dir, self.owners_dir, self.root / ARTIFACT_REJECTED_DIR):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_owner(self.owners_dir, self.owner)
        if self._lock_fd is None:
            raise OSError(f"cannot lock {self.owners_dir / self.owner}")

    def add(self, job: ArtifactJob) -> None:
        job.owner = self.owner
        _write_atomic(self.jobs_dir / f"{job.job_id}.json", job.to_json())

    def remove(self, job: ArtifactJob) -> None:
        (self.jobs_dir / f"{job.job_id}.json").unlink(missing_ok=True)

    def reject(self, job: ArtifactJob, reason: str) -> None:
        """Move a job the server refused for good to ``rejected/`` with the reason."""
        body = orjson.loads(job.to_json()) | {"rejectedReason": reason}
        _write_atomic(self.root / ARTIFACT_REJECTED_DIR / f"{job.job_id}.json", orjson.dumps(body))
        self.remove(job)

    def release(self, job: ArtifactJob) -> None:
        """Hand a job we cannot do (e.g. our key may not write its project) to anyone else."""
        job.owner = NO_OWNER
        _write_atomic(self.jobs_dir / f"{job.job_id}.json", job.to_json())

    def adopt(self, endpoint: str, skip: set[str] | frozenset[str] = frozenset()
              ) -> list[ArtifactJob]:
        """Take over the jobs for ``endpoint`` whose owner died; oldest first."""
        adopted: list[ArtifactJob] = []
        held: dict[str, int | None] = {}
        try:
            for path in sorted(self.jobs_dir.glob("*.json"), key=_mtime):
                job = self._adoptable(path, endpoint, skip, held)
                if job is not None:
                    self.add(job)
                    adopted.append(job)
        finally:
            self._drop_dead_locks(held)
        return adopted

    def _adoptable(self, path: Path, endpoint: str, skip: set[str] | frozenset[str],
                   held: dict[str, int | None]) -> ArtifactJob | None:
        try:
            job = ArtifactJob.from_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:
            path.rename(self.root / ARTIFACT_REJECTED_DIR / path.name)
            return None
        if (job.owner == self.owner or job.job_id in skip
                or not same_endpoint(job.endpoint, endpoint)):
            return None
        if job.owner != NO_OWNER:
            if job.owner not in held:
                held[job.owner] = _lock_owner(self.owners_dir, job.owner)
            if held[job.owner] is None:
                return None  # its owner is alive
        return job

    def _drop_dead_locks(self, held: dict[str, int | None]) -> None:
        for owner, fd in held.items():
            if fd is not None:
                _drop_owner(self.owners_dir, owner, fd)

    def pending(self) -> int:
        return sum(1 for _ in self.jobs_dir.glob("*.json"))

    def close(self) -> None:
        """Release our owner lock: jobs still journaled become adoptable by the next process."""
        if self._lock_fd is not None:
            _drop_owner(self.owners_dir, self.owner, self._lock_fd)
            self._lock_fd = None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _lock_owner(owners_dir: Path, owner: str) -> int | None:
    """An fd holding the exclusive flock of ``owner``, or None while its process holds it."""
    folder = owners_dir / owner
    folder.mkdir(exist_ok=True)
    return try_lock(folder)


def _drop_owner(owners_dir: Path, owner: str, fd: int) -> None:
    """Delete ``owner``'s lock (we hold it) so the folder does not accumulate dead owners."""
    shutil.rmtree(owners_dir / owner, ignore_errors=True)
    os.close(fd)
