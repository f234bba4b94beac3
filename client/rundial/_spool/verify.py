"""Decode and check one spooled batch: gzip CRC and length, JSON, and the body's structure.

Contract: :func:`load_batch` returns the decoded body only when the whole file is intact —
complete gzip stream (``eof`` reached, CRC32 and ISIZE matching, nothing after it), valid JSON,
and the structure of an ingest body. Anything else raises :class:`BadBatch` with a one-line
reason; no caller ever sees part of a file. Bodies are those of docs/protocol.md: wide metric
rows (``rows``), v1 metric ``points``, log ``lines`` or ``spans``, and eval results (``rows`` of
objects under a top-level ``evalRunId``: :func:`is_eval_body`). A columns metrics body
(``_wire.columns``, told apart by its magic after gunzip) is checked and returned as the
equivalent wide-rows body, so every reader sees one shape.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any

from rundial._wire import columns

__all__ = ["KIND_FIELDS", "BadBatch", "body_kind", "is_eval_body", "load_batch", "parse_batch"]

KIND_FIELDS = {"rows": "metrics", "points": "metrics", "lines": "logs", "spans": "traces"}
_GZIP_WBITS = 31


class BadBatch(Exception):
    """A spool file that must not be loaded: truncated, corrupt, not JSON or malformed."""


def gunzip_whole(data: bytes) -> bytes:
    """The decompressed gzip member; BadBatch unless it is complete and checks out."""
    if not data:
        raise BadBatch("empty file")
    inflater = zlib.decompressobj(wbits=_GZIP_WBITS)
    try:
        raw = inflater.decompress(data) + inflater.flush()
    except zlib.error as exc:
        raise BadBatch(f"corrupt gzip data ({exc})") from None
    if not inflater.eof:
        raise BadBatch("truncated gzip stream (no complete trailer)")
    if inflater.unused_data:
        raise BadBatch(f"{len(inflater.unused_data)} unexpected bytes after the gzip stream")
    return raw


def body_kind(body: dict[str, Any]) -> str:
    """The list field of an ingest body (``rows``, ``points``, ``lines`` or ``spans``)."""
    fields = [f for f in KIND_FIELDS if isinstance(body.get(f), list)]
    if len(fields) != 1:
        raise BadBatch("body has no single rows/points/lines/spans list")
    return fields[0]


def is_eval_body(body: dict[str, Any]) -> bool:
    """True for an eval results body (``POST /api/v1/evals/results``): its ``rows`` are objects."""
    return isinstance(body.get("evalRunId"), str)


def _check_eval_row(index: int, row: object) -> None:
    if not (isinstance(row, dict) and isinstance(row.get("exampleId"), str)
            and isinstance(row.get("scorer"), str) and _is_number(row.get("score"))
            and isinstance(row.get("passed"), bool)):
        raise BadBatch(f"rows[{index}] lacks exampleId/scorer/score/passed")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _check_row(index: int, row: object) -> None:
    if not (isinstance(row, list) and len(row) == 3 and _is_int(row[0]) and row[0] >= 0
            and _is_int(row[1]) and isinstance(row[2], dict)):
        raise BadBatch(f"rows[{index}] is not [step, timestampMs, {{key: value}}]")
    if not all(isinstance(k, str) and _is_number(v) for k, v in row[2].items()):
        raise BadBatch(f"rows[{index}] has a non-numeric value or non-string key")


def _check_item(field: str, index: int, item: object) -> None:
    if not isinstance(item, dict):
        raise BadBatch(f"{field}[{index}] is not an object")
    if field == "points" and not (isinstance(item.get("metricKey"), str)
                                  and _is_int(item.get("step")) and _is_number(item.get("value"))):
        raise BadBatch(f"points[{index}] lacks metricKey/step/value")
    if field == "lines" and not (isinstance(item.get("message"), str)
                                 and _is_int(item.get("timestampMs"))):
        raise BadBatch(f"lines[{index}] lacks message/timestampMs")


def check_structure(body: object, expected_run_id: str | None = None) -> dict[str, Any]:
    """``body`` when it is a well-formed ingest body (of ``expected_run_id`` if given)."""
    if not isinstance(body, dict):
        raise BadBatch("body is not a JSON object")
    field = body_kind(body)
    if is_eval_body(body):
        if field != "rows":
            raise BadBatch("an eval results body needs a rows list")
        for index, item in enumerate(body["rows"]):
            _check_eval_row(index, item)
        return body
    for index, item in enumerate(body[field]):
        _check_row(index, item) if field == "rows" else _check_item(field, index, item)
    run_id = body.get("runId")
    if field == "rows" and (not isinstance(run_id, str) or not run_id):
        raise BadBatch("body has no runId")
    if expected_run_id is not None and field == "rows" and run_id != expected_run_id:
        raise BadBatch(f"body is for run {run_id!r}, not {expected_run_id!r}")
    return body


def parse_batch(data: bytes, expected_run_id: str | None = None) -> dict[str, Any]:
    """Decode and check the bytes of one spool file (see the module docstring)."""
    return check_structure(_decoded(gunzip_whole(data)), expected_run_id)


def _decoded(raw: bytes) -> object:
    """The JSON value of ``raw``, or a columns body as its wide-rows document."""
    if columns.is_columns(raw):
        try:
            return columns.rows_doc(raw)
        except ValueError as exc:
            raise BadBatch(str(exc)) from None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBatch(f"not JSON ({exc})") from None


def load_batch(path: Path, expected_run_id: str | None = None) -> dict[str, Any]:
    """Read and check one spool file; BadBatch (also for I/O errors) when it is not whole."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadBatch(f"unreadable ({exc.strerror or exc})") from None
    return parse_batch(data, expected_run_id)
