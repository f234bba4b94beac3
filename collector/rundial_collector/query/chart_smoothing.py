"""The chart route's optional ``smoothing`` (docs/protocol.md §4.8): smoothed values computed
over each series' full-resolution resolved points, reported where the entry has its points.

For a ``raw`` entry ``smoothed[i]`` is the smoothed value at ``steps[i]``; for a ``buckets``
entry it is the smoothed value at the bucket's last point (``stepEnd``). The smoother always
starts at the series' first point, whatever the zoom range, so a zoomed chart shows the same
curve as the whole one. ``null`` where nothing finite came yet.

Work is bounded: series are read and smoothed one at a time (one series' arrays in memory), and
at most :data:`MAX_SMOOTH_POINTS` logged points per request; an entry beyond that budget gets
``"smoothed": null`` and ``"smoothingSkipped"`` (ask for it again in a smaller request).

A smoothing slider asks for the same series again and again with another weight, so the last
resolved series are kept (:class:`ResolvedCache`, at most :data:`CACHE_POINTS` points in all),
keyed by the series and its count of logged points: any new point makes a new key, so a cached
series is never stale.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from rundial_collector.query.chart_smooth import Smoothing, smooth
from rundial_collector.query.render import off_loop
from rundial_collector.store.data_base import ChartSeries, DataStore
from rundial_collector.store.series_math import Points
from rundial_collector.web import errors

MAX_SMOOTH_POINTS = 10_000_000
MAX_WINDOW_POINTS = 1_000_000
SKIPPED = f"over this request's smoothing budget of {MAX_SMOOTH_POINTS} points"
CACHE_POINTS = 2_000_000  # ~48 MB of resolved points kept for slider moves


class ResolvedCache:
    """The most recently smoothed resolved series, least recently used evicted first, at most
    ``limit_points`` points in all (a larger series is never kept)."""

    def __init__(self, limit_points: int = CACHE_POINTS) -> None:
        self.limit_points = limit_points
        self._items: OrderedDict[tuple[object, ...], Points] = OrderedDict()
        self._points = 0

    def get(self, key: tuple[object, ...]) -> Points | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], points: Points) -> None:
        if len(points) > self.limit_points or key in self._items:
            return
        self._items[key] = points
        self._points += len(points)
        while self._points > self.limit_points:
            _key, evicted = self._items.popitem(last=False)
            self._points -= len(evicted)


_CACHE = ResolvedCache()


class SmoothingBody(msgspec.Struct):
    kind: str
    weight: float | None = None
    windowPoints: int | None = None


def check_smoothing(body: SmoothingBody) -> Smoothing:
    """The validated smoothing; a 400 naming ``smoothing.<field>`` otherwise."""
    if body.kind == "ema":
        weight = body.weight
        if weight is None or not math.isfinite(weight) or not 0.0 <= weight < 1.0:
            raise errors.invalid("smoothing.weight must be a number in [0, 1)",
                                 "smoothing.weight")
        return Smoothing("ema", weight=weight)
    if body.kind == "mean":
        window = body.windowPoints
        if window is None or not 1 <= window <= MAX_WINDOW_POINTS:
            raise errors.invalid(
                f"smoothing.windowPoints must be an integer in [1, {MAX_WINDOW_POINTS}]",
                "smoothing.windowPoints")
        return Smoothing("mean", window_points=window)
    raise errors.invalid('smoothing.kind must be "ema" or "mean"', "smoothing.kind")


def smoothed_at(resolved: Points, spec: Smoothing, chart: ChartSeries) -> np.ndarray:
    """The smoothed series sampled at the entry's points (raw) or bucket ends (buckets)."""
    values = smooth(resolved.values, spec)
    if chart.buckets is not None:
        where = chart.buckets.step_last
    else:
        assert chart.raw is not None
        where = chart.raw.steps
    index = np.searchsorted(resolved.steps, where)
    return values[np.minimum(index, max(len(values) - 1, 0))] if len(values) else values


async def add_smoothed(store: DataStore, project_id: str, refs: Sequence[tuple[str, str]],
                       charts: Sequence[ChartSeries], body: SmoothingBody
                       ) -> list[dict[str, Any] | None]:
    """The extra fields (``smoothed`` or ``smoothingSkipped``) of each found entry."""
    spec = check_smoothing(body)
    budget = MAX_SMOOTH_POINTS
    extras: list[dict[str, Any] | None] = []
    for (run_id, metric_key), chart in zip(refs, charts):
        if not chart.found:
            extras.append(None)
            continue
        if chart.logged > budget:
            extras.append({"smoothed": None, "smoothingSkipped": SKIPPED})
            continue
        budget -= chart.logged
        key = (id(store), project_id, run_id, metric_key, chart.logged)
        points = _CACHE.get(key)
        if points is None:
            points = (await store.read_series(project_id, run_id, metric_key)).points
            _CACHE.put(key, points)
        values = await off_loop(len(points), smoothed_at, points, spec, chart)
        extras.append({"smoothed": values})
    return extras
