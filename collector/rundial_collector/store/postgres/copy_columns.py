"""Chunk columns streamed by ``COPY ... TO STDOUT (FORMAT binary)`` straight into three arrays.

A whole-series read fetches every chunk's packed ``steps``, ``vals`` and ``timestamps``.
Fetched as rows, asyncpg makes one ``bytes`` object per column per chunk (the whole series
once more, in fresh memory: in a collector just started every page of it is a page fault),
and the resolution then copies them into one array per column. Streamed by ``COPY``, each
batch of rows asyncpg hands over is copied into place in arrays allocated once at their final
size, and the memory of the batches is reused: the arrays are the raw series, in chunk order.

The statement must select ``chunk_id`` (bigint) then the three packed columns. The sink never
raises (asyncpg would cancel the statement and the transaction would be lost): rows that do not
fit the expected layout or size mark the read failed, and the caller reads otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rundial_collector.store.postgres.engine import Conn
from rundial_collector.store.series_math import Points

__all__ = ["ChunkColumns", "copy_chunk_columns"]

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER_BYTES = len(_SIGNATURE) + 8  # signature, flags (int32), extension length (int32)
_FIELDS = 4  # chunk_id, steps, vals, timestamps
_POINT_BYTES = 8


@dataclass
class ChunkColumns:
    """What a :func:`copy_chunk_columns` read gave: the raw points of the chunks in row order,
    each chunk's id and point count, and whether every row fitted (else ``points`` is void)."""

    points: Points
    ids: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    ok: bool = True


class _Sink:
    """asyncpg's COPY output callable: parses binary COPY rows into the arrays."""

    def __init__(self, point_count: int) -> None:
        self.columns = ChunkColumns(Points(np.empty(point_count, np.int64),
                                           np.empty(point_count, np.float64),
                                           np.empty(point_count, np.int64)))
        points = self.columns.points
        self._bytes: list[npt.NDArray[np.uint8]] = [
            points.steps.view(np.uint8), points.values.view(np.uint8),
            points.timestamps.view(np.uint8)]
        self._filled = 0  # points written
        self._pending = b""  # an incomplete row left from the previous batch
        self._header = True
        self._done = False

    async def __call__(self, data: bytes) -> None:
        if self._done or not self.columns.ok:
            return
        if self._pending:
            data = self._pending + data
        view = memoryview(data)
        at = self._skip_header(view)
        while at >= 0:
            at = self._row(view, at)
        left = -at - 1  # bytes of an incomplete row (or header) at the end
        self._pending = bytes(view[len(view) - left:]) if left else b""

    def _skip_header(self, view: memoryview) -> int:
        """Offset after the file header (0 once it was read); -1 - size: wait for more."""
        if not self._header:
            return 0
        if len(view) < _HEADER_BYTES:
            return -1 - len(view)
        if bytes(view[:len(_SIGNATURE)]) != _SIGNATURE:
            self.columns.ok = False
            return -1
        self._header = False
        return _HEADER_BYTES + int.from_bytes(view[_HEADER_BYTES - 4:_HEADER_BYTES], "big")

    def _row(self, view: memoryview, at: int) -> int:
        """Parse the row at ``at``: the next offset, -1 at the end (or on failure), or
        -1 - (bytes left) when the row is incomplete."""
        if len(view) - at < 2:
            return -1 - (len(view) - at)
        fields = int.from_bytes(view[at:at + 2], "big", signed=True)
        if fields == -1:  # the trailer
            self._done = True
            return -1
        spans, end = self._fields(view, at + 2, fields)
        if end < 0:
            return -1 - (len(view) - at)
        if not self._store(view, spans):
            self.columns.ok = False
            return -1
        return end

    def _fields(self, view: memoryview, at: int, fields: int
                ) -> tuple[list[tuple[int, int]], int]:
        """((offset, length) of each field, offset after the row), or ([], -1) if incomplete."""
        spans = []
        for _ in range(fields):
            if len(view) - at < 4:
                return [], -1
            size = int.from_bytes(view[at:at + 4], "big", signed=True)
            at += 4
            if len(view) - at < max(size, 0):
                return [], -1
            spans.append((at, size))
            at += max(size, 0)
        return spans, at

    def _store(self, view: memoryview, spans: list[tuple[int, int]]) -> bool:
        """Copy one chunk's columns into place; False when it does not fit."""
        if len(spans) != _FIELDS or spans[0][1] != 8:
            return False
        size = spans[1][1]
        count = size // _POINT_BYTES
        start = self._filled * _POINT_BYTES
        if (size % _POINT_BYTES or any(n != size for _, n in spans[1:])
                or self._filled + count > len(self.columns.points)):
            return False
        for column, (offset, _) in zip(self._bytes, spans[1:]):
            column[start:start + size] = view[offset:offset + size]
        self._filled += count
        self.columns.ids.append(int.from_bytes(view[spans[0][0]:spans[0][0] + 8], "big",
                                               signed=True))
        self.columns.counts.append(count)
        return True

    def result(self) -> ChunkColumns:
        if not (self._done and self._filled == len(self.columns.points)):
            self.columns.ok = False
        return self.columns


async def copy_chunk_columns(conn: Conn, query: str, args: tuple[object, ...],
                             point_count: int) -> ChunkColumns:
    """Run ``query`` (parameters ``args``, selecting ``chunk_id, steps, vals, timestamps``) as a
    binary COPY into arrays of ``point_count`` points. ``ok`` is False when the rows did not
    hold exactly that many points in the expected layout; database errors propagate."""
    sink = _Sink(point_count)
    await conn.copy_from_query(query, *args, output=sink, format="binary")
    return sink.result()
