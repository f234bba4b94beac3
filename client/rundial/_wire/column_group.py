"""Decide whether drained metric records can travel as one columns body, and build its arrays.

A group qualifies only when it is *uniform and clean* (the columns format's SDK rules): every
row has the key set of the first row (same length, and every key found), no key is one the
collector refuses (``_wire.keys``; nor one holding NUL, which a columns header may not carry
while a wide row only loses that key's points), every value is a Python ``float``, ``int`` or
``bool`` and finite, and every step and timestamp fits an int64 (steps >= 0). Anything else
answers None and the caller uses the wide-rows path unchanged (it counts, warns about and drops
what it must). Bools become 1.0/0.0, ints their float64 value: the values the collector stores
from a wide row. NumPy and other scalar types stay on wide rows: the wide-rows path writes a
``numpy.float32`` in its short float32 form, and the stored value must not depend on the
body's format.

Both checks come from one C-level ``sum`` per column chunk: the sum of Python numbers is an
exact ``float`` or ``int`` (any NumPy scalar, tensor, ``Decimal``... in the column makes it
something else, or raises; a number that adds to a Python float, such as a ``Fraction`` among
floats, passes and is sent as ``float(value)``, which is what wide rows send for it too), and
it is finite only when every value is (when it is not — a NaN, an infinity, or finite values
whose sum overflows — each value is checked). Values are packed with ``struct`` (little-endian
float64, C speed for Python floats). The work is C-level passes over at most ``chunk_records``
rows at a time, so the worker's GIL holds stay as short as the wide-rows encoder's; no
Python-level loop runs per value.
"""

from __future__ import annotations

import math
import operator
import struct
from dataclasses import dataclass
from typing import Any

from rundial._wire.keys import KeyCheck

_step_of = operator.itemgetter(0)
_timestamp_of = operator.itemgetter(1)
_row_of = operator.itemgetter(2)
_PLAIN_SUMS = (float, int)  # the exact type of a sum of Python floats, ints and bools


@dataclass(slots=True)
class ColumnGroup:
    """A uniform, clean group as little-endian bytes: ``steps`` and ``timestamps_ms`` (int64),
    ``values[j]`` (float64) key ``keys[j]`` of every row."""

    keys: list[str]
    steps: bytes
    timestamps_ms: bytes
    values: list[bytes]


def column_group(records: list[tuple[int, int, dict[str, Any]]], key_check: KeyCheck,
                 chunk_records: int) -> ColumnGroup | None:
    """The columns of ``records`` in the first row's key order, or None when the group is not
    uniform and clean (see the module docstring; ``key_check`` refuses keys the collector would
    refuse). Never raises for odd values: any conversion error means None."""
    if not records:
        return None
    keys = list(records[0][2])
    rows = list(map(_row_of, records))
    if not keys or key_check.bad(keys) or set(map(len, rows)) != {len(keys)}:
        return None
    if any("\x00" in key for key in keys):  # refused per point in a row, but a whole columns body
        return None
    steps = list(map(_step_of, records))
    count = len(steps)
    try:
        if min(steps) < 0:
            return None
        packed_steps = struct.pack(f"<{count}q", *steps)
        packed_stamps = struct.pack(f"<{count}q", *map(_timestamp_of, records))
        values = _value_columns(rows, keys, max(1, chunk_records))
    except Exception:  # a missing key, a value that does not convert, an int beyond int64
        return None
    return None if values is None else ColumnGroup(keys, packed_steps, packed_stamps, values)


def _value_columns(rows: list[dict[str, Any]], keys: list[str],
                   chunk_records: int) -> list[bytes] | None:
    """One float64 column per key; None when a value is not a plain finite number. Raises
    KeyError for a row without one of ``keys``, TypeError/OverflowError/struct.error for a
    value that does not convert."""
    getters = [operator.itemgetter(key) for key in keys]
    parts: list[list[bytes]] = [[] for _ in keys]
    for start in range(0, len(rows), chunk_records):
        chunk = rows[start:start + chunk_records]
        for getter, out in zip(getters, parts):
            column = tuple(map(getter, chunk))
            if not _plain_and_finite(column):
                return None
            out.append(struct.pack(f"<{len(column)}d", *column))
    return [b"".join(part) for part in parts]


def _plain_and_finite(column: tuple[Any, ...]) -> bool:
    """Every value a finite Python number (see the module docstring)."""
    total = sum(column)
    if type(total) not in _PLAIN_SUMS:
        return False
    return math.isfinite(total) or all(map(math.isfinite, column))
