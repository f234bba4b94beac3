"""The blob store interface every backend implements (a local directory now), and its errors.

Contract shared by every backend:

* Blobs are addressed by sha256 only; no user-supplied name or path ever reaches the storage.
* Bodies arrive as async chunk iterators (:data:`Chunks`) and are streamed while hashing, with
  bounded memory per stream. Sending more than announced raises :class:`BlobTooLarge` at once
  (nothing kept); content whose size or sha256 differs from what was announced raises
  :class:`BlobMismatch` and is discarded.
* A blob is published only after its full sha256 was verified, so dedup by hash is safe.
* Staged multipart uploads are keyed by (sha256, part size), so any later upload of the same
  content, by any process, resumes from the parts already received. Completing one that still
  misses parts raises :class:`BlobIncomplete`.

The HTTP layer maps these errors to 413 (:class:`BlobTooLarge`) and 409 (the others); the
local implementation is :class:`rundial_collector.blobstore.LocalBlobStore`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol


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


Chunks = AsyncIterator[bytes]


class BlobStore(Protocol):
    """What the artifact routes need from a blob backend (local directory now)."""

    def start(self) -> None: ...

    def close(self) -> None: ...

    def exists(self, sha256: str) -> bool: ...

    def local_path(self, sha256: str) -> Path | None: ...

    async def put(self, sha256: str, size: int, chunks: Chunks) -> None: ...

    async def put_part(self, sha256: str, size: int, part_size: int, number: int,
                       chunks: Chunks) -> str: ...

    def missing_parts(self, sha256: str, size: int, part_size: int) -> list[int]: ...

    def part_etag(self, sha256: str, part_size: int, number: int) -> str | None: ...

    async def complete(self, sha256: str, size: int, part_size: int) -> None: ...

    async def delete(self, sha256: str) -> int: ...

    def iter_blobs(self) -> Iterator[tuple[str, float]]: ...

    async def sweep_staging(self, older_than_s: float) -> int: ...
