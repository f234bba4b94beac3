"""Read and split gzip'd ingest bodies after encoding (docs/protocol.md §4.2).

Used by delivery (a 413 splits a body in two) and by the spool (eviction and rejection need a
body's run id and point count without trusting the file name). Every function raises on a body
that is not valid gzip'd JSON (``zlib.error``, ``orjson.JSONDecodeError``), except
:func:`points_in`, which answers 0.
"""

from __future__ import annotations

from typing import Any

import orjson

from rundial._wire.batch import gunzip_bytes, gzip_bytes

ITEM_FIELDS = ("rows", "points", "lines", "spans")  # the list field of each kind of ingest body


def _item_field(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    return next((f for f in ITEM_FIELDS if isinstance(doc.get(f), list)), None)


def split_body(body: bytes) -> tuple[bytes, bytes] | None:
    """Split a gzip'd ingest body (rows, lines or spans) in two halves (for a 413); None when
    it holds a single item."""
    doc = orjson.loads(gunzip_bytes(body))
    field = _item_field(doc)
    if field is None or len(doc[field]) < 2:
        return None
    items = doc[field]
    half = len(items) // 2
    return (gzip_bytes(orjson.dumps({**doc, field: items[:half]})),
            gzip_bytes(orjson.dumps({**doc, field: items[half:]})))


def body_meta(body: bytes) -> tuple[str, int, int | None, int | None]:
    """``(run_id, points, first_step, last_step)`` of an ingest body (used for spool eviction).

    Log lines and spans count as points; their steps are None.
    """
    doc = orjson.loads(gunzip_bytes(body))
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
