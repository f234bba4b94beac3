"""Series reads for ``query/series`` and ``export/metrics``: modes, windows and key paging.

Every function works on resolved series from :meth:`DataStore.read_series` (one point per
step, the point accepted last wins). Paging walks the requested keys in order and, inside a
key, ascending steps; a cursor is ``[metricKey, lastStep]`` and the next page starts after it.
A page may end exactly at the end of a key while later keys turn out to be empty, so a final
page can be empty (``hasMore`` false).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rundial_collector import errors
from rundial_collector.intbounds import cursor_ints
from rundial_collector.paging import decode_cursor
from rundial_collector.store.data_base import DataStore
from rundial_collector.store.series_math import Points, concat_all, downsample, in_window, tail


@dataclass(frozen=True)
class SeriesTarget:
    """Which run (and optional writer rank) a read addresses."""

    project_id: str
    run_id: str
    rank: int | None = None


@dataclass(frozen=True)
class KeyPage:
    """One page: (key, points) in order, and the cursor values of the next page (or None)."""

    series: list[tuple[str, Points]]
    next_cursor: list[Any] | None


async def shaped_series(store: DataStore, target: SeriesTarget, key: str, mode: str,
                        max_points: int) -> tuple[Points, int, int]:
    """(points, resolved count, superseded count) of one key in ``tail``/``downsample`` mode."""
    resolved = await store.read_series(target.project_id, target.run_id, key, target.rank)
    points = resolved.points
    shaped = downsample(points, max_points) if mode == "downsample" else tail(points, max_points)
    return shaped, len(points), resolved.superseded


def parse_key_cursor(raw: str | None, keys: Sequence[str]) -> tuple[int, int]:
    """(key index, last step) to resume from; (0, -1) without a cursor; 400 when invalid."""
    if not raw:
        return 0, -1
    key, step = decode_cursor(raw, 2)
    if not isinstance(key, str) or not cursor_ints([step]) or key not in keys:
        raise errors.invalid("cursor does not belong to this query", "cursor")
    return keys.index(key), step


async def key_page(store: DataStore, target: SeriesTarget, keys: Sequence[str],
                   cursor: str | None, limit: int,
                   window: tuple[int, int] | None = None) -> KeyPage:
    """Up to ``limit`` points across ``keys`` from ``cursor`` (optionally a timestamp window).

    Each key is read a page at a time (:meth:`DataStore.read_series_page`), so a page costs
    about its own points even when the series is far larger than the page.
    """
    index, last_step = parse_key_cursor(cursor, keys)
    out: list[tuple[str, Points]] = []
    remaining = limit
    for i in range(index, len(keys)):
        points = await _points_after(store, target, keys[i], last_step, remaining + 1, window)
        last_step = -1
        if len(points) > remaining:
            points = points.take(slice(0, remaining))
            out.append((keys[i], points))
            return KeyPage(out, [keys[i], int(points.steps[-1])])
        out.append((keys[i], points))
        remaining -= len(points)
        if remaining == 0:
            more = i + 1 < len(keys)
            return KeyPage(out, [keys[i + 1], -1] if more else None)
    return KeyPage(out, None)


async def _points_after(store: DataStore, target: SeriesTarget, key: str, after: int, want: int,
                        window: tuple[int, int] | None) -> Points:
    """Up to ``want`` resolved points of ``key`` above step ``after`` (inside ``window``);
    fewer only when the key has no more."""
    found: list[Points] = []
    count = 0
    while count < want:
        page = await store.read_series_page(target.project_id, target.run_id, key, target.rank,
                                            after, want)
        chosen = in_window(page, *window) if window is not None and len(page) else page
        found.append(chosen)
        count += len(chosen)
        if len(page) < want:
            break
        after = int(page.steps[-1])
    return concat_all(found).take(slice(0, want))
