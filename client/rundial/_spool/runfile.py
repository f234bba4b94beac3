"""``<spool>/<run_id>/run.json``: what a later process needs to register and finish a spooled run.

Holds the endpoint, the target (``projectId`` or ``workspace`` + ``project``), ``runId``, the
registration fields (kind, name, group, job type, tags, config), whether the run was registered,
whether registration was refused for good (``blocked``; ``refused`` when under the resume rule,
see ``send_as``), config/summary changes not acknowledged yet (``pendingConfig``, a merged
patch replayed before the final status) and a final status still to be sent.
It never holds the API key. Writes are atomic (tmp file + ``os.replace``); an unreadable file
reads as None and the run's batches are left alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from rundial._spool.layout import RUN_FILE

RUN_FILE_VERSION = 1


def run_file_path(run_dir: Path) -> Path:
    """The run file inside a run directory."""
    return run_dir / RUN_FILE


def read_run_file(run_dir: Path) -> dict[str, Any] | None:
    """The parsed run file, or None when it is missing or unreadable."""
    try:
        doc = orjson.loads(run_file_path(run_dir).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def write_run_file(run_dir: Path, doc: dict[str, Any]) -> None:
    """Atomically (re)write the run file; raises OSError on disk failures."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{RUN_FILE}.{os.getpid()}.tmp"
    tmp.write_bytes(orjson.dumps({**doc, "version": RUN_FILE_VERSION}))
    os.replace(tmp, run_file_path(run_dir))


def update_run_file(run_dir: Path, **changes: Any) -> None:
    """Merge ``changes`` into an existing run file; does nothing when there is none."""
    doc = read_run_file(run_dir)
    if doc is not None:
        write_run_file(run_dir, {**doc, **changes})


def update_run_file_quietly(run_dir: Path, **changes: Any) -> None:
    """:func:`update_run_file`, ignoring disk errors (the change is then simply not recorded)."""
    try:
        update_run_file(run_dir, **changes)
    except OSError:
        pass


def remove_run_dir_if_done(run_dir: Path) -> bool:
    """Delete the run file and directory when no writer directory is left. Race-safe enough:
    if another writer appeared meanwhile, the run file is written back."""
    try:
        names = [n for n in os.listdir(run_dir) if not n.startswith(".")]
    except OSError:
        return False
    if names not in ([], [RUN_FILE]):
        return False
    doc = read_run_file(run_dir)
    for name in os.listdir(run_dir):
        if name.startswith(".") and name.endswith(".tmp"):
            _unlink(run_dir / name)
    _unlink(run_file_path(run_dir))
    try:
        os.rmdir(run_dir)
        return True
    except OSError:
        if doc is not None:
            write_run_file(run_dir, doc)
        return False


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
