"""``rundial-spool export``: what is in the spool, as JSON lines or CSV, without a server.

Contract: every batch is verified as a whole (:func:`load_batch`) before any of its records is
written; a corrupt or truncated file contributes nothing and is reported (exit code 1). With
``--out`` the file is written to a temp name and renamed at the end; without it, records go to
stdout. CSV holds one kind (``--kind``, default ``metric``) with formula-safe text cells.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from rundial._spool.scan import SpoolScan
from rundial._spool.verify import BadBatch, load_batch
from rundial.cli._errors import CliError
from rundial.cli._export import safe_cell
from rundial_spool._records import CSV_COLUMNS, records

__all__ = ["export_spool"]


def _iter_records(scan: SpoolScan, kind: str | None,
                  skipped: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
    for batch in scan.batches:
        try:
            body = load_batch(batch.path, batch.run_id)
        except BadBatch as exc:
            skipped.append({"path": str(batch.path), "error": str(exc)})
            continue
        for record in records(body, batch):
            if kind is None or record["kind"] == kind:
                yield record


def _write(fh: TextIO, fmt: str, rows: Iterator[dict[str, Any]], kind: str) -> int:
    count = 0
    if fmt == "csv":
        columns = CSV_COLUMNS[kind]
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([safe_cell(row.get(c)) for c in columns])
            count += 1
        return count
    for row in rows:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
        count += 1
    return count


def export_spool(scan: SpoolScan, fmt: str, kind: str | None,
                 out: Path | None) -> tuple[int, list[dict[str, str]]]:
    """Write the records; returns ``(count, skipped files)``. OSError becomes CliError."""
    skipped: list[dict[str, str]] = []
    if fmt == "csv":
        kind = kind or "metric"
    rows = _iter_records(scan, kind, skipped)
    if out is None:
        return _write(sys.stdout, fmt, rows, kind or "metric"), skipped
    tmp = out.with_name(f".{out.name}.tmp.{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            count = _write(fh, fmt, rows, kind or "metric")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count, skipped
