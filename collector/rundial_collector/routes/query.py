"""Read routes (v1 doc §7.1-7.5, docs/protocol.md §3, §4.3, §4.6), all needing ``project:read``.

* ``GET /api/v1/metrics/keys``: keys of a project or run (user keys first, then ``system/``).
* ``POST /api/v1/query/series``: per key ``tail`` (last N by step, ascending; the default),
  ``downsample`` (min, max and last per step bucket; at most N) or ``full`` (every point,
  paged with ``cursor``/``page``). Without ``metricKeys`` the run's keys are paged too (at most
  1,000 per reply), so every key is reachable.
* ``POST /api/v1/export/metrics``: step-deduplicated rows whose ``timestampMs`` lies in
  ``[startMs, endMs]``, keys alphabetically (all of the run's without ``metricKeys``) then by
  step, paged; JSON or CSV.
* ``POST /api/v1/query/logs`` (newest first) and ``POST /api/v1/export/logs`` (oldest first,
  window on ``timestampMs``), keyset-paged; export as JSON or CSV.

Unknown project → 404; key without access → 403; unknown run (no runs row and no stored data)
→ 404; bad input → 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rundial_collector.query.metrics import (KeyScope, SeriesTarget, key_page, keys_from,
                                             parse_key_cursor, shaped_series)
from rundial_collector.query.render import (export_rows_text, log_row_dict, logs_csv, metrics_csv,
                                            off_loop, points_json, series_points)
from rundial_collector.query.schemas import (MAX_EXPORT_LOG_ROWS, MAX_LOG_ROWS, MAX_POINTS,
                                             LogsExport, LogsQuery, MetricsExport, SeriesQuery)
from rundial_collector.store.data_base import LEVEL_RANK, LogQuery, LogRow
from rundial_collector.store.errors import has_nul
from rundial_collector.store.series_math import Points
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import Principal, ProjectRef, authenticate, resolve_project
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import decode_cursor, is_int64, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response, json_response_spliced

READ_SCOPE = "project:read"
MAX_KEYS = 1000  # largest metrics/keys page, and the most metricKeys one series query names
MAX_REPLY_POINTS = 1_000_000  # tail/downsample: the per-series budget shrinks to fit this
CURSOR_HEADER = "x-rundial-next-cursor"


def setup_routes(app: web.Application) -> None:
    """Register the query and export routes."""
    app.router.add_get("/api/v1/metrics/keys", metric_keys)
    app.router.add_post("/api/v1/query/series", query_series)
    app.router.add_post("/api/v1/export/metrics", export_metrics)
    app.router.add_post("/api/v1/query/logs", query_logs)
    app.router.add_post("/api/v1/export/logs", export_logs)


async def _readable(request: web.Request, principal: Principal, project: str,
                    run_id: str | None) -> ProjectRef:
    """Resolve the project, require read access and (when given) a known run."""
    ref = await resolve_project(request, principal, project_id=project)
    principal.require(READ_SCOPE, ref)
    if run_id is not None and not await request.app[STORE].run_known(ref.project_id, run_id):
        raise errors.not_found(f"run {run_id} was not found in project {ref.project_slug}")
    return ref


async def metric_keys(request: web.Request) -> web.Response:
    """``{"keys": [{"metricKey", …}], "page"}``; ``runId`` narrows to one run."""
    principal = await authenticate(request)
    project = request.query.get("projectId", "").strip()
    if not project:
        raise errors.invalid("projectId is required", "projectId")
    run_id = request.query.get("runId", "").strip() or None
    limit = parse_limit(request, 8, MAX_KEYS)
    offset = _offset(query_cursor(request, 1))
    ref = await _readable(request, principal, project, run_id)
    found = await request.app[STORE].metric_keys(ref.project_id, run_id, limit + 1, offset)
    keys = [_key_dict(info, run_id is not None) for info in found[:limit]]
    more = len(found) > limit
    return json_response(request, {"projectId": ref.project_id, "runId": run_id, "keys": keys,
                                   "page": page(more, [offset + limit])})


def _offset(cursor: list[Any] | None) -> int:
    if cursor is None:
        return 0
    if not is_int64(cursor[0]) or cursor[0] < 0:
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return int(cursor[0])


def _key_dict(info: Any, run_scoped: bool) -> dict[str, Any]:
    if not run_scoped:
        return {"metricKey": info.metric_key, "runCount": info.run_count}
    return {"metricKey": info.metric_key, "pointCount": info.point_count,
            "lastStep": info.last_step, "lastTimestampMs": info.last_timestamp_ms}


def _given_keys(given: list[str] | None) -> list[str] | None:
    """The requested keys with duplicates dropped (order kept); None when none were given."""
    if given is None:
        return None
    if len(given) > MAX_KEYS:
        raise errors.invalid(f"at most {MAX_KEYS} metricKeys per request", "metricKeys")
    return list(dict.fromkeys(given))


async def _shaped_keys(request: web.Request, target: SeriesTarget, query: SeriesQuery,
                       payload: dict[str, Any]) -> list[str]:
    """The keys of a ``tail``/``downsample`` reply: the requested ones, or else the run's next
    ``KEYS_PER_PAGE`` keys from ``cursor`` (and the reply then carries ``page``)."""
    given = _given_keys(query.metricKeys)
    if given is not None:
        return given
    scope = KeyScope(None, system_last=True)
    start, _ = parse_key_cursor(query.cursor, scope)
    keys, following = await keys_from(request.app[STORE], target, scope, start)
    payload["page"] = page(following is not None, [following, -1])
    return keys


async def query_series(request: web.Request) -> web.Response:
    """``{"runId", "mode", "series": [{"metricKey", "points", …}], "page"?}``."""
    principal = await authenticate(request)
    query = await decode_body(request, SeriesQuery)
    ref = await _readable(request, principal, query.projectId, query.runId)
    target = SeriesTarget(ref.project_id, query.runId, query.rank)
    limit = min(query.maxPointsPerSeries, MAX_POINTS)
    payload: dict[str, Any] = {"projectId": ref.project_id, "runId": query.runId,
                               "mode": query.mode}
    if query.mode == "full":
        if query.order != "asc":
            raise errors.invalid("mode full pages in ascending step order only", "order")
        scope = KeyScope(_given_keys(query.metricKeys), system_last=True)
        found = await key_page(request.app[STORE], target, scope, query.cursor, limit)
        payload["series"] = await off_loop(series_points(found.series), _series_json,
                                           found.series)
        payload["page"] = page(found.next_cursor is not None, found.next_cursor)
        return json_response(request, payload)
    keys = await _shaped_keys(request, target, query, payload)
    budget = max(1, min(limit, MAX_REPLY_POINTS // max(1, len(keys))))
    payload["series"] = [await _shaped(request, target, key, query, budget) for key in keys]
    return json_response(request, payload)


async def _shaped(request: web.Request, target: SeriesTarget, key: str, query: SeriesQuery,
                  budget: int) -> dict[str, Any]:
    points, total, superseded = await shaped_series(request.app[STORE], target, key,
                                                    query.mode, budget)
    if query.order == "desc":
        points = points.take(slice(None, None, -1))
    return {"metricKey": key, "points": await off_loop(len(points), points_json, points),
            "totalPoints": total, "supersededPoints": superseded}


def _series_json(series: list[tuple[str, Points]]) -> list[dict[str, Any]]:
    return [{"metricKey": key, "points": points_json(p)} for key, p in series]


async def export_metrics(request: web.Request) -> web.Response:
    """One page of step-deduplicated rows in the timestamp window (JSON or CSV)."""
    principal = await authenticate(request)
    query = await decode_body(request, MetricsExport)
    _check_window(query.startMs, query.endMs)
    ref = await _readable(request, principal, query.projectId, query.runId)
    given = _given_keys(query.metricKeys)
    scope = KeyScope(None if given is None else sorted(given))
    target = SeriesTarget(ref.project_id, query.runId, query.rank)
    found = await key_page(request.app[STORE], target, scope, query.cursor,
                           min(query.limit, MAX_POINTS), (query.startMs, query.endMs))
    size = series_points(found.series)
    if query.format == "csv":
        body = await off_loop(size, metrics_csv, found.series, not query.cursor)
        return _csv(body, found.next_cursor)
    rows = await off_loop(size, export_rows_text, found.series)
    return json_response_spliced(request, {"projectId": ref.project_id, "runId": query.runId,
                                           "rows": None, "page": page(
                                               found.next_cursor is not None,
                                               found.next_cursor)}, "rows", rows)


def _check_window(start_ms: int, end_ms: int) -> None:
    if start_ms > end_ms:
        raise errors.invalid("startMs must not be after endMs", "endMs")


def _csv(body: bytes, next_values: list[Any] | None) -> web.Response:
    """A CSV page; the next page's cursor travels in the ``x-rundial-next-cursor`` header."""
    next_cursor = page(next_values is not None, next_values)["nextCursor"] or ""
    return web.Response(body=body, content_type="text/csv", charset="utf-8",
                        headers={CURSOR_HEADER: next_cursor})


async def query_logs(request: web.Request) -> web.Response:
    """``{"runId", "rows": [...], "page"}``, newest first unless ``order`` is ``asc``."""
    principal = await authenticate(request)
    query = await decode_body(request, LogsQuery)
    if query.startMs is not None and query.endMs is not None:
        _check_window(query.startMs, query.endMs)
    ref = await _readable(request, principal, query.projectId, query.runId)
    rows, next_values = await _log_page(request, LogQuery(
        ref.project_id, query.runId, min(query.limit, MAX_LOG_ROWS),
        newest_first=query.order == "desc", min_level=LEVEL_RANK[query.minLevel],
        text=query.text or None, start_ms=query.startMs, end_ms=query.endMs,
        after=_log_cursor(query.cursor)))
    return json_response(request, {"projectId": ref.project_id, "runId": query.runId,
                                   "rows": [log_row_dict(r) for r in rows],
                                   "page": page(next_values is not None, next_values)})


async def export_logs(request: web.Request) -> web.Response:
    """One page of log lines in ``[startMs, endMs]``, oldest first (JSON or CSV)."""
    principal = await authenticate(request)
    query = await decode_body(request, LogsExport)
    _check_window(query.startMs, query.endMs)
    ref = await _readable(request, principal, query.projectId, query.runId)
    rows, next_values = await _log_page(request, LogQuery(
        ref.project_id, query.runId, min(query.limit, MAX_EXPORT_LOG_ROWS),
        newest_first=False, min_level=LEVEL_RANK[query.minLevel], text=query.text or None,
        start_ms=query.startMs, end_ms=query.endMs, after=_log_cursor(query.cursor)))
    if query.format == "csv":
        return _csv(logs_csv(rows, header=not query.cursor), next_values)
    return json_response(request, {"projectId": ref.project_id, "runId": query.runId,
                                   "rows": [log_row_dict(r) for r in rows],
                                   "page": page(next_values is not None, next_values)})


async def _log_page(request: web.Request, query: LogQuery
                    ) -> tuple[list[LogRow], list[Any] | None]:
    """Rows of one page and the cursor values of the next page (None at the end). A ``text``
    holding NUL matches no line, on every backend (no stored line holds one)."""
    if has_nul(query.text):
        return [], None
    rows, more = await request.app[STORE].query_logs(query)
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, [last.timestamp_ms, last.sequence, last.log_id]


def _log_cursor(raw: str | None) -> tuple[int, int, int] | None:
    if not raw:
        return None
    values = decode_cursor(raw, 3)
    if not all(is_int64(v) for v in values):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return values[0], values[1], values[2]
