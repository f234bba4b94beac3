"""``rundial-spool quarantine ls|restore``: the ``rejected/`` and ``corrupt/`` folders.

``restore`` moves quarantined batches back into their run's writer directory so the next
``rundial sync`` (or the next SDK process) sends them again, with their original batch id as
Idempotency-Key. Rules:
* a file that does not verify as whole is refused (it would only be quarantined again), unless
  ``force``;
* a run without ``run.json`` (its directory was already cleaned up) needs ``endpoint`` so a
  minimal run file can be written; the run is then registered with ``resume="allow"``;
* a writer directory held by a live process is never written into: the file goes to
  ``<writer_id>-restored`` instead;
* the move is an ``os.replace`` within the spool's file system, and the ``.reason`` note is
  removed afterwards.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial._spool.layout import entry_name
from rundial._spool.runfile import read_run_file, write_run_file
from rundial._spool.scan import QuarantinedFile, writer_is_live
from rundial._spool.verify import BadBatch, load_batch

__all__ = ["Identity", "describe", "identify", "restore"]

_NAME = re.compile(r"^(?P<run>.+)-(?P<writer>w_[0-9A-Za-z]+)-(?P<seq>\d{16})-(?P<batch>.+)\.json\.gz$")


@dataclass(frozen=True)
class Identity:
    """Where a quarantined batch came from."""

    run_id: str
    writer_id: str
    seq: int
    batch_id: str


def identify(path: Path) -> Identity | None:
    """The batch's origin from its quarantine name, or None when the name is not one of ours."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    return Identity(match["run"], match["writer"], int(match["seq"]), match["batch"])


def describe(item: QuarantinedFile) -> dict[str, Any]:
    """One ``quarantine ls`` entry."""
    ident = identify(item.path)
    return {"path": str(item.path), "folder": item.folder, "bytes": item.size,
            "mtimeMs": int(item.mtime * 1000), "reason": item.reason,
            "runId": ident.run_id if ident else None, "writerId": ident.writer_id if ident else None,
            "seq": ident.seq if ident else None, "batchId": ident.batch_id if ident else None}


def _ensure_run_file(run_dir: Path, body: dict[str, Any], endpoint: str | None) -> None:
    if read_run_file(run_dir) is not None:
        return
    if not endpoint:
        raise ValueError(f"run {run_dir.name} has no run.json any more: pass --endpoint")
    doc: dict[str, Any] = {"endpoint": endpoint.rstrip("/"), "runId": run_dir.name,
                           "registered": False, "resume": "allow", "restored": True}
    for key in ("projectId", "workspace", "project"):
        if body.get(key):
            doc[key] = body[key]
    write_run_file(run_dir, doc)


def restore(root: Path, item: QuarantinedFile, endpoint: str | None = None,
            force: bool = False) -> Path:
    """Move ``item`` back into the spool; returns the new path. ValueError explains a refusal."""
    ident = identify(item.path)
    if ident is None:
        raise ValueError(f"{item.path.name}: not a quarantined spool batch name")
    try:
        body = load_batch(item.path)
    except BadBatch as exc:
        if not force:
            raise ValueError(f"{item.path.name}: {exc} (use --force to restore it anyway)") from None
        body = {}
    run_dir = root / ident.run_id
    _ensure_run_file(run_dir, body, endpoint)
    writer_dir = run_dir / ident.writer_id
    if writer_is_live(writer_dir):
        writer_dir = run_dir / f"{ident.writer_id}-restored"
    writer_dir.mkdir(parents=True, exist_ok=True)
    target = writer_dir / entry_name(ident.seq, ident.batch_id)
    os.replace(item.path, target)
    item.path.with_name(item.path.name + ".reason").unlink(missing_ok=True)
    return target

