"""Columnar metric bodies ("columns v1", ``Content-Type: application/x-rundial-columns``).

The decompressed body is ``RDC1``, a uint32 little-endian header length H (a multiple of 8, at
most :data:`HEADER_MAX_BYTES`), H bytes of a UTF-8 JSON object padded with ASCII spaces, then N
int64 steps, N int64 ``timestampsMs`` and K x N float64 values, key by key in ``keys`` order (all
little-endian; docs/protocol.md). The header holds the target fields of a wide-rows body
(``projectId`` or ``workspace`` + ``project``, ``runId``, ``rank``?, ``writerId``?, ``seq``?,
``clientDiagnostics``?) plus ``keys`` and ``rows`` (N). It means the same as N wide rows
``[steps[i], timestampsMs[i], {key: value}]``.

This module packs arrays into a body and reads one back: the header alone, its spool metadata
(steps read, values not), the equivalent wide-rows document, halves by rows, or the same body
with header fields replaced. Functions take and return *uncompressed* bytes, except
:func:`is_columns_body`, which sniffs a gzip'd body. Every reader raises :class:`ValueError` on a
malformed body (bad magic, a length that does not add up, a header that is not an object with
valid ``keys`` and ``rows``); nothing allocates beyond the body's own length.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

MAGIC = b"RDC1"
CONTENT_TYPE = "application/x-rundial-columns"
HEADER_MAX_BYTES = 65_536
PREAMBLE_BYTES = 8  # magic + header length
_ALIGN = 8
_LENGTH = struct.Struct("<I")
_BIG_ENDIAN = sys.byteorder == "big"
_GZIP_WBITS = 31


@dataclass(slots=True)
class Columns:
    """A decoded body: ``header`` without ``keys``/``rows``, and the arrays."""

    header: dict[str, Any]
    keys: list[str]
    steps: array[int]
    timestamps_ms: array[int]
    values: list[array[float]]

    @property
    def rows(self) -> int:
        return len(self.steps)


def is_columns(raw: bytes | memoryview) -> bool:
    """True when decompressed ``raw`` starts with the columns magic (a JSON body starts with ``{``)."""
    return bytes(raw[:4]) == MAGIC


def is_columns_body(body: bytes) -> bool:
    """True for a gzip'd columns body; inflates only its first bytes (a few microseconds).
    Anything that is not gzip'd columns (JSON, corrupt data) answers False."""
    try:
        return zlib.decompressobj(_GZIP_WBITS).decompress(body, len(MAGIC)) == MAGIC
    except zlib.error:
        return False


def _little_endian(values: array[Any]) -> bytes:
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _array(typecode: str, data: memoryview) -> array[Any]:
    out = array(typecode)
    out.frombytes(data)
    if _BIG_ENDIAN:
        out.byteswap()
    return out


def padded_header(header_json: bytes) -> bytes:
    """``header_json`` padded with spaces to a multiple of 8 bytes; ValueError beyond
    :data:`HEADER_MAX_BYTES` (the caller sends wide rows instead)."""
    size = -(-len(header_json) // _ALIGN) * _ALIGN
    if size > HEADER_MAX_BYTES:
        raise ValueError(f"columns header of {size} bytes is over {HEADER_MAX_BYTES}")
    return header_json.ljust(size, b" ")


def pack(header_json: bytes, steps: bytes, timestamps_ms: bytes, values: Sequence[bytes]) -> bytes:
    """The uncompressed body. ``header_json`` is the complete JSON object (with ``keys`` and
    ``rows``); the arrays are little-endian bytes (int64 steps and timestamps, one float64
    column per key) of ``rows`` items each. ValueError for an oversized header."""
    header = padded_header(header_json)
    return b"".join((MAGIC, _LENGTH.pack(len(header)), header, steps, timestamps_ms, *values))


def header_json(header: dict[str, Any], keys: Sequence[str], rows: int) -> bytes:
    """The JSON header for ``header`` (target fields, seq, diagnostics) plus keys and rows."""
    return orjson.dumps({**header, "keys": list(keys), "rows": rows})


def pack_columns(columns: Columns) -> bytes:
    """:func:`pack` of a decoded body (header fields possibly changed)."""
    return pack(header_json(columns.header, columns.keys, columns.rows),
                _little_endian(columns.steps), _little_endian(columns.timestamps_ms),
                [_little_endian(values) for values in columns.values])


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a body's parts are: its header fields, keys, row count and the arrays' offset."""

    header: dict[str, Any]
    keys: list[str]
    rows: int
    data_offset: int


def _invalid(what: str) -> ValueError:
    return ValueError(f"invalid columns body: {what}")


def read_layout(raw: bytes | memoryview) -> Layout:
    """Parse and check the header of uncompressed ``raw`` (see the module docstring)."""
    view = memoryview(raw)
    if len(view) < PREAMBLE_BYTES or bytes(view[:4]) != MAGIC:
        raise _invalid("bad magic")
    (size,) = _LENGTH.unpack_from(view, 4)
    if size % _ALIGN or size > HEADER_MAX_BYTES or PREAMBLE_BYTES + size > len(view):
        raise _invalid(f"header length {size}")
    try:
        header = orjson.loads(view[PREAMBLE_BYTES:PREAMBLE_BYTES + size])
    except orjson.JSONDecodeError as exc:
        raise _invalid(f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _invalid("header is not a JSON object")
    keys, rows = header.pop("keys", None), header.pop("rows", None)
    if (not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys)
            or len(set(keys)) != len(keys)):
        raise _invalid("keys must be a non-empty list of distinct strings")
    if type(rows) is not int or rows < 1:
        raise _invalid("rows must be an integer >= 1")
    offset = PREAMBLE_BYTES + size
    if len(view) != offset + 8 * rows * (2 + len(keys)):
        raise _invalid(f"length {len(view)} does not match {rows} rows of {len(keys)} keys")
    return Layout(header, keys, rows, offset)


def unpack(raw: bytes | memoryview) -> Columns:
    """The whole body decoded (ValueError when malformed)."""
    layout = read_layout(raw)
    view, n, at = memoryview(raw), layout.rows, layout.data_offset
    steps = _array("q", view[at:at + 8 * n])
    stamps = _array("q", view[at + 8 * n:at + 16 * n])
    at += 16 * n
    values = [_array("d", view[at + 8 * n * j:at + 8 * n * (j + 1)])
              for j in range(len(layout.keys))]
    return Columns(layout.header, layout.keys, steps, stamps, values)


def rows_doc(raw: bytes | memoryview) -> dict[str, Any]:
    """The equivalent wide-rows body as a dict (header fields in order, then ``rows``): what
    the rows encoder sends for the same records, with every value a float."""
    cols = unpack(raw)
    keys = cols.keys
    rows = [[step, ts, dict(zip(keys, row))]
            for step, ts, row in zip(cols.steps, cols.timestamps_ms, zip(*cols.values))]
    return {**cols.header, "rows": rows}


def meta(raw: bytes | memoryview) -> tuple[str, int, int, int]:
    """``(run_id, points, first_step, last_step)`` without reading the values."""
    layout = read_layout(raw)
    at, n = layout.data_offset, layout.rows
    steps = _array("q", memoryview(raw)[at:at + 8 * n])
    return str(layout.header.get("runId", "")), n * len(layout.keys), min(steps), max(steps)


def _rows_slice(cols: Columns, part: slice) -> bytes:
    return pack_columns(Columns(cols.header, cols.keys, cols.steps[part], cols.timestamps_ms[part],
                                [values[part] for values in cols.values]))


def split(raw: bytes | memoryview) -> tuple[bytes, bytes] | None:
    """Two bodies holding the first and the second half of the rows (same header, ``rows``
    adjusted); None for a single row."""
    cols = unpack(raw)
    if cols.rows < 2:
        return None
    half = cols.rows // 2
    return _rows_slice(cols, slice(0, half)), _rows_slice(cols, slice(half, None))


def with_fields(raw: bytes | memoryview, fields: dict[str, Any]) -> bytes:
    """The same body with header ``fields`` set (added first when new, replaced in place
    otherwise); the arrays are copied unchanged. ValueError when the header would exceed
    :data:`HEADER_MAX_BYTES`."""
    layout = read_layout(raw)
    header = {**{k: v for k, v in fields.items() if k not in layout.header}, **layout.header}
    header.update(fields)
    head = padded_header(header_json(header, layout.keys, layout.rows))
    return b"".join((MAGIC, _LENGTH.pack(len(head)), head, memoryview(raw)[layout.data_offset:]))
