"""Large query/export pages render on a worker thread, never on the event loop."""

from __future__ import annotations

import threading

import numpy as np
import orjson

from rundial_collector.query.render import (INLINE_RENDER_POINTS, export_rows_json, off_loop,
                                            series_points)
from rundial_collector.store.series_math import Points


def _points(n: int) -> Points:
    steps = np.arange(n, dtype=np.int64)
    return Points(steps, steps * 0.5, steps + 1_700_000_000_000)


async def test_large_pages_render_on_another_thread_with_identical_bytes() -> None:
    """Above the inline bound the renderer runs off the loop thread and returns the same bytes."""
    series = [("loss", _points(INLINE_RENDER_POINTS + 1))]
    seen: list[int] = []

    def render(s: list[tuple[str, Points]]) -> bytes:
        seen.append(threading.get_ident())
        return orjson.dumps(export_rows_json(s))

    rendered = await off_loop(series_points(series), render, series)
    assert seen and seen[0] != threading.get_ident()
    assert rendered == orjson.dumps(export_rows_json(series))
    assert orjson.loads(rendered)[-1]["step"] == INLINE_RENDER_POINTS


async def test_small_pages_render_inline() -> None:
    """At or below the bound the renderer runs on the loop thread (no hand-off cost)."""
    seen: list[int] = []
    await off_loop(INLINE_RENDER_POINTS, lambda: seen.append(threading.get_ident()))
    assert seen == [threading.get_ident()]
