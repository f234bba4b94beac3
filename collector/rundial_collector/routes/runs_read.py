"""Run reads (v1 doc §3.5, §3.6): run details and the paged run list.

Both need ``project:read`` on the path's project. An unknown workspace/project/run is a 404
envelope; a run of another project is a 404 too (run ids are global, paths are not).
"""

from __future__ import annotations

from typing import Any, Literal, cast

from aiohttp import web

from rundial_collector.store.control_base import RUN_STATUSES, Run, RunQuery
from rundial_collector.store.errors import has_nul
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ProjectRef
from rundial_collector.web.paging import is_int64, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms

RUNS_PATH = "/api/v1/workspaces/{ws}/projects/{proj}/runs"
QUERY_DEFAULT, QUERY_MAX = 25, 500
ORDER_BY = ("runId", "startedAtMs", "updatedAtMs", "runName")
OrderBy = Literal["runId", "startedAtMs", "updatedAtMs", "runName"]


def client_host(client: Any) -> str | None:
    """The ``host`` its client reported at ``runs/start`` (docs/protocol.md §4.12), or None."""
    host = client.get("host") if isinstance(client, dict) else None
    return host if isinstance(host, str) else None


def run_entry(run: Run, project: ProjectRef | None = None) -> dict[str, Any]:
    """The run at the top level with integer ms fields (run details, lists, write replies)."""
    entry: dict[str, Any] = {
        "runId": run.run_id, "projectId": run.project_id, "kind": run.kind,
        "status": run.status, "runName": run.name, "group": run.group, "jobType": run.job_type,
        "tags": list(run.tags), "config": run.config, "reason": run.reason,
        "startedAtMs": run.started_ms, "finishedAtMs": run.finished_ms,
        "updatedAtMs": run.updated_ms, "lastHeartbeatMs": run.last_heartbeat_ms,
        "notes": run.notes, "host": client_host(run.client)}
    if project is not None:
        entry["projectSlug"] = project.project_slug
        entry["workspaceSlug"] = project.workspace_slug
    return entry


async def path_run(request: web.Request, scope: str = "project:read") -> tuple[ProjectRef, Run]:
    """The path's project (``scope`` required on it) and its run ``{runId}``; 404 when the run
    is unknown or belongs to another project."""
    project = await auth.path_project(request, scope)
    run_id = request.match_info["runId"]
    run = await request.app[STORE].get_run(run_id)
    if run is None or run.project_id != project.project_id:
        raise errors.not_found(f"run {run_id} was not found in "
                               f"{project.workspace_slug}/{project.project_slug}")
    return project, run


async def run_details(request: web.Request) -> web.Response:
    """The run described at the top level; 404 when it is not a run of this project."""
    project, run = await path_run(request)
    return json_response(request, run_entry(run, project))


async def query_runs(request: web.Request) -> web.Response:
    """``{"runs": [...], "page": {"hasMore", "nextCursor"}}`` with keyset pagination."""
    project = await auth.path_project(request, "project:read")
    query = _run_query(request, project.project_id)
    runs, more = ([], False) if has_nul(query.search) else (  # no stored name holds NUL
        await request.app[STORE].query_runs(query, now_ms()))
    last = [query.order_by, query.order, _sort_value(query.order_by, runs[-1]),
            runs[-1].run_id] if runs else None
    return json_response(request, {
        "runs": [run_entry(run, project) for run in runs], "page": page(more, last),
        "projectId": project.project_id, "projectSlug": project.project_slug,
        "workspaceSlug": project.workspace_slug})


def _run_query(request: web.Request, project_id: str) -> RunQuery:
    q = request.query
    order = q.get("order", "desc").strip() or "desc"
    if order not in ("asc", "desc"):
        raise errors.invalid("order must be asc or desc", "order")
    order_by = q.get("orderBy", "startedAtMs").strip() or "startedAtMs"
    if order_by not in ORDER_BY:
        raise errors.invalid(f"orderBy must be one of {', '.join(ORDER_BY)}", "orderBy")
    return RunQuery(project_id, parse_limit(request, QUERY_DEFAULT, QUERY_MAX),
                    cast(Literal["asc", "desc"], order), cast(OrderBy, order_by),
                    after=_after(request, order_by, order), search=q.get("search", "").strip(),
                    statuses=_statuses(q.get("statuses", "")))


def _after(request: web.Request, order_by: str, order: str) -> tuple[Any, str] | None:
    values = query_cursor(request, 4)
    if values is None:
        return None
    cursor_by, cursor_order, value, run_id = values
    value_type = str if order_by in ("runId", "runName") else int
    if ((cursor_by, cursor_order) != (order_by, order) or not isinstance(run_id, str)
            or type(value) is not value_type
            or (value_type is int and not is_int64(value))):
        raise errors.invalid("cursor was issued for another order or orderBy", "cursor")
    return value, run_id


def _statuses(raw: str) -> frozenset[str]:
    statuses = frozenset(s.strip() for s in raw.split(",") if s.strip())
    unknown = statuses - RUN_STATUSES
    if unknown:
        raise errors.invalid(f"unknown status {sorted(unknown)[0]!r}; known: "
                             f"{', '.join(sorted(RUN_STATUSES))}", "statuses")
    return statuses


def _sort_value(order_by: str, run: Run) -> Any:
    return {"runId": run.run_id, "startedAtMs": run.started_ms, "updatedAtMs": run.updated_ms,
            "runName": run.name or ""}[order_by]


def setup_routes(app: web.Application) -> None:
    """Register the run read routes (``runs/query`` before ``runs/{runId}``)."""
    app.router.add_get(RUNS_PATH + "/query", query_runs)
    app.router.add_get(RUNS_PATH + "/{runId}", run_details)
