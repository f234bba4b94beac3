"""The store's keyset walk over a run's metric keys (``run_keys_from``), against sorted lists.

Every key of the run can be reached a page at a time from any start key, in ``metrics/keys``
order (user keys, then keys starting with exactly ``system/``) or alphabetically.
"""

from __future__ import annotations

import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points
from rundial_collector.store.sqlite.metrics import (METRICS_SCHEMA, metric_keys, run_keys_from,
                                                    write_chunks)

# Keys on both sides of the system/ range: "System/x" and "system0" are user keys.
NAMES = st.sampled_from(["a", "Z", "system", "system/", "system/cpu", "system/gpu.0", "system0",
                         "system0x", "System/x", "systems", "zeta", "é", "b/c"])


def _store(with_points: set[str], without_points: set[str]) -> sqlite3.Connection:
    """A run ("p", "r") whose ``with_points`` keys hold a point; ``without_points`` have a series
    row but no chunk (they must not be listed); one key of another run."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(METRICS_SCHEMA[0])
    one = Points(np.zeros(1, np.int64), np.zeros(1), np.zeros(1, np.int64))
    write_chunks(conn, [SeriesChunk("p", "r", key, one) for key in sorted(with_points)]
                 + [SeriesChunk("p", "other", "a", one)], now_ms=0)
    conn.executemany("INSERT OR IGNORE INTO series (project_id, run_id, metric_key)"
                     " VALUES ('p', 'r', ?)", [(key,) for key in without_points])
    return conn


def _walk(conn: sqlite3.Connection, start: str, limit: int, system_last: bool) -> list[str]:
    """Every key from ``start`` on, ``limit`` at a time, each page starting at the key after."""
    keys: list[str] = []
    while True:
        batch = run_keys_from(conn, "p", "r", start, limit + 1, system_last)
        keys += batch[:limit]
        if len(batch) <= limit:
            return keys
        start = batch[limit]


@given(st.sets(NAMES), st.sets(NAMES), NAMES | st.just(""), st.integers(1, 4))
@settings(max_examples=150)
def test_walks_every_key_in_order_from_any_start(with_points: set[str],
                                                 without_points: set[str], start: str,
                                                 limit: int) -> None:
    """Paged walks equal the sorted key lists from ``start`` on, in both orders, and the
    metrics/keys order is the same as metrics/keys lists."""
    conn = _store(with_points, without_points - with_points)
    listed = [info.metric_key for info in metric_keys(conn, "p", "r", 100, 0)]
    system_order = sorted(with_points, key=lambda k: (k.startswith("system/"), k))
    assert listed == system_order
    assert _walk(conn, "", limit, True) == system_order
    rank = {key: i for i, key in enumerate(sorted({*system_order, start},
                                                  key=lambda k: (k.startswith("system/"), k)))}
    assert _walk(conn, start, limit, True) == [k for k in system_order if rank[k] >= rank[start]]
    assert _walk(conn, start, limit, False) == sorted(k for k in with_points if k >= start)
