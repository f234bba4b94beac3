"""Per-item checks shared by the ingest routes: counting rejections, value rules, grouping.

Contract: an item with a bad value (non-finite or null value, negative or non-integer step,
out-of-range timestamp, empty or over-long key or run id) or in a project the key may not write
is **rejected and counted**, never the whole request. A value of a non-numeric JSON type (a
string, array or object) is a structural error: :class:`ApiError` 400 naming the field.
Points are grouped by canonical series (never by ``context`` or by how the project is spelled)
and keep request order across that series' chunks, so a later duplicate step wins at read time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points
from rundial_collector.web import errors

MAX_INT64 = 2**63 - 1
MAX_METRIC_KEY_CHARS = 512
MAX_RUN_ID_CHARS = 128
MAX_REPORTED_ERRORS = 20  # only the first errors are listed in a reply; all are counted
NOT_AUTHORISED = "this API key may not write to this project (or it does not exist)"

SeriesKey = tuple[str, str, str]  # canonical project id, run id, metric key


@dataclass
class ItemErrors:
    """Counts rejected items and keeps the first :data:`MAX_REPORTED_ERRORS` explanations.

    ``unauthorised`` counts the items rejected because of their project (a subset of
    ``rejected``), so a handler can answer 403 when no item at all was writable.
    """

    rejected: int = 0
    unauthorised: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, index: int, path: str, message: str, count: int = 1) -> None:
        self.rejected += count
        if len(self.details) < MAX_REPORTED_ERRORS:
            self.details.append({"index": index, "field": path, "message": message})

    def refuse(self, index: int, path: str, count: int = 1) -> None:
        """Reject ``count`` items because the key may not write their project."""
        self.unauthorised += count
        self.add(index, path, NOT_AUTHORISED, count)


class _Item(Protocol):
    @property
    def projectId(self) -> str | None: ...


def authorised_items(items: Iterable[_Item], projects: Mapping[str, str | None], kind: str,
                     errs: ItemErrors) -> list[tuple[int, str, Any]]:
    """(index, canonical project id, item) of the items the key may write; others counted.

    ``projects`` maps each sent ``projectId`` to the canonical id, or None when not writable.
    """
    out: list[tuple[int, str, Any]] = []
    for i, item in enumerate(items):
        project = None if item.projectId is None else projects.get(item.projectId)
        if project is None:
            errs.refuse(i, f"{kind}[{i}].projectId")
        else:
            out.append((i, project, item))
    return out


def run_id_problem(run_id: str) -> str | None:
    """Why ``run_id`` is not a valid run id (docs/protocol.md §1), or None."""
    if not 0 < len(run_id) <= MAX_RUN_ID_CHARS or "/" in run_id or "\x00" in run_id:
        return f"runId must be 1-{MAX_RUN_ID_CHARS} characters without '/' or NUL"
    return None


def step_problem(step: int | float) -> str | None:
    """Why ``step`` is not a valid step (a non-negative integer in int64), or None."""
    if isinstance(step, float) and not step.is_integer():
        return "step must be an integer"
    if not 0 <= step <= MAX_INT64:
        return "step must be between 0 and 2^63-1"
    return None


def time_problem(timestamp_ms: int) -> str | None:
    """Why ``timestamp_ms`` is out of range, or None."""
    return None if 0 <= timestamp_ms <= MAX_INT64 else "timestampMs must be between 0 and 2^63-1"


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid metric key, or None."""
    if 0 < len(key) <= MAX_METRIC_KEY_CHARS and "\x00" not in key:
        return None
    return f"metric key must be 1-{MAX_METRIC_KEY_CHARS} characters without NUL"


def finite_value(value: Any, path: str) -> float | None:
    """The value as a float, None when null/non-finite; 400 for a non-numeric JSON type."""
    if value is None:
        return None
    if not isinstance(value, (int, float)):
        raise errors.invalid(f"a metric value must be a number, got {type(value).__name__}",
                             path)
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def numeric_array(values: list[Any], ndim: int) -> np.ndarray | None:
    """``values`` as a numeric (bool, int or float) array of ``ndim`` dimensions, or None.

    None when any value is not a plain number: a string, an object, a nested array (of any
    shape, ragged included) or an integer beyond 64 bits. The caller then takes its
    item-by-item path, which explains each such value (:func:`finite_value`).
    """
    try:
        array = np.array(values)
    except (ValueError, TypeError):  # ragged nesting: "inhomogeneous shape"
        return None
    return array if array.dtype.kind in "fib" and array.ndim == ndim else None


class SeriesGroups:
    """Accumulates (step, value, timestamp) per series, in arrival order (the slow paths).

    Points are grouped by their canonical series only; the ``context`` of rc1 points does not
    split a series. Consecutive points of one series with the same context form one chunk, and
    a change of context starts the next chunk of that series, so the series' chunks, stored in
    list order, keep the request's item order and the last item of a step wins at read time.
    """

    def __init__(self) -> None:
        self.segments: dict[SeriesKey, list[_Segment]] = {}
        self.accepted = 0

    def add(self, series: SeriesKey, step: int, value: float, timestamp_ms: int,
            context: str | None = None) -> None:
        segments = self.segments.setdefault(series, [])
        if not segments or segments[-1].context != context:
            segments.append(_Segment(context))
        segment = segments[-1]
        segment.steps.append(step)
        segment.values.append(value)
        segment.stamps.append(timestamp_ms)
        self.accepted += 1

    def chunks(self, rank: int | None) -> list[SeriesChunk]:
        """The chunks of every series seen, each series' chunks in arrival order, ``rank`` on
        each."""
        return [SeriesChunk(project, run, key, Points(np.array(s.steps, np.int64),
                                                      np.array(s.values, np.float64),
                                                      np.array(s.stamps, np.int64)),
                            rank, s.context)
                for (project, run, key), segments in self.segments.items() for s in segments]


@dataclass
class _Segment:
    """Consecutive points of one series that share one context."""

    context: str | None
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
