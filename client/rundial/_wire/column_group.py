"""Decide whether drained metric records can travel as one columns body, and build its arrays.

A group qualifies only when it is *uniform and clean* (the columns format's SDK rules): every
row has the key set of the first row (same length, and every key found), no key is one the
collector refuses (``_wire.keys``; nor one holding NUL, which a columns header may not carry
while a wide row only loses that key's points), every value is a Python number (``float``,
``int``, ``bool`` or a subclass: ``numpy.float64`` qualifies, ``numpy.float32`` does not,
because the wide-rows path writes it in its shorter float32 form and the stored value must not
depend on the body's format), every value converts to float64 and is finite, and every step
and timestamp fits an int64 (steps >= 0). Anything else answers None and the caller uses the
wide-rows path unchanged (it counts, warns about and drops what it must). Bools become 1.0/0.0,
ints their float64 value: the values the collector stores from a wide row.

The work is C-level passes over at most ``chunk_records`` rows at a time, so the worker's GIL
holds stay as short as the wide-rows encoder's; no Python-level loop runs per value.
"""

from __future__ import annotations

import math
import operator
from array import array
from dataclasses import dataclass
from typing import Any

from rundial._wire.keys import KeyCheck

_step_of = operator.itemgetter(0)
_timestamp_of = operator.itemgetter(1)
_row_of = operator.itemgetter(2)
_NUMBER_TYPES = (float, int)


@dataclass(slots=True)
class ColumnGroup:
    """The arrays of a uniform, clean group: ``values[j]`` holds key ``keys[j]`` of every row."""

    keys: list[str]
    steps: array[int]
    timestamps_ms: array[int]
    values: list[array[float]]


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
    try:
        steps = array("q", map(_step_of, records))
        stamps = array("q", map(_timestamp_of, records))
        values = _value_columns(rows, keys, max(1, chunk_records))
    except Exception:  # a missing key, a value array('d') refuses, an int beyond int64
        return None
    if values is None or min(steps) < 0:
        return None
    return ColumnGroup(keys, steps, stamps, values)


def _value_columns(rows: list[dict[str, Any]], keys: list[str],
                   chunk_records: int) -> list[array[float]] | None:
    """One float64 array per key; None when a value is not a plain number or not finite.
    Raises KeyError for a row without one of ``keys``, TypeError/ValueError/OverflowError for
    a value that does not convert."""
    getter = operator.itemgetter(*keys)
    values = [array("d") for _ in keys]
    types: set[type] = set()
    for start in range(0, len(rows), chunk_records):
        matrix = list(map(getter, rows[start:start + chunk_records]))
        columns = zip(*matrix) if len(keys) > 1 else (matrix,)
        for column, out in zip(columns, values):
            out.extend(column)
            types.update(map(type, column))
    if not all(issubclass(kind, _NUMBER_TYPES) for kind in types):
        return None
    if not all(map(_all_finite, values)):
        return None
    return values


def _all_finite(column: array[float]) -> bool:
    """One C-level sum; only when it is not finite (a NaN or inf, or huge values whose sum
    overflows) is each value checked."""
    return math.isfinite(sum(column)) or all(map(math.isfinite, column))
