"""Read and split gzip'd ingest bodies after encoding (docs/protocol.md §4.2).

Used by delivery (a 413 splits a body in two; a columns body refused by an older collector is
re-sent as wide rows) and by the spool (eviction and rejection need a body's run id and point
count without trusting the file name). Both metric formats are read: wide-rows JSON and columns
bodies (``_wire.columns``), told apart by their first byte after gunzip, so spool files need no
format metadata. Every function raises on a body that is not a valid gzip'd body
(``zlib.error``, ``orjson.JSONDecodeError``, ``ValueError``), except :func:`points_in`, which
answers 0.
"""

from __future__ import annotations

from typing import Any

import orjson

from rundial._wire import columns
from rundial._wire.batch import gunzip_bytes, gzip_bytes

ITEM_FIELDS = ("rows", "points", "lines", "spans")  # the list field of each kind of ingest body


def _item_field(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    return next((f for f in ITEM_FIELDS if isinstance(doc.get(f), list)), None)


def split_body(body: bytes) -> tuple[bytes, bytes] | None:
    """Split a gzip'd ingest body (rows, lines or spans) in two halves (for a 413); None when
    it holds a single item. A columns body is split by rows into two columns bodies."""
    raw = gunzip_bytes(body)
    if columns.is_columns(raw):
        halves = columns.split(raw)
        return None if halves is None else (gzip_bytes(halves[0]), gzip_bytes(halves[1]))
    doc = orjson.loads(raw)
    field = _item_field(doc)
    if field is None or len(doc[field]) < 2:
        return None
    items = doc[field]
    half = len(items) // 2
    return (gzip_bytes(orjson.dumps({**doc, field: items[:half]})),
            gzip_bytes(orjson.dumps({**doc, field: items[half:]})))


def body_meta(body: bytes) -> tuple[str, int, int | None, int | None]:
    """``(run_id, points, first_step, last_step)`` of an ingest body (used for spool eviction).

    Log lines and spans count as points; their steps are None. A columns body's values are
    not decoded.
    """
    raw = gunzip_bytes(body)
    if columns.is_columns(raw):
        return columns.meta(raw)
    doc = orjson.loads(raw)
    field = _item_field(doc)
    run_id = str(doc.get("runId", "")) if isinstance(doc, dict) else ""
    if field != "rows":
        return run_id, len(doc[field]) if field else 0, None, None
    rows = doc["rows"]
    steps = [int(r[0]) for r in rows] or [0]
    points = sum(len(r[2]) for r in rows if len(r) > 2 and isinstance(r[2], dict))
    return run_id, points, min(steps), max(steps)


def points_in(body: bytes) -> int:
    """The point count recorded in a gzip batch body; 0 when it cannot be read."""
    try:
        return body_meta(body)[1]
    except Exception:
        return 0


def as_rows_body(body: bytes) -> bytes:
    """The gzip'd wide-rows body equivalent to a gzip'd columns body (``ValueError`` when
    ``body`` is not one): what an older collector, refusing columns, accepts instead."""
    raw = gunzip_bytes(body)
    if not columns.is_columns(raw):
        raise ValueError("not a columns body")
    return gzip_bytes(orjson.dumps(columns.rows_doc(raw)))
