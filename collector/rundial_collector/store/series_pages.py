"""Paging a resolved series without loading all of it, backend-neutral (the design is in
:mod:`rundial_collector.store.sqlite.series_page`): where a page's step window ends
(:func:`upper_for`) and the resolved points of a window (:func:`resolved_between`). A store
reads the chunks whose step range meets ``(after, upper]`` in chunk-id order."""

from __future__ import annotations

from collections.abc import Iterator

from rundial_collector.store.series_math import Points, after_step, resolve

MAX_WIDENINGS = 64  # the budget doubles each time; 64 doublings cover any int64 count
ChunkRange = tuple[int, int, int]  # step_min, step_max, point_count


def upper_for(ranges: list[ChunkRange], budget: int) -> int:
    """The ``step_max`` of the chunk (walked by ``step_min``) where counts reach ``budget``."""
    total, upper = 0, ranges[0][1]
    for _step_min, step_max, count in ranges:
        total += count
        upper = max(upper, step_max)
        if total >= budget:
            break
    return upper


def windows(ranges: list[ChunkRange], limit: int) -> Iterator[int]:
    """The upper ends of the windows a page tries in turn, lazily (each doubles the point
    budget; the last one is the last step of every chunk, so the page is then complete)."""
    last = max(step_max for _a, step_max, _c in ranges)
    budget = limit
    for _ in range(MAX_WIDENINGS):
        upper = upper_for(ranges, budget)
        yield upper
        if upper >= last:
            return
        budget *= 2
    yield last


def resolved_between(raw: Points, after: int, upper: int) -> Points:
    """Resolved points of ``raw`` (chunk-id order) with ``after < step <= upper``."""
    points = after_step(resolve(raw), after)
    end = int(points.steps.searchsorted(upper, side="right"))
    return points if end == len(points) else points.take(slice(0, end))
