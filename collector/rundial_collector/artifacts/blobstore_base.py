"""The blob store interface every backend implements (a local directory now), and its errors.

Contract shared by every backend:

* Blobs are addressed by sha256 only; no user-supplied name or path ever reaches the storage.
* Bodies arrive as async chunk iterators (:data:`Chunks`) and are streamed while hashing, with
  bounded memory per stream. Sending more than announced raises :class:`BlobTooLarge` at once
  (nothing kept); content whose size or sha256 differs from what was announced raises
  :class:`BlobMismatch` and is discarded.
* A blob is published only after its full sha256 was verified, so dedup by hash is safe.
* Staged multipart uploads are keyed by :class:`StageKey`: the uploader's scope (its project),
  the sha256, the size and the part size. A later upload of the same content *by the same
  project* resumes from the parts already received; another project never sees or completes
  them. Completing one that still misses parts raises :class:`BlobIncomplete`.
* Completing always hashes the staged bytes, even when the blob is already published: a staged
  upload proves that its sender had the content. A verified copy replaces a published one.
* Writes of one part never overlap, and no part is written while its upload is completed:
  either request gets :class:`BlobBusy` instead. With several collectors on one directory, no
  part is written anywhere while one completes; two collectors may receive the same part at
  once, but completion hashes the bytes it publishes (:mod:`.blobshare`).

The HTTP layer maps these errors to 413 (:class:`BlobTooLarge`) and 409 (the others); the
local implementation is :class:`rundial_collector.artifacts.blobstore.LocalBlobStore`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_STEM = re.compile(r"^([0-9a-f]{16})\.([0-9a-f]{64})\.([0-9]{1,15})\.([0-9]{1,15})$")


class BlobError(Exception):
    """Base class of the errors a blob operation reports to the HTTP layer."""


class BlobTooLarge(BlobError):
    """The body is longer than the announced size (HTTP 413)."""


class BlobMismatch(BlobError):
    """The received bytes do not match the announced size or sha256 (HTTP 409)."""


class BlobIncomplete(BlobError):
    """A multipart blob still misses parts (HTTP 409); ``missing`` lists their numbers."""

    def __init__(self, missing: list[int]) -> None:
        super().__init__(f"parts {missing[:10]} were never uploaded")
        self.missing = missing


class BlobBusy(BlobError):
    """The same part is being received by another request, or the upload is being completed
    while a part is still arriving (HTTP 409; retry once the other request is done)."""


@dataclass(frozen=True)
class StageKey:
    """One staged multipart upload: ``sha256`` content of ``size`` bytes in ``part_size`` parts,
    sent on behalf of ``scope`` (a 16-hex tag of the project, see :meth:`of`)."""

    scope: str
    sha256: str
    size: int
    part_size: int

    @classmethod
    def of(cls, owner: str, sha256: str, size: int, part_size: int) -> StageKey:
        """The key of ``owner``'s (a project id's) upload; the owner text never reaches a path."""
        return cls(hashlib.sha256(owner.encode()).hexdigest()[:16], sha256, size, part_size)

    @property
    def stem(self) -> str:
        """The file-name stem of the staged upload: ``<scope>.<sha256>.<size>.<part size>``."""
        return f"{self.scope}.{self.sha256}.{self.size}.{self.part_size}"

    @classmethod
    def from_stem(cls, stem: str) -> StageKey | None:
        """The key named by ``stem``, or None for a name this version did not write."""
        match = _STEM.match(stem)
        if match is None:
            return None
        scope, sha256, size, part_size = match.groups()
        return cls(scope, sha256, int(size), int(part_size))


Chunks = AsyncIterator[bytes]


class BlobStore(Protocol):
    """What the artifact routes need from a blob backend (local directory now)."""

    def start(self) -> None: ...

    def close(self) -> None: ...

    def exists(self, sha256: str) -> bool: ...

    def local_path(self, sha256: str) -> Path | None: ...

    async def put(self, sha256: str, size: int, chunks: Chunks) -> None: ...

    async def put_part(self, key: StageKey, number: int, chunks: Chunks) -> str: ...

    def missing_parts(self, key: StageKey) -> list[int]: ...

    def part_etag(self, key: StageKey, number: int) -> str | None: ...

    async def complete(self, key: StageKey) -> None: ...

    async def delete(self, sha256: str) -> int: ...

    def iter_blobs(self) -> Iterator[tuple[str, float]]: ...

    async def sweep_staging(self, older_than_s: float) -> int: ...
