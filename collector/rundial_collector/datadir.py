"""Private permissions for the collector's data directory (docs/collector.md "Data directory").

The data directory holds API-key hashes, every stored point and the artifact signing secret, so
it is the owner's alone: the directory and the blob directories are ``0700``, the SQLite file
(and with it its ``-wal``/``-shm`` files, which SQLite creates with the database's mode), the
generated admin key and the signing secret ``0600``.

:func:`prepare_data_dir` runs before the store opens: it creates what is missing with those
modes and **tightens** what already exists with looser ones, logging one warning per path it
changed (a directory made by an older collector was ``0755``, its database ``0644``). A path
it may not change (owned by another user) is logged and left alone; the store then fails or
works as the operating system allows.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("rundial.collector")

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
PRIVATE_FILES = ("admin_api_key", "admin_password", "artifact-signing.key")
PRIVATE_DIRS = ("blobs", "blobs/sha256", "blobs/tmp", "blobs/staging")


def prepare_data_dir(data_dir: Path, db_path: Path) -> None:
    """Create ``data_dir`` (0700) and ``db_path`` (0600) when missing; tighten existing paths."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(data_dir, DIR_MODE)
    for name in PRIVATE_DIRS:
        tighten(data_dir / name, DIR_MODE)
    if not db_path.exists():
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for path in [db_path, *(db_path.with_name(db_path.name + s) for s in SQLITE_SIDE_FILES),
                 *(data_dir / name for name in PRIVATE_FILES)]:
        tighten(path, FILE_MODE)


def tighten(path: Path, mode: int) -> None:
    """Drop every permission bit of ``path`` outside ``mode`` (no-op when absent or private)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode == 0:
        return
    try:
        os.chmod(path, current & mode)
    except OSError as exc:
        log.warning("%s is mode %o and could not be made private: %s", path, current, exc)
        return
    log.warning("tightened %s from mode %o to %o (the data directory is private)", path,
                current, current & mode)
