"""A test-side encoder of columnar metric bodies ("columns v1", docs/protocol.md §4.16), written
from the format's description and independent of the SDK's encoder: ``RDC1``, the header length
(uint32 LE, a multiple of 8), the space-padded JSON header, then the steps, timestamps (int64
LE) and values (float64 LE, key by key).

:func:`columns_body` builds a body from columns, :func:`rows_as_columns` from uniform wide
rows; :func:`frame` assembles any (even invalid) header bytes and payload, for bad-input tests.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

CONTENT_TYPE = "application/x-rundial-columns"
MAGIC = b"RDC1"


def padded_header(header: Mapping[str, Any]) -> bytes:
    """The header as UTF-8 JSON padded with spaces to a multiple of 8 bytes."""
    text = json.dumps(dict(header), separators=(",", ":")).encode()
    return text + b" " * (-len(text) % 8)


def frame(header_bytes: bytes, payload: bytes = b"", magic: bytes = MAGIC,
          header_length: int | None = None) -> bytes:
    """Magic, header length (``len(header_bytes)`` unless given), header, payload."""
    length = len(header_bytes) if header_length is None else header_length
    return magic + struct.pack("<I", length) + header_bytes + payload


def columns_body(target: Mapping[str, Any], keys: Sequence[str], steps: npt.ArrayLike,
                 timestamps_ms: npt.ArrayLike, values: npt.ArrayLike) -> bytes:
    """A body for ``target`` (``runId``, ``projectId``...): ``values[j]`` is key ``j``'s
    column, one value per step."""
    step_array = np.asarray(steps, "<i8")
    header = {**target, "keys": list(keys), "rows": len(step_array)}
    payload = (step_array.tobytes() + np.asarray(timestamps_ms, "<i8").tobytes()
               + np.asarray(values, "<f8").reshape(len(keys), len(step_array)).tobytes())
    return frame(padded_header(header), payload)


def rows_as_columns(target: Mapping[str, Any],
                    rows: Sequence[tuple[int, int, Mapping[str, float]]]) -> bytes:
    """The columns body equivalent to wide ``rows`` that all carry the first row's keys."""
    keys = list(rows[0][2])
    values = [[row[2][key] for row in rows] for key in keys]
    return columns_body(target, keys, [row[0] for row in rows], [row[1] for row in rows],
                        values)
