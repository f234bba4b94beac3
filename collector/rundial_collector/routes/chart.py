"""``POST /api/v1/query/chart``: many series bucketed for charts in one request (docs/protocol.md §4.8).

Body: ``{"projectId", "series": [{"runId", "metricKey"}, …], "buckets", "startStep"?,
"endStep"?, "smoothing"?, "smoothedOnly"?}``. Each series comes back, in request order, either as min/max/last buckets over
the step range or, when its resolved points in range fit ``buckets``, as those points (``mode``
``raw``); an unknown run or key is an entry with ``mode`` ``empty`` and a ``reason``, never an
error. Same auth as ``query/series`` (``project:read``). Bad input → 400 naming the field. The
reply is bounded: at most :data:`MAX_SERIES` series of at most :data:`MAX_BUCKETS` buckets each,
and at most :data:`MAX_TOTAL_BUCKETS` buckets in all. With ``smoothing`` every found entry also
carries ``smoothed`` (see :mod:`rundial_collector.query.chart_smoothing`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import orjson
from aiohttp import web

from rundial_collector.query.render import off_loop
from rundial_collector.query.chart_smoothing import SmoothingBody, add_smoothed, check_smoothing
from rundial_collector.store.data_base import ChartSeries, DataStore
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import authenticate, resolve_project
from rundial_collector.web.intbounds import Int64
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.servertiming import timed

READ_SCOPE = "project:read"
MAX_SERIES = 400
MAX_BUCKETS = 4000
MAX_TOTAL_BUCKETS = 500_000  # ~25 MB of JSON at most per reply
_NUMPY = orjson.OPT_SERIALIZE_NUMPY  # NaN (an all-NaN bucket's min/max) renders as null


class SeriesRef(msgspec.Struct):
    runId: str
    metricKey: str


class ChartQuery(msgspec.Struct):
    projectId: str
    series: list[SeriesRef]
    buckets: int = 1000
    startStep: Int64 | None = None
    endStep: Int64 | None = None
    x: str = "step"
    smoothing: SmoothingBody | None = None
    smoothedOnly: bool = False


def setup_routes(app: web.Application) -> None:
    """Register the chart-data route."""
    app.router.add_post("/api/v1/query/chart", query_chart)


def _check(query: ChartQuery) -> None:
    """400 naming the field for every bound the body breaks."""
    if query.x != "step":
        raise errors.invalid("x must be \"step\" (wall times come with every point)", "x")
    if not 1 <= query.buckets <= MAX_BUCKETS:
        raise errors.invalid(f"buckets must be between 1 and {MAX_BUCKETS}", "buckets")
    if not 1 <= len(query.series) <= MAX_SERIES:
        raise errors.invalid(f"series must name between 1 and {MAX_SERIES} series", "series")
    if len(query.series) * query.buckets > MAX_TOTAL_BUCKETS:
        raise errors.invalid(f"series x buckets must not exceed {MAX_TOTAL_BUCKETS}", "buckets")
    for i, ref in enumerate(query.series):
        if not ref.runId.strip() or not ref.metricKey:
            raise errors.invalid("runId and metricKey must not be empty", f"series[{i}]")
    if (query.startStep is not None and query.endStep is not None
            and query.startStep > query.endStep):
        raise errors.invalid("startStep must not be after endStep", "endStep")
    if query.smoothing is not None:
        check_smoothing(query.smoothing)
    elif query.smoothedOnly:
        raise errors.invalid("smoothedOnly needs smoothing", "smoothedOnly")


async def query_chart(request: web.Request) -> web.Response:
    """``{"projectId", "buckets", "startStep", "endStep", "series": [...]}``."""
    principal = await authenticate(request)
    query = await decode_body(request, ChartQuery)
    _check(query)
    ref = await resolve_project(request, principal, project_id=query.projectId)
    principal.require(READ_SCOPE, ref)
    store = request.app[STORE]
    with timed(request, "store"):
        charts = await asyncio.gather(*(
            store.read_chart(ref.project_id, s.runId, s.metricKey, query.startStep,
                             query.endStep, query.buckets) for s in query.series))
    with timed(request, "smooth"):
        smoothed = (await add_smoothed(store, ref.project_id, [(s.runId, s.metricKey) for s in
                                                               query.series], charts,
                                       query.smoothing)
                    if query.smoothing is not None else [None] * len(charts))
    with timed(request, "render"):
        bodies = await off_loop(sum(map(_values_in, charts)), _render_found, query.series,
                                charts, smoothed, query.smoothedOnly)
    entries = [body if body is not None else await _empty_entry(store, ref.project_id, s)
               for s, body in zip(query.series, bodies)]
    return json_response(request, {"projectId": ref.project_id, "buckets": query.buckets,
                                   "startStep": query.startStep, "endStep": query.endStep,
                                   "series": entries})


def _values_in(chart: ChartSeries) -> int:
    """How many values one series' reply holds (the render's size, for :func:`off_loop`)."""
    if chart.buckets is not None:
        return 7 * len(chart.buckets.count)
    return 3 * len(chart.raw.steps) if chart.raw is not None else 0


def _render_found(series: list[SeriesRef], charts: list[ChartSeries],
                  smoothed: list[dict[str, Any] | None],
                  smoothed_only: bool) -> list[orjson.Fragment | None]:
    """Each found series as a JSON fragment, None for the others (pure: may run off the loop).
    ``smoothed_only``: the entry keeps its mode and counts but not its point arrays."""
    def body(ref: SeriesRef, chart: ChartSeries, extra: dict[str, Any] | None) -> bytes:
        fields = chart_body(chart)
        if smoothed_only:
            fields = {name: value for name, value in fields.items() if name in _KEPT}
        return orjson.dumps({"runId": ref.runId, "metricKey": ref.metricKey, **fields,
                             **(extra or {})}, option=_NUMPY)

    return [orjson.Fragment(body(ref, chart, extra)) if chart.found else None
            for ref, chart, extra in zip(series, charts, smoothed)]


_KEPT = frozenset(("pointsLogged", "pointsInRange", "duplicatesResolved", "firstStep",
                   "lastStep", "mode"))


async def _empty_entry(store: DataStore, project_id: str, ref: SeriesRef) -> orjson.Fragment:
    """The entry of a series with no points: why it is empty, for the UI's empty state."""
    known = await store.run_known(project_id, ref.runId)
    reason = "no points logged for this key" if known else "unknown run"
    return orjson.Fragment(orjson.dumps({"runId": ref.runId, "metricKey": ref.metricKey,
                                         "mode": "empty", "reason": reason, "pointsLogged": 0,
                                         "pointsInRange": 0, "duplicatesResolved": 0}))


def chart_body(chart: ChartSeries) -> dict[str, Any]:
    """The JSON fields of one found series (numpy arrays; render with OPT_SERIALIZE_NUMPY)."""
    body: dict[str, Any] = {"pointsLogged": chart.logged, "pointsInRange": chart.in_range,
                            "duplicatesResolved": chart.superseded,
                            "firstStep": chart.first_step, "lastStep": chart.last_step}
    if chart.buckets is None:
        raw = chart.raw
        assert raw is not None
        return {**body, "mode": "raw", "steps": raw.steps, "values": raw.values,
                "timestampsMs": raw.timestamps}
    b = chart.buckets
    return {**body, "mode": "buckets", "stepStart": b.step_first, "stepEnd": b.step_last,
            "min": b.minimum, "max": b.maximum, "last": b.last, "lastTimestampMs": b.last_ts,
            "count": b.count}
