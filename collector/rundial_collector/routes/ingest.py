"""Ingest routes: ``POST /api/v1/ingest/{metrics,logs,traces}`` (v1 doc §5, docs §3-4.2);
metrics also as a columnar body (docs/protocol.md §4.16, :mod:`.ingest_formats`).

Every route: authenticate (401), read the body with the decompressed limit (413/415/400),
decode it (400 with ``details.field`` on a wrong type or shape), authorise **each item** by its
project (an item the key may not write is rejected and counted; when no item at all is
writable, 403), reject bad items one by one, then store everything else in **one** write job
and answer only after COMMIT: 202 ``{"accepted", "rejected", "requestId", "errors"?}``. A full
write queue is a 429 with ``Retry-After``. A repeated ``Idempotency-Key`` stores nothing and
answers 200 ``{"accepted", "duplicate": true, "requestId"}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

import orjson
from aiohttp import web

from rundial_collector.ingest.columns import (COLUMNS, ColumnsDecoder, ColumnsHeader,
                                              chunks_from_columns)
from rundial_collector.ingest.items import ItemErrors, run_id_problem
from rundial_collector.ingest.logs_spans import lines_from_body, spans_from_body
from rundial_collector.ingest.points import chunks_from_points
from rundial_collector.ingest.rows import chunks_from_rows
from rundial_collector.ingest.schemas import (LOGS, METRICS, TRACES, BodyDecoder, BodyTarget,
                                              FloatRowsBody, LineIn, MetricsBody)
from rundial_collector.live import hub  # live: publish after commit
from rundial_collector.routes.ingest_formats import announce_formats, is_columns
from rundial_collector.store.data_base import Diagnostics, IngestBatch, SeriesChunk
from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG, STORE
from rundial_collector.web.auth import Principal, authenticate, resolve_project
from rundial_collector.web.body import read_body
from rundial_collector.web.intbounds import MAX_INT64
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

T = TypeVar("T")
OFF_LOOP_BYTES = 256 * 1024  # bodies at least this big are decoded/grouped on a worker thread
MAX_IDEMPOTENCY_KEY_CHARS = 200
MAX_DIAGNOSTICS_BYTES = 64 * 1024  # a bigger clientDiagnostics object is not kept
MAX_PROJECTS_PER_REQUEST = 100  # distinct project references one body may name
_UNRESOLVED = (400, 404, 409)  # project look-up failures that reject items, not the request
OneRunTarget = MetricsBody | ColumnsHeader  # a body of one run's wide rows or columns


def setup_routes(app: web.Application) -> None:
    """Register the three ingest routes (and the metrics route's formats header)."""
    app.router.add_post("/api/v1/ingest/metrics", ingest_metrics)
    app.router.add_post("/api/v1/ingest/logs", ingest_logs)
    app.router.add_post("/api/v1/ingest/traces", ingest_traces)
    app.on_response_prepare.append(announce_formats)


async def ingest_metrics(request: web.Request) -> web.Response:
    """rc1 ``points`` and/or wide ``rows``, or a columnar body (by ``Content-Type``); one
    chunk per (series, request)."""
    columns = is_columns(request)
    principal, body, key, size = await _prelude(request, COLUMNS if columns else METRICS)
    errs = ItemErrors()
    if columns:
        chunks, accepted, total = await _one_run(request, principal, body.header, errs, size,
                                                 body.point_count, chunks_from_columns, body)
        target: BodyTarget = body.header
    else:
        chunks, accepted, total = await _points_and_rows(request, principal, body, errs, size)
        target = body
    _require_some_writable(total, errs)
    pairs = {(c.project_id, c.run_id) for c in chunks}
    batch: IngestBatch[SeriesChunk] = IngestBatch(chunks, accepted, key,
                                                  _diagnostics(target.clientDiagnostics, pairs))
    outcome = await write_or_429(request, request.app[STORE].ingest_metrics(batch))
    hub.publish_ingest(request.app, chunks)  # live: publish after commit
    return _reply(request, outcome.accepted, outcome.duplicate, errs)


async def _points_and_rows(request: web.Request, principal: Principal, body: MetricsBody,
                           errs: ItemErrors, size: int) -> tuple[list[SeriesChunk], int, int]:
    """Chunks, accepted count and item count of a JSON metrics body."""
    _require_items(body, "points", "rows")
    points = body.points or []
    projects = await _writable(request, principal, "metrics:write", (p.projectId for p in points))
    chunks, accepted = await _off_loop(size, chunks_from_points, points, projects, errs)
    total = len(points)
    if body.rows:
        row_points = sum(map(len, map(itemgetter(2), body.rows)))
        more, more_accepted, _ = await _one_run(request, principal, body, errs, size,
                                                row_points, chunks_from_rows, body.rows,
                                                isinstance(body, FloatRowsBody))
        chunks += more
        accepted += more_accepted
        total += row_points
    return chunks, accepted, total


async def _one_run(request: web.Request, principal: Principal, target: OneRunTarget,
                   errs: ItemErrors, size: int, point_count: int,
                   build: Callable[..., tuple[list[SeriesChunk], int]], data: Any, *extra: Any
                   ) -> tuple[list[SeriesChunk], int, int]:
    """Chunks, accepted count and point count of wide rows or columns (``data``) of the
    body's one run: ``build(data, project_id, run_id, rank, errs, *extra)`` when the key may
    write the body's project, else all ``point_count`` points refused."""
    run_id = _body_run_id(target)
    if target.rank is not None and target.rank < 0:
        raise errors.invalid("rank must be a non-negative integer", "rank")
    project_id = await _rows_project(request, principal, target)
    if project_id is None:
        errs.refuse(0, "projectId", count=point_count)
        return [], 0, point_count
    chunks, accepted = await _off_loop(size, build, data, project_id, run_id, target.rank,
                                       errs, *extra)
    return chunks, accepted, point_count


def _body_run_id(body: BodyTarget) -> str:
    if body.runId is None:
        raise errors.invalid("runId is required with rows", "runId")
    problem = run_id_problem(body.runId)
    if problem is not None:
        raise errors.invalid(problem, "runId")
    return body.runId


async def _rows_project(request: web.Request, principal: Principal, body: BodyTarget
                        ) -> str | None:
    if not body.projectId and not (body.workspace and body.project):
        raise errors.invalid("rows need projectId (or workspace and project)", "projectId")
    try:
        ref = await resolve_project(request, principal, project_id=body.projectId,
                                    workspace=body.workspace, project=body.project)
    except errors.ApiError as err:
        if err.status in _UNRESOLVED:
            return None
        raise
    return ref.project_id if principal.allows("metrics:write", ref) else None


async def ingest_logs(request: web.Request) -> web.Response:
    """Log lines; exact re-sends are de-duplicated by the store."""
    return await _ingest_events(request, LOGS, "lines", "logs:write", lines_from_body,
                                "ingest_logs")


async def ingest_traces(request: web.Request) -> web.Response:
    """Spans, stored with every field; (run, traceId, spanId) re-sends are de-duplicated."""
    return await _ingest_events(request, TRACES, "spans", "traces:write", spans_from_body,
                                "ingest_spans")


async def _ingest_events(request: web.Request, decoder: BodyDecoder, field: str, scope: str,
                         build: Callable[..., list[Any]], store_method: str) -> web.Response:
    """The shared flow of the log and trace routes (one record per item)."""
    principal, body, key, size = await _prelude(request, decoder)
    _require_items(body, field)
    items = getattr(body, field)
    await _inherit_target(request, principal, body, items)
    _inherit_writer(body, items)
    projects = await _writable(request, principal, scope,
                               (x.projectId for x in items if x.projectId is not None))
    errs = ItemErrors()
    records = await _off_loop(size, build, items, projects, errs)
    _require_some_writable(len(items), errs)
    pairs = {(x.project_id, x.run_id) for x in records}
    batch = IngestBatch(records, len(records), key, _diagnostics(body.clientDiagnostics, pairs))
    write = getattr(request.app[STORE], store_method)
    outcome = await write_or_429(request, write(batch))
    hub.publish_ingest(request.app, records)  # live: publish after commit
    return _reply(request, outcome.accepted, outcome.duplicate, errs)


async def _inherit_target(request: web.Request, principal: Principal, body: BodyTarget,
                          items: Sequence[Any]) -> None:
    """Give items without ``projectId``/``runId`` the body's (docs/protocol.md §4.7).

    ``workspace`` + ``project`` slugs are resolved to the project id once; when they cannot be
    resolved the items keep no project and are rejected one by one like any unwritable item.
    """
    if all(x.projectId is not None and x.runId is not None for x in items):
        return
    project = body.projectId
    if project is None and body.workspace and body.project:
        try:
            ref = await resolve_project(request, principal, workspace=body.workspace,
                                        project=body.project)
            project = ref.project_id
        except errors.ApiError as err:
            if err.status not in _UNRESOLVED:
                raise
    for item in items:
        if item.projectId is None:
            item.projectId = project
        if item.runId is None:
            item.runId = body.runId


def _inherit_writer(body: BodyTarget, items: Sequence[Any]) -> None:
    """Give log lines without their own ``writerId``/``rank`` the body's: with the timestamp,
    sequence and message they make a line's identity (docs/protocol.md §4.7)."""
    rank = getattr(body, "rank", None)
    if body.writerId is None and rank is None:
        return
    for item in items:
        if isinstance(item, LineIn):
            if item.writerId is None:
                item.writerId = body.writerId
            if item.rank is None:
                item.rank = rank


async def _prelude(request: web.Request, decoder: BodyDecoder | ColumnsDecoder
                   ) -> tuple[Principal, Any, str | None, int]:
    """Authenticate, read the idempotency key, read and decode the body."""
    principal = await authenticate(request)
    key = _idempotency_key(request)
    raw = await read_body(request, request.app[CONFIG].max_body_bytes)
    body = await _off_loop(len(raw), decoder.decode, raw)
    return principal, body, key, len(raw)


def _require_items(body: Any, *fields: str) -> None:
    """400 naming ``fields[0]`` when the body has none of its item arrays (absent or null).

    An empty array is a valid, if useless, request; a body without its items is malformed.
    """
    if all(getattr(body, name) is None for name in fields):
        raise errors.invalid(f"the body needs {' or '.join(fields)} (an array of items)",
                             fields[0])


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise errors.invalid(f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_CHARS} printable"
                             " characters", "Idempotency-Key")
    return key or None


async def _writable(request: web.Request, principal: Principal, scope: str,
                    refs: Iterable[str]) -> dict[str, str | None]:
    """Map each distinct sent project reference to its canonical id, None when not writable.

    Each reference costs store reads, so a body naming more than
    :data:`MAX_PROJECTS_PER_REQUEST` distinct ones is a 400 before any is looked up.
    """
    distinct = set(refs)
    if len(distinct) > MAX_PROJECTS_PER_REQUEST:
        raise errors.invalid(f"a request may name at most {MAX_PROJECTS_PER_REQUEST} distinct "
                             "projects", "projectId")
    out: dict[str, str | None] = {}
    for ref in distinct:
        try:
            project = await resolve_project(request, principal, project_id=ref)
        except errors.ApiError as err:
            if err.status not in _UNRESOLVED:
                raise
            out[ref] = None
            continue
        out[ref] = project.project_id if principal.allows(scope, project) else None
    return out


def _require_some_writable(total: int, errs: ItemErrors) -> None:
    if total and errs.unauthorised == total:
        raise errors.forbidden("this API key may not write to any project in this request")


def _diagnostics(snapshot: Any, pairs: set[tuple[str, str]]) -> Sequence[Diagnostics]:
    """The ``clientDiagnostics`` object as one snapshot per (project, run) of the request.

    Diagnostics are advisory: an object that is not a JSON object, cannot be re-encoded or is
    over :data:`MAX_DIAGNOSTICS_BYTES` is not kept, and never fails the request; a
    ``capturedAtMs`` that is not an integer in 0…2^63−1 is replaced by the server time.
    """
    if not isinstance(snapshot, dict) or not pairs:
        return ()
    try:
        payload = orjson.dumps(snapshot).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, nesting beyond 255 levels
        return ()
    if len(payload) > MAX_DIAGNOSTICS_BYTES:
        return ()
    captured = snapshot.get("capturedAtMs")
    if type(captured) is not int or not 0 <= captured <= MAX_INT64:
        captured = int(time.time() * 1000)
    return [Diagnostics(project, run, captured, payload) for project, run in sorted(pairs)]


def _reply(request: web.Request, accepted: int, duplicate: bool, errs: ItemErrors
           ) -> web.Response:
    if duplicate:
        return json_response(request, {"accepted": accepted, "duplicate": True}, 200)
    payload: dict[str, Any] = {"accepted": accepted, "rejected": errs.rejected}
    if errs.details:
        payload["errors"] = errs.details
    return json_response(request, payload, 202)


async def _off_loop(size: int, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` inline for small bodies, on the default executor for big ones."""
    if size < OFF_LOOP_BYTES:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
