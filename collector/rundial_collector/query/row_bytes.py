"""Text rows of numeric columns assembled in numpy, without a Python object per number.

A row is a template of constant byte strings and numeric columns, e.g. ``{"step":`` *step*
``,"value":`` *value* ``}``. Each column's numbers are formatted once by orjson (the exact text
``orjson.dumps`` gives each element: shortest round-trip floats, ``null`` for NaN and ±inf,
``-0.0``, full int64) and the separators are located with one vectorised search. The rows'
lengths then give every part's offset in the output, and each part is copied there by one
fancy assignment through a fixed-width window view of the output (a memcpy per row).

A number is copied with a window as wide as the widest number of its *width class*, so the
bytes after a shorter number are garbage until the constants that follow it are written (last
of all). The classes are cut so that this garbage never reaches past those constants; two
numbers with no constant between them get one class per exact length.

Memory: the output, the columns' text and a few integer arrays per row (about 70 bytes a row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson

Part = bytes | np.ndarray
Index = npt.NDArray[np.intp]
_COMMA = ord(",")


def _windows(buffer: npt.NDArray[np.uint8], width: int) -> np.ndarray:
    """Every ``width``-byte window of ``buffer`` (item i starts at byte i), sharing memory."""
    return np.ndarray(shape=(len(buffer) - width + 1,), dtype=np.dtype(f"S{width}"),
                      buffer=buffer, strides=(1,))


class _Column:
    """The orjson text of a non-empty numeric array: bytes (padded for windows), each element's
    start and length."""

    def __init__(self, array: np.ndarray) -> None:
        text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
        raw = np.frombuffer(text, np.uint8)[1:-1]
        commas = np.flatnonzero(raw == _COMMA)
        self.starts: Index = np.empty(len(commas) + 1, np.intp)
        self.starts[0] = 0
        self.starts[1:] = commas + 1
        ends = np.empty_like(self.starts)
        ends[:-1] = commas
        ends[-1] = len(raw)
        self.lengths: Index = ends - self.starts
        self.widest = int(self.lengths.max())
        self.text = np.zeros(len(raw) + self.widest, np.uint8)
        self.text[:len(raw)] = raw

    def copy_to(self, out: npt.NDArray[np.uint8], offsets: Index, slack: int) -> None:
        """Each number to ``out`` at its row's offset; up to ``slack`` bytes after a number
        may be overwritten with garbage (at least 1 is assumed: exact lengths)."""
        step = max(1, slack)
        narrowest = int(self.lengths.min())
        width = self.widest
        while width >= narrowest:
            if width - step < narrowest and width == self.widest:
                rows: Index | slice = slice(None)
            else:
                rows = np.flatnonzero((self.lengths > width - step) & (self.lengths <= width))
            _windows(out, width)[offsets[rows]] = _windows(self.text, width)[self.starts[rows]]
            width -= step


def _slack_after(parts: Sequence[Part], index: int) -> int:
    """Constant bytes between part ``index`` and the next numeric part (the next row's leading
    constants count: rows are contiguous)."""
    slack = 0
    for part in [*parts[index + 1:], *parts[:index]]:
        if not isinstance(part, bytes):
            break
        slack += len(part)
    return slack


def rows_bytes(parts: Sequence[Part], count: int) -> npt.NDArray[np.uint8]:
    """The ``count`` rows of ``parts`` (constant ``bytes`` and numeric arrays of ``count``
    elements each, in row order), concatenated, as a flat uint8 array.

    Raises ValueError when an array's length is not ``count``. Constants may hold any bytes.
    """
    if count == 0:
        return np.empty(0, np.uint8)
    columns: dict[int, _Column] = {}
    row_bytes = np.full(count, sum(len(p) for p in parts if isinstance(p, bytes)), np.intp)
    for index, part in enumerate(parts):
        if not isinstance(part, bytes):
            if len(part) != count:
                raise ValueError(f"a column holds {len(part)} numbers, the rows are {count}")
            columns[index] = _Column(part)
            row_bytes += columns[index].lengths
    row_starts = np.zeros(count, np.intp)
    np.cumsum(row_bytes[:-1], out=row_starts[1:])
    total = int(row_starts[-1] + row_bytes[-1])
    out = np.empty(total + max((c.widest for c in columns.values()), default=0), np.uint8)
    offsets, constants = row_starts.copy(), []
    for index, part in enumerate(parts):
        if isinstance(part, bytes):
            constants.append((offsets.copy(), part))
            offsets += len(part)
        else:
            columns[index].copy_to(out, offsets, _slack_after(parts, index))
            offsets += columns[index].lengths
    for at, constant in constants:
        if constant:
            _windows(out, len(constant))[at] = constant
    return out[:total]
