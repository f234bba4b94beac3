"""Metric keys on PostgreSQL: a project's keys with run counts, a run's keys with point counts,
pages of a run's keys by key range (:mod:`rundial_collector.store.metric_key_order`).

``metric_key`` is ``COLLATE "C"``: keys compare and sort bytewise, as in SQLite, and every key
range is a range scan of the ``(project_id, run_id, metric_key)`` index. Only series with at
least one stored chunk are listed."""

from __future__ import annotations

from rundial_collector.store.data_base import MetricKeyInfo
from rundial_collector.store.metric_key_order import SYSTEM_END, SYSTEM_FIRST, key_ranges
from rundial_collector.store.postgres.engine import Conn

_HAS_CHUNK = "EXISTS (SELECT 1 FROM metric_chunks c WHERE c.series_id = s.series_id)"
_KEY_ORDER = (f" ORDER BY (metric_key >= '{SYSTEM_FIRST}' AND metric_key < '{SYSTEM_END}'),"
              " metric_key LIMIT $2 OFFSET $3")
_PROJECT_KEYS = ("SELECT metric_key, count(*) FROM series s WHERE project_id = $1 AND "
                 + _HAS_CHUNK + " GROUP BY metric_key" + _KEY_ORDER)
_RUN_KEYS = ("SELECT metric_key, sum(c.point_count), max(c.step_max), max(c.ts_max)"
             " FROM series s JOIN metric_chunks c ON c.series_id = s.series_id"
             " WHERE s.project_id = $1 AND s.run_id = $4 GROUP BY s.metric_key" + _KEY_ORDER)
_KEYS_IN_RANGE = ("SELECT metric_key FROM series s WHERE project_id = $1 AND run_id = $2"
                  " AND metric_key >= $3 AND ($4::text IS NULL OR metric_key < $4) AND "
                  + _HAS_CHUNK + " ORDER BY metric_key LIMIT $5")


async def metric_keys(conn: Conn, project_id: str, run_id: str | None, limit: int,
                      offset: int) -> list[MetricKeyInfo]:
    """Keys of a project (with run counts) or of one run (with point counts and last step),
    user keys first, then ``system/`` keys, each alphabetically."""
    if run_id is None:
        rows = await conn.fetch(_PROJECT_KEYS, project_id, limit, offset)
        return [MetricKeyInfo(str(key), int(runs)) for key, runs in rows]
    rows = await conn.fetch(_RUN_KEYS, project_id, limit, offset, run_id)
    return [MetricKeyInfo(str(key), 1, int(n), int(step), int(ts)) for key, n, step, ts in rows]


async def run_keys_from(conn: Conn, project_id: str, run_id: str, start_key: str, limit: int,
                        system_last: bool) -> list[str]:
    """Up to ``limit`` keys of the run with stored points from ``start_key`` on (inclusive),
    one index range scan per key range."""
    keys: list[str] = []
    for low, high in key_ranges(start_key, system_last):
        low = _without_nul(low)
        if len(keys) >= limit:
            break
        rows = await conn.fetch(_KEYS_IN_RANGE, project_id, run_id, low, high,
                                limit - len(keys))
        keys += [str(row[0]) for row in rows]
    return keys


def _without_nul(low: str) -> str:
    """A lower bound PostgreSQL can take that selects the same stored keys as ``low``: no
    stored key holds NUL, so the keys at or above ``"ab\0c"`` are those at or above
    ``"ab\1"`` (bytewise, nothing stored lies between)."""
    index = low.find("\x00")
    return low if index < 0 else low[:index] + "\x01"


async def series_exists(conn: Conn, project_id: str, run_id: str) -> bool:
    """Whether the run has at least one stored metric point in the project."""
    found = await conn.fetchval("SELECT 1 FROM series s WHERE project_id = $1 AND run_id = $2"
                                " AND " + _HAS_CHUNK + " LIMIT 1", project_id, run_id)
    return found is not None
