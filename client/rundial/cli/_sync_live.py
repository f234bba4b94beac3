"""Upload the batches of *live* writers (a running offline run) during ``rundial sync --watch``.

The SDK's :func:`rundial.replay_spool` only adopts writers whose owner is gone, and only the
adopter deletes files. To upload while an offline run is still writing, this module sends a
live writer's batches without taking its lock and without changing its directory:

* each file is read and verified whole first (a file being evicted or still renamed into place
  is simply skipped), then delivered with the SDK's own :func:`rundial._pipeline.delivery.deliver`
  and its batch id as Idempotency-Key — a batch the owner also sends is stored once;
* the ids of delivered batches are appended to a manifest,
  ``<spool>/.rundial-sync/<run_id>/<writer_id>.done``, outside the SDK's directories;
* once the writer is idle (its owner exited or was killed), :func:`prune_delivered` takes its
  lock, deletes the files listed in the manifest (through the SDK's ``WriterQueue``) and removes
  the manifest, before ``replay_spool`` uploads the rest. Nothing is sent twice, nothing is
  deleted before a 2xx, and a crash at any point only causes a de-duplicated re-send.

The run is registered once (``resume="allow"``) so it shows as running while it logs; its
``run.json`` stays the owner's.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rundial._http.retry import Outcome
from rundial._http.transport import Transport
from rundial._pipeline.delivery import deliver
from rundial._pipeline.registrar import register
from rundial._spool.layout import SYNC_DIR
from rundial._spool.orphans import same_endpoint
from rundial._spool.scan import RunDir, WriterDir, scan, writer_is_live
from rundial._spool.verify import BadBatch, parse_batch
from rundial._spool.writer_queue import WriterQueue

__all__ = ["LiveUploader", "prune_delivered"]


def _manifest(root: Path, run_id: str, writer_id: str) -> Path:
    return root / SYNC_DIR / run_id / f"{writer_id}.done"


def _read_manifest(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def prune_delivered(root: Path) -> int:
    """Delete files already delivered by a live pass from writers that are now idle.

    Returns the number of files deleted. Writers still live are left alone.
    """
    deleted = 0
    base = root / SYNC_DIR
    for path in sorted(base.glob("*/*.done")):
        run_id, writer_id = path.parent.name, path.name[: -len(".done")]
        writer_dir = root / run_id / writer_id
        if writer_dir.is_dir() and writer_is_live(writer_dir):
            continue
        if writer_dir.is_dir():
            removed = _delete_listed(writer_dir, _read_manifest(path))
            if removed is None:
                continue  # its owner came back meanwhile: try again next pass
            deleted += removed
        path.unlink(missing_ok=True)
        if not any(path.parent.iterdir()):
            shutil.rmtree(path.parent, ignore_errors=True)
    return deleted


def _delete_listed(writer_dir: Path, done: set[str]) -> int | None:
    """Delete the listed batches under the writer's lock; None when the lock is taken."""
    queue = WriterQueue.adopt(writer_dir, {})
    if queue is None:
        return None
    listed = [e for e in queue.entries if e.batch_id in done]
    for entry in listed:
        queue.entries.remove(entry)
        if entry.path is not None:
            entry.path.unlink(missing_ok=True)
    queue.close(remove_if_empty=True)
    return len(listed)


@dataclass
class LiveUploader:
    """Sends live writers' batches for one endpoint; keep one instance per ``--watch`` session."""

    root: Path
    endpoint: str
    api_key: str | None
    transport: Transport
    timeout: float
    registered: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    sent: int = 0
    last_error: str | None = None

    def upload(self, run_id: str | None = None) -> bool:
        """One pass over every live writer; False when a retryable failure stopped it."""
        for run in scan(self.root, run_id).runs:
            info = run.info or {}
            live = [w for w in run.writers if w.live]
            if not live or info.get("blocked") or not same_endpoint(info.get("endpoint"),
                                                                    self.endpoint):
                continue
            if not self._register(run) or not all(self._writer(run, w) for w in live):
                return False
        return True

    def _register(self, run: RunDir) -> bool:
        info = run.info or {}
        if info.get("registered") or run.run_id in self.registered:
            return True
        result = register(self.transport, self.api_key, info, self.timeout, resume="allow")
        if result.ok or result.status == 409:
            self.registered.add(run.run_id)
            return True
        self.last_error = result.message
        return result.kind != "retry"

    def _writer(self, run: RunDir, writer: WriterDir) -> bool:
        manifest = _manifest(self.root, run.run_id, writer.writer_id)
        done = _read_manifest(manifest)
        for batch in writer.batches:
            if batch.batch_id in done or batch.batch_id in self.refused:
                continue
            try:
                body = batch.path.read_bytes()
                parse_batch(body, run.run_id)
            except (OSError, BadBatch):
                continue  # evicted meanwhile, or corrupt: the owner (or a later replay) decides
            result = deliver(self.transport, self.api_key, body, batch.batch_id, self.timeout)
            if result.outcome is Outcome.RETRY:
                self.last_error = result.message
                return False
            if result.outcome is Outcome.REJECT or result.dead_letters:
                self.refused.add(batch.batch_id)  # the final replay moves it to rejected/
                self.last_error = result.message
                continue
            _append(manifest, batch.batch_id)
            self.sent += 1
        return True


def _append(path: Path, batch_id: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(batch_id + "\n")
        fh.flush()
        os.fsync(fh.fileno())
