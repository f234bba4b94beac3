"""Columnar metric bodies ("columns v1", docs/protocol.md §4.16) into per-series chunks.

A decompressed body is ``RDC1``, the header length H (uint32 LE, a multiple of 8, at most
:data:`MAX_HEADER_BYTES`), H bytes of a space-padded JSON object (:class:`ColumnsHeader`),
then N int64 steps, N int64 timestamps and K×N float64 values, key by key, all little-endian.
The arrays are read with :func:`numpy.frombuffer` (zero-copy, no Python object per point);
every length is checked against the body before anything is allocated.

Contract: any malformed body (bad magic, header length, header JSON, keys, rows, a length that
does not match ``8 + H + 8·N·(2+K)``) is an :class:`ApiError` 400 naming ``details.field``.
A well-formed body is handled exactly as the N wide rows ``[steps[i], timestampsMs[i],
{keys[j]: values[j][i]}]`` (:func:`rundial_collector.ingest.rows.chunks_from_rows`): a row
with a negative step or timestamp is rejected with its K points, a non-finite value alone,
with the same counts, error indexes and fields; the rest become one chunk per key sharing one
steps and one timestamps array (:mod:`rundial_collector.store.chunk_rows`).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Annotated

import msgspec
import numpy as np
import numpy.typing as npt

from rundial_collector.ingest.items import (MAX_REPORTED_ERRORS, ItemErrors, key_problem,
                                            step_problem, time_problem)
from rundial_collector.ingest.rows import matrix_chunks
from rundial_collector.ingest.schemas import BodyTarget
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import F64, I64
from rundial_collector.web import errors
from rundial_collector.web.intbounds import NonNegative, Positive
from rundial_collector.web.jsonbody import check_depth, split_validation_error

__all__ = ["COLUMNS", "MAGIC", "MAX_HEADER_BYTES", "ColumnsBody", "ColumnsDecoder",
           "ColumnsHeader", "chunks_from_columns"]

MAGIC = b"RDC1"
MAX_HEADER_BYTES = 65_536
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")
_PREFIX = struct.Struct("<4sI")  # magic, header length
_INT64 = np.dtype("<i8")
_FLOAT64 = np.dtype("<f8")


class ColumnsHeader(BodyTarget, forbid_unknown_fields=True):
    """The JSON header: a wide-rows body's target fields plus ``keys`` and ``rows``. Their
    defaults (none, 0) are never valid: a header without them is refused by name."""

    keys: Annotated[list[str], msgspec.Meta(min_length=1)] = []
    rows: Positive = 0
    rank: NonNegative | None = None


@dataclass(frozen=True)
class ColumnsBody:
    """A decoded body: its header and zero-copy views of its arrays (``values[j]`` is key
    ``j``'s column)."""

    header: ColumnsHeader
    steps: I64
    timestamps: I64
    values: F64

    @property
    def point_count(self) -> int:
        return len(self.header.keys) * self.header.rows


class ColumnsDecoder:
    """Decodes a columns body; has the ``decode`` of :class:`.schemas.BodyDecoder`."""

    def __init__(self) -> None:
        self._header = msgspec.json.Decoder(ColumnsHeader, float_hook=float)

    def decode(self, raw: bytes) -> ColumnsBody:
        """The body; raises 400 ``INVALID_REQUEST`` with ``details.field`` on bad input."""
        header_bytes = _header_bytes(raw)
        header = self._decode_header(header_bytes)
        keys, n = header.keys, header.rows
        start = _PREFIX.size + len(header_bytes)
        expected = start + 8 * n * (2 + len(keys))
        if len(raw) != expected:
            raise errors.invalid(f"the body is {len(raw)} bytes; a header of {len(keys)} keys "
                                 f"and {n} rows needs exactly {expected}", "body")
        steps = np.frombuffer(raw, _INT64, n, start)
        stamps = np.frombuffer(raw, _INT64, n, start + 8 * n)
        values = np.frombuffer(raw, _FLOAT64, n * len(keys), start + 16 * n)
        return ColumnsBody(header, steps, stamps, values.reshape(len(keys), n))

    def _decode_header(self, text: bytes) -> ColumnsHeader:
        try:
            check_depth(text)
        except errors.ApiError as exc:
            raise errors.invalid(f"columns header: {exc.message}", "body") from None
        try:
            header = self._header.decode(text)
        except msgspec.ValidationError as exc:
            message, field = split_validation_error(str(exc))
            unknown = _UNKNOWN.search(message)
            field = field or (unknown.group(1) if unknown else "body")
            raise errors.invalid(f"columns header: {message}", field) from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise errors.invalid(f"the columns header is not a JSON object: {exc}",
                                 "body") from None
        _check_keys(header)
        return header


def _header_bytes(raw: bytes) -> bytes:
    """The header's H bytes, after checking the magic and H against the body."""
    if len(raw) < _PREFIX.size:
        raise errors.invalid(f"a columns body starts with {_PREFIX.size} bytes (magic, header "
                             f"length); got {len(raw)}", "body")
    magic, length = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise errors.invalid(f"a columns body starts with {MAGIC.decode()!r}, got {magic!r}",
                             "body")
    if length % 8 or length > MAX_HEADER_BYTES:
        raise errors.invalid(f"the columns header length must be a multiple of 8 up to "
                             f"{MAX_HEADER_BYTES}, got {length}", "body")
    if _PREFIX.size + length > len(raw):
        raise errors.invalid(f"the columns header length {length} runs past the body's end",
                             "body")
    return raw[_PREFIX.size:_PREFIX.size + length]


def _check_keys(header: ColumnsHeader) -> None:
    """400 ``keys``/``rows`` for a header without them, with a repeated or invalid key."""
    if not header.keys:
        raise errors.invalid("the columns header needs keys (at least one metric key)", "keys")
    if header.rows < 1:
        raise errors.invalid("the columns header needs rows (the row count, at least 1)",
                             "rows")
    if len(set(header.keys)) != len(header.keys):
        raise errors.invalid("the columns header's keys must be distinct", "keys")
    for j, key in enumerate(header.keys):
        problem = key_problem(key)
        if problem is not None:
            raise errors.invalid(problem, f"keys[{j}]")


def chunks_from_columns(body: ColumnsBody, project_id: str, run_id: str, rank: int | None,
                        errs: ItemErrors) -> tuple[list[SeriesChunk], int]:
    """Chunks and accepted count for one run (already authorised), as the equivalent wide
    rows would give: rows with a negative step or timestamp first (in row order), then each
    key's non-finite values (one error per key, at its first bad row)."""
    steps, stamps, values = body.steps, body.timestamps, body.values
    good_rows = (steps >= 0) & (stamps >= 0)
    kept: npt.NDArray[np.intp] | None = None
    if not good_rows.all():
        kept = _reject_rows(steps, stamps, good_rows, len(body.header.keys), errs)
        steps, stamps, values = steps[kept], stamps[kept], values[:, kept]
    if not len(steps):
        return [], 0
    sent_index = range(len(steps)) if kept is None else kept.tolist()
    return matrix_chunks((), sent_index, (tuple(body.header.keys), values.T), project_id,
                         run_id, rank, errs, (steps, stamps))


def _reject_rows(steps: I64, stamps: I64, good_rows: npt.NDArray[np.bool_], width: int,
                 errs: ItemErrors) -> npt.NDArray[np.intp]:
    """Count the rows with a negative step or timestamp (``width`` points each), explain the
    first ones; return the indexes of the others."""
    bad = np.flatnonzero(~good_rows)
    for i in bad[:MAX_REPORTED_ERRORS].tolist():
        problem = step_problem(int(steps[i])) or time_problem(int(stamps[i]))
        assert problem is not None
        errs.add(i, f"rows[{i}]", problem, width)
    errs.rejected += (len(bad) - min(len(bad), MAX_REPORTED_ERRORS)) * width  # counted only
    return np.flatnonzero(good_rows)



COLUMNS = ColumnsDecoder()
