"""Series reads for ``query/series`` and ``export/metrics``: modes, windows and key paging.

Every function works on resolved series from :meth:`DataStore.read_series` (one point per
step, the point accepted last wins). Paging walks the requested keys in order (or every key of
the run, read from the store a page at a time) and, inside a key, ascending steps; a cursor is
``[metricKey, lastStep]`` and the next page starts after it (``lastStep`` -1: at the key's
first step). A page may end exactly at the end of a key while later keys turn out to be empty,
so a final page can be empty (``hasMore`` true on the page before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rundial_collector.store.data_base import DataStore
from rundial_collector.store.series_math import Points, concat_all, downsample, in_window, tail
from rundial_collector.web import errors
from rundial_collector.web.paging import decode_cursor, is_int64

KEYS_PER_PAGE = 1000  # the most keys one page of a paged read visits


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


@dataclass(frozen=True)
class KeyScope:
    """The keys a paged read walks: ``given`` in that order, or (``given`` None) every key of
    the run with stored points, alphabetically or (``system_last``) in ``metrics/keys`` order."""

    given: Sequence[str] | None
    system_last: bool = False


def parse_key_cursor(raw: str | None, scope: KeyScope) -> tuple[str | None, int]:
    """(key, last step) to resume from; (None, -1) without a cursor; 400 when invalid."""
    if not raw:
        return None, -1
    key, step = decode_cursor(raw, 2)
    if (not isinstance(key, str) or not is_int64(step) or step < -1
            or (scope.given is not None and key not in scope.given)):
        raise errors.invalid("cursor does not belong to this query", "cursor")
    return key, step


async def keys_from(store: DataStore, target: SeriesTarget, scope: KeyScope,
                    start: str | None) -> tuple[list[str], str | None]:
    """Up to :data:`KEYS_PER_PAGE` keys of ``scope`` from ``start`` on (inclusive; the first
    key without ``start``), and the key that follows them (None when there is none)."""
    if scope.given is not None:
        index = 0 if start is None else list(scope.given).index(start)
        keys = list(scope.given[index:index + KEYS_PER_PAGE + 1])
    else:
        keys = await store.run_keys_from(target.project_id, target.run_id, start or "",
                                         KEYS_PER_PAGE + 1, scope.system_last)
    return keys[:KEYS_PER_PAGE], keys[KEYS_PER_PAGE] if len(keys) > KEYS_PER_PAGE else None


async def key_page(store: DataStore, target: SeriesTarget, scope: KeyScope,
                   cursor: str | None, limit: int,
                   window: tuple[int, int] | None = None) -> KeyPage:
    """Up to ``limit`` points across the keys of ``scope`` from ``cursor`` (optionally inside a
    timestamp window); keys without points in the page get no entry.

    Each key is read a page at a time (:meth:`DataStore.read_series_page`), so a page costs
    about its own points even when the series is far larger than the page, and a page visits
    at most :data:`KEYS_PER_PAGE` keys (it then ends early, with a cursor), so a run with
    any number of keys is exported whole without unbounded work per request.
    """
    start, last_step = parse_key_cursor(cursor, scope)
    keys, following = await keys_from(store, target, scope, start)
    if not keys or keys[0] != start:
        last_step = -1  # the cursor's key has no points (any more): start at the next key
    out: list[tuple[str, Points]] = []
    remaining = limit
    for i, key in enumerate(keys):
        points = await _points_after(store, target, key, last_step if i == 0 else -1,
                                     remaining + 1, window)
        if len(points) > remaining:
            points = points.take(slice(0, remaining))
            out.append((key, points))
            return KeyPage(out, [key, int(points.steps[-1])])
        if len(points):
            out.append((key, points))
        remaining -= len(points)
        if remaining == 0:
            following = keys[i + 1] if i + 1 < len(keys) else following
            break
    return KeyPage(out, None if following is None else [following, -1])


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
