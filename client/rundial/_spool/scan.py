"""The read-only scan of a whole spool: runs, writers, batches and quarantined files.

The names it reads are those of :mod:`rundial._spool.layout`, and it lists runs and writers
through that module's :func:`~rundial._spool.layout.run_dir_names` and
:func:`~rundial._spool.layout.writer_dir_names`, the same listing the SDK's orphan scan uses.
Used by ``rundial sync``, ``rundial doctor`` and ``rundial-spool``.

Contract: :func:`scan` lists directories only (it never opens a batch); a writer is *live* when
its lock cannot be taken right now. ``.tmp`` files are reported but never treated as batches —
they are writes still in progress (or left by a crash) and may be partial. :func:`hold_writer`
takes a writer's lock for the duration of a change, so a live SDK process and a tool never
touch the same writer directory at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundial._spool.layout import (LOCK_NAME, QUARANTINE_DIRS, SUFFIX, list_names, parse_entry_name,
                                   run_dir_names, writer_dir_names)
from rundial._spool.runfile import read_run_file
from rundial._spool.writer_queue import try_lock

__all__ = ["BatchFile", "QuarantinedFile", "RunDir", "SpoolScan", "WriterDir", "hold_writer",
           "scan", "writer_is_live"]


@dataclass(frozen=True)
class BatchFile:
    """One spooled batch file; ``seq``/``batch_id`` come from its name."""

    path: Path
    run_id: str
    writer_id: str
    seq: int
    batch_id: str
    size: int
    mtime: float


@dataclass
class WriterDir:
    """One writer's directory: its batches in ``seq`` order and any in-progress tmp files."""

    path: Path
    run_id: str
    writer_id: str
    live: bool
    batches: list[BatchFile] = field(default_factory=list)
    tmp_files: list[Path] = field(default_factory=list)


@dataclass
class RunDir:
    """One run directory; ``info`` is ``run.json`` (None when missing or unreadable)."""

    path: Path
    run_id: str
    info: dict[str, Any] | None
    writers: list[WriterDir] = field(default_factory=list)

    @property
    def batches(self) -> list[BatchFile]:
        """Every batch of every writer."""
        return [b for w in self.writers for b in w.batches]


@dataclass(frozen=True)
class QuarantinedFile:
    """A file in ``rejected/`` or ``corrupt/`` with the reason the SDK recorded."""

    path: Path
    folder: str
    size: int
    mtime: float
    reason: str


@dataclass
class SpoolScan:
    """Everything under one spool root."""

    root: Path
    runs: list[RunDir] = field(default_factory=list)
    quarantined: list[QuarantinedFile] = field(default_factory=list)

    @property
    def batches(self) -> list[BatchFile]:
        """Every pending batch of every run."""
        return [b for r in self.runs for b in r.batches]


def writer_is_live(directory: Path) -> bool:
    """True when another process holds the writer's lock (its owner is still running)."""
    if not (directory / LOCK_NAME).exists():
        return False
    fd = try_lock(directory)
    if fd is None:
        return True
    os.close(fd)
    return False


@contextmanager
def hold_writer(directory: Path) -> Iterator[bool]:
    """Hold the writer's lock while the block runs; yields False (and holds nothing) if live."""
    fd = try_lock(directory)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)


def scan_writer(directory: Path, run_id: str) -> WriterDir:
    """List one writer directory's batches (sorted by seq) and tmp files."""
    writer = WriterDir(directory, run_id, directory.name, writer_is_live(directory))
    for name in list_names(directory):
        parsed = parse_entry_name(name)
        if name.endswith(".tmp"):
            writer.tmp_files.append(directory / name)
        elif parsed is not None:
            st = (directory / name).stat()
            writer.batches.append(BatchFile(directory / name, run_id, directory.name,
                                            parsed[0], parsed[1], st.st_size, st.st_mtime))
    writer.batches.sort(key=lambda b: (b.seq, b.batch_id))
    return writer


def scan_run(directory: Path) -> RunDir:
    """One run directory with its ``run.json`` and writers."""
    run = RunDir(directory, directory.name, read_run_file(directory))
    for name in writer_dir_names(directory):
        run.writers.append(scan_writer(directory / name, directory.name))
    return run


def scan_quarantine(root: Path) -> list[QuarantinedFile]:
    """Every batch file in ``rejected/`` and ``corrupt/``."""
    found = []
    for folder in QUARANTINE_DIRS:
        for name in list_names(root / folder):
            if name.endswith(SUFFIX):
                path = root / folder / name
                reason = _read_reason(path.with_name(name + ".reason"))
                st = path.stat()
                found.append(QuarantinedFile(path, folder, st.st_size, st.st_mtime, reason))
    return found


def _read_reason(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def scan(root: Path, run_id: str | None = None) -> SpoolScan:
    """The whole spool (or one run of it). A missing root is an empty spool."""
    result = SpoolScan(root)
    for name in run_dir_names(root, run_id):
        result.runs.append(scan_run(root / name))
    result.quarantined = scan_quarantine(root)
    return result
