"""``rundial-spool compact``: merge runs of small consecutive batch files of a writer.

Contract:
* Only writers whose lock can be taken are touched (a live SDK process keeps its directory),
  and the lock is held while they change.
* Only consecutive files (by ``seq``) that verify as whole, are smaller than ``small_bytes`` and
  share the same target header (everything but ``seq``, the item list and
  ``clientDiagnostics``) are merged, in order, up to ``max_items`` items and ``max_raw_bytes``
  uncompressed bytes per merged file. Corrupt files are never read into a merge.
* A merged file takes the first file's ``seq`` and a batch id derived (uuid5) from the merged
  ids, so repeating an interrupted compaction produces the same Idempotency-Key. It is written
  to a tmp file, fsync'ed and renamed before the originals are deleted: a crash in between
  leaves the same points twice in the spool, which the collector's step de-duplication (and
  log de-duplication) absorbs — nothing is ever lost.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from rundial._spool.layout import entry_name
from rundial._spool.scan import BatchFile, SpoolScan, WriterDir, hold_writer
from rundial._spool.verify import BadBatch, body_kind, load_batch
from rundial._wire.batch import gzip_bytes

__all__ = ["CompactReport", "compact"]

SMALL_BYTES = 64 * 1024
MAX_ITEMS = 5_000
MAX_RAW_BYTES = 4 * 1024 * 1024
_NAMESPACE = uuid.UUID("6b0f2d4e-8c1a-4d7e-9b53-2f1e0c7a9d10")
_VOLATILE = ("seq", "clientDiagnostics")


@dataclass
class CompactReport:
    """What compaction did (or would do with ``dry_run``)."""

    files_merged: int = 0
    files_written: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    skipped_live_writers: int = 0
    skipped_corrupt: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """camelCase JSON shape."""
        return {"filesMerged": self.files_merged, "filesWritten": self.files_written,
                "bytesBefore": self.bytes_before, "bytesAfter": self.bytes_after,
                "skippedLiveWriters": self.skipped_live_writers,
                "skippedCorrupt": self.skipped_corrupt}


@dataclass
class _Group:
    header: dict[str, Any]
    kind: str
    files: list[BatchFile] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    items: int = 0
    raw_bytes: int = 0


def _header(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _VOLATILE and k != kind}


def _plan(writer: WriterDir, report: CompactReport, small_bytes: int, max_items: int,
          max_raw_bytes: int) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for batch in writer.batches:
        body = None
        if batch.size < small_bytes:
            try:
                body = load_batch(batch.path, batch.run_id)
            except BadBatch:
                report.skipped_corrupt.append(str(batch.path))
        if body is None:
            current = None
            continue
        kind = body_kind(body)
        raw = len(json.dumps(body[kind]))
        if (current is None or current.kind != kind or current.header != _header(body, kind)
                or current.items + len(body[kind]) > max_items
                or current.raw_bytes + raw > max_raw_bytes):
            current = _Group(_header(body, kind), kind)
            groups.append(current)
        current.files.append(batch)
        current.bodies.append(body)
        current.items += len(body[kind])
        current.raw_bytes += raw
    return [g for g in groups if len(g.files) > 1]


def _merged_body(group: _Group) -> dict[str, Any]:
    body: dict[str, Any] = dict(group.header)
    if "seq" in group.bodies[0]:
        body["seq"] = group.bodies[0]["seq"]
    body[group.kind] = [item for b in group.bodies for item in b[group.kind]]
    diagnostics = [b["clientDiagnostics"] for b in group.bodies if "clientDiagnostics" in b]
    if diagnostics:
        body["clientDiagnostics"] = diagnostics[-1]  # cumulative snapshots: the last is newest
    return body


def _write_group(writer: WriterDir, group: _Group) -> int:
    """Write the merged file, then delete the originals; returns the new file's size."""
    batch_id = uuid.uuid5(_NAMESPACE, ",".join(f.batch_id for f in group.files)).hex
    data = gzip_bytes(json.dumps(_merged_body(group), separators=(",", ":")).encode())
    final = writer.path / entry_name(group.files[0].seq, batch_id)
    tmp = writer.path / f".{final.name}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    for original in group.files:
        if original.path != final:
            original.path.unlink(missing_ok=True)
    return len(data)


def compact(scan: SpoolScan, dry_run: bool = False, small_bytes: int = SMALL_BYTES,
            max_items: int = MAX_ITEMS, max_raw_bytes: int = MAX_RAW_BYTES) -> CompactReport:
    """Compact every idle writer of ``scan``; see the module docstring."""
    report = CompactReport()
    for writer in (w for run in scan.runs for w in run.writers):
        with hold_writer(writer.path) as held:
            if not held:
                report.skipped_live_writers += 1
                continue
            for group in _plan(writer, report, small_bytes, max_items, max_raw_bytes):
                report.files_merged += len(group.files)
                report.files_written += 1
                report.bytes_before += sum(f.size for f in group.files)
                if not dry_run:
                    report.bytes_after += _write_group(writer, group)
    return report
