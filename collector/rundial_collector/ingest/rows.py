"""Wide metric rows (docs/protocol.md §4.2) into per-series chunks, one run per request.

The common shape, every row carrying the same keys in the same order with numeric values, is
handled as one float matrix (a column per key, no Python object per point). Ragged rows, nulls
and odd values take a point-by-point path with the same rules. Contract as in
:mod:`rundial_collector.ingest.items`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from rundial_collector.ingest.items import (ItemErrors, SeriesGroups, finite_value, key_problem,
                                            numeric_array, step_problem, time_problem)
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points

Row = tuple[int, int, dict[str, Any]]


def chunks_from_rows(rows: Sequence[Row], project_id: str, run_id: str, rank: int | None,
                     errs: ItemErrors, floats: bool = False) -> tuple[list[SeriesChunk], int]:
    """Chunks and accepted count of wide rows for one run (already authorised). ``floats``:
    every value is known to be a float and every step and timestamp an int (decoded as
    :class:`.schemas.FloatRowsBody`).

    A row with a bad step or timestamp is rejected whole (each of its points counted). Every
    error's ``index`` and ``field`` name the row as sent (its position in ``rows``).
    """
    columns = _typed_columns(rows) if floats else _in_range_columns(rows)
    if columns is not None and floats:
        fast = _float_matrix(rows)
    else:
        fast = None if columns is None else _uniform_matrix(rows)
    if fast is not None:
        return matrix_chunks(rows, range(len(rows)), fast, project_id, run_id, rank, errs,
                             columns)
    kept: list[int] = []
    for i, (step, stamp, values) in enumerate(rows):
        problem = step_problem(step) or time_problem(stamp)
        if problem is not None:
            errs.add(i, f"rows[{i}]", problem, count=len(values))
        else:
            kept.append(i)
    good = [rows[i] for i in kept]
    fast = _uniform_matrix(good)
    if fast is not None:
        return matrix_chunks(good, kept, fast, project_id, run_id, rank, errs)
    return _row_chunks(rows, project_id, run_id, rank, errs)


def _in_range_columns(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, timestamps) as int64 arrays when every row's are within 0..2^63-1 (the common
    body: no row to reject, checked at numpy speed), else None."""
    steps = np.array([row[0] for row in rows])
    stamps = np.array([row[1] for row in rows])
    if steps.dtype != np.int64 or stamps.dtype != np.int64 or not len(steps):
        return None  # beyond int64 (uint64 or object), or no rows
    return (steps, stamps) if steps.min() >= 0 and stamps.min() >= 0 else None


def _typed_columns(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_in_range_columns` for decoded rows, whose steps and timestamps are Python ints:
    filled straight into int64 arrays (None when one is beyond int64 or negative)."""
    if not rows:
        return None
    try:
        steps = np.fromiter(map(itemgetter(0), rows), np.int64, len(rows))
        stamps = np.fromiter(map(itemgetter(1), rows), np.int64, len(rows))
    except OverflowError:  # beyond int64
        return None
    return (steps, stamps) if steps.min() >= 0 and stamps.min() >= 0 else None


def _uniform_matrix(rows: Sequence[Row]) -> tuple[tuple[str, ...], np.ndarray] | None:
    """(keys, float matrix) when every row has the same keys, in order, and numeric values."""
    if not rows:
        return None
    keys = tuple(rows[0][2])
    if any(tuple(values) != keys for _, _, values in rows):
        return None
    matrix = numeric_array([list(values.values()) for _, _, values in rows], ndim=2)
    if matrix is None or any(map(key_problem, keys)):
        return None
    return keys, matrix.astype(np.float64, copy=False)


def _float_matrix(rows: Sequence[Row]) -> tuple[tuple[str, ...], np.ndarray] | None:
    """As :func:`_uniform_matrix` for rows whose values are all floats: the matrix is filled
    straight from the values, taken from every row in the first row's key order (rows with
    the same keys in another order give the same chunks as by the point-by-point path); None
    when a row's keys differ or a key is bad."""
    dicts = list(map(itemgetter(2), rows))
    keys = tuple(dicts[0])
    if not keys or any(map(key_problem, keys)) or not all(map(len(keys).__eq__,
                                                              map(len, dicts))):
        return None
    take = itemgetter(*keys)
    taken = map(take, dicts) if len(keys) == 1 else chain.from_iterable(map(take, dicts))
    try:
        flat = np.fromiter(taken, np.float64, len(dicts) * len(keys))
    except KeyError:  # a row without one of the first row's keys
        return None
    return keys, flat.reshape(len(dicts), len(keys))


def matrix_chunks(rows: Sequence[Row], sent_index: Sequence[int],
                  fast: tuple[tuple[str, ...], np.ndarray], project_id: str, run_id: str,
                  rank: int | None, errs: ItemErrors,
                  columns: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[list[SeriesChunk], int]:
    """Chunks of the uniform ``rows`` (a float matrix of a row per row, a column per key);
    ``sent_index[i]`` is row ``i``'s index as sent; ``columns``: their (steps, timestamps)
    when already built (``rows`` is then not read). A key's non-finite values are rejected
    with one error at its first bad row. Also used for columnar bodies
    (:mod:`rundial_collector.ingest.columns`)."""
    keys, matrix = fast
    steps, stamps = columns if columns is not None else (
        np.array([row[0] for row in rows], np.int64), np.array([row[1] for row in rows], np.int64))
    chunks: list[SeriesChunk] = []
    by_key = np.ascontiguousarray(matrix.T)  # one copy: each key's values contiguous
    finite = np.isfinite(matrix)
    key_finite = finite.all(axis=0).tolist()
    for j, key in enumerate(keys):
        column = Points(steps, by_key[j], stamps)
        if not key_finite[j]:
            bad = np.flatnonzero(~finite[:, j])
            first = sent_index[int(bad[0])]
            errs.add(first, f"rows[{first}][2].{key}",
                     "value must be a finite number", count=len(bad))
            column = column.take(np.flatnonzero(finite[:, j]))
        if len(column):
            chunks.append(SeriesChunk(project_id, run_id, key, column, rank))
    return chunks, int(finite.sum())


def _row_chunks(rows: Sequence[Row], project_id: str, run_id: str, rank: int | None,
                errs: ItemErrors) -> tuple[list[SeriesChunk], int]:
    """The general path: ragged rows, nulls or odd values, checked point by point."""
    groups = SeriesGroups()
    for i, (step, stamp, values) in enumerate(rows):
        if step_problem(step) or time_problem(stamp):
            continue  # already rejected and counted
        for key, raw in values.items():
            value = finite_value(raw, f"rows[{i}][2].{key}")
            problem = "value must be a finite number" if value is None else key_problem(key)
            if problem is not None:
                errs.add(i, f"rows[{i}][2].{key}", problem)
                continue
            assert value is not None
            groups.add((project_id, run_id, key), step, value, stamp)
    return groups.chunks(rank), groups.accepted
