"""The spool's on-disk layout: every name the SDK writes under a spool root, in one place.

::

    <spool>/<run_id>/run.json                        the run file (``_spool/runfile.py``)
    <spool>/<run_id>/<writer_id>/<seq:016d>-<batch_id>.json.gz   one gzip'd ingest body each
    <spool>/<run_id>/<writer_id>/.lock               flock'ed by the live writer
    <spool>/<run_id>/<writer_id>/.*.tmp              writes in progress (or left by a crash)
    <spool>/rejected/, <spool>/corrupt/              quarantine: ``<run>-<writer>-<batch file>``
                                                     plus a ``.reason`` note each
    <spool>/artifacts/{journal,owners,rejected}/     the artifact uploader's journal
    <spool>/.rundial-sync/<run_id>/<writer_id>.done  ``rundial sync --watch``'s manifests

Every other module (the SDK's writer, orphan scan and artifact journal, the CLI and
``rundial-spool``) takes these names from here. :func:`run_dir_names` and
:func:`writer_dir_names` are the one answer to "which directories are runs and writers": the
orphan scan and the read-only scan (:mod:`rundial._spool.scan`) both list through them, so they
never disagree about what to skip. Listing never raises: an unreadable directory is empty.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ARTIFACTS_DIR", "ARTIFACT_JOBS_DIR", "ARTIFACT_OWNERS_DIR", "ARTIFACT_REJECTED_DIR",
           "CORRUPT_DIR", "LOCK_NAME", "NOT_RUN_DIRS", "QUARANTINE_DIRS", "REJECTED_DIR",
           "RUN_FILE", "SUFFIX", "SYNC_DIR", "entry_name", "list_names", "parse_entry_name",
           "quarantine_name", "run_dir_names", "writer_dir_names"]

RUN_FILE = "run.json"
SUFFIX = ".json.gz"
LOCK_NAME = ".lock"
REJECTED_DIR = "rejected"
CORRUPT_DIR = "corrupt"
QUARANTINE_DIRS = (REJECTED_DIR, CORRUPT_DIR)
ARTIFACTS_DIR = "artifacts"
ARTIFACT_JOBS_DIR = "journal"  # under ARTIFACTS_DIR: one <job_id>.json per pending job
ARTIFACT_OWNERS_DIR = "owners"  # under ARTIFACTS_DIR: one lock file per live uploader
ARTIFACT_REJECTED_DIR = "rejected"  # under ARTIFACTS_DIR: jobs the collector refused
SYNC_DIR = ".rundial-sync"  # dot-named: never a run
NOT_RUN_DIRS = frozenset({*QUARANTINE_DIRS, ARTIFACTS_DIR})


def entry_name(seq: int, batch_id: str) -> str:
    """File name of a batch: ``<seq:016d>-<batch_id>.json.gz``."""
    return f"{seq:016d}-{batch_id}{SUFFIX}"


def parse_entry_name(name: str) -> tuple[int, str] | None:
    """``(seq, batch_id)`` from a file name, or None for anything else."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    seq, _, batch_id = name[: -len(SUFFIX)].partition("-")
    return (int(seq), batch_id) if seq.isdigit() and batch_id else None


def quarantine_name(run_id: str, writer_id: str, batch_file_name: str) -> str:
    """File name of a batch moved to a quarantine folder: ``<run>-<writer>-<batch file name>``."""
    return f"{run_id}-{writer_id}-{batch_file_name}"


def list_names(directory: Path) -> list[str]:
    """The sorted entry names of a directory; empty when it is missing or unreadable."""
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def run_dir_names(root: Path, run_id: str | None = None) -> list[str]:
    """The run directories under a spool root, sorted (only ``run_id`` when given).

    Skips dot-names, the quarantine folders, the artifact journal and plain files.
    """
    return [name for name in list_names(root)
            if not name.startswith(".") and name not in NOT_RUN_DIRS
            and (run_id is None or name == run_id) and (root / name).is_dir()]


def writer_dir_names(run_dir: Path) -> list[str]:
    """The writer directories of one run directory, sorted (``run.json`` and dot-names skipped)."""
    return [name for name in list_names(run_dir)
            if not name.startswith(".") and name != RUN_FILE and (run_dir / name).is_dir()]
