"""What keeps multipart staging safe when several collector processes share one blob directory.

:class:`~rundial_collector.artifacts.blobstage.StagedUploads` guards the staged uploads of one
process. Across processes (several collectors on one shared ``<data_dir>``) two more rules hold:

* **Writes and completion exclude each other** through an ``flock`` on the upload's parts
  directory (``staging/<stem>.parts``): a part write holds it shared, completing (hash, publish)
  and the staging sweep hold it exclusive. Nobody waits: a conflicting request gets
  :class:`BlobBusy` (409, retried by the client). So no process can write into a staged file
  that another is hashing or has just published. ``flock`` is honoured across the clients of
  NFSv4 and of cluster filesystems on Linux; the lock dies with its process.
* **A running prefix hash is trusted only if no part it covers changed.** Each part's ETag
  (its sha256) is read before and after the part is fed to the prefix; the prefix also keeps a
  fingerprint (a sha256) of those ETags. At completion the fingerprint is computed again from
  the ETag files: a part re-sent with other bytes through another process changed its ETag,
  so the prefix is dropped and the whole file is hashed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from rundial_collector.artifacts.blobstore_base import BlobBusy, BlobError


@contextlib.contextmanager
def stage_lock(parts: Path, *, exclusive: bool,
               missing: Callable[[], BlobError]) -> Iterator[None]:
    """Hold the cross-process lock of the staged upload whose parts directory is ``parts``:
    shared for a part write, exclusive to complete or sweep it. Never waits: raises
    :class:`BlobBusy` when another holder conflicts, and ``missing()`` when ``parts`` does not
    exist (no part received yet, or completed and removed meanwhile)."""
    try:
        fd = os.open(parts, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise missing() from None
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BlobBusy("the upload is being finalized, or parts of it are still being "
                           "uploaded (possibly through another collector); retry when that "
                           "request is done") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def read_etag(parts: Path, number: int) -> str | None:
    """The recorded ETag of part ``number``, None when it is not (or no longer) there."""
    try:
        return (parts / str(number)).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None


def etag_fingerprint(parts: Path, count: int) -> str | None:
    """sha256 over the ETags of parts 1..``count`` as recorded now; None when one is missing.
    Equal to the prefix's fingerprint iff none of those parts changed since it was hashed."""
    hasher = hashlib.sha256()
    for number in range(1, count + 1):
        etag = read_etag(parts, number)
        if etag is None:
            return None
        hasher.update(etag.encode())
    return hasher.hexdigest()
