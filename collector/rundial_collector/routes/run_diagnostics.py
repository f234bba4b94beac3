"""``GET /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}/diagnostics`` (extension,
docs/protocol.md §4.11): what the collector keeps about a run's client for the run page.

Reply ``{"runId", "projectId", "client", "capturedAtMs", "diagnostics", "requestId"}``:
``client`` is the ``client`` object the run was started with (or null), ``diagnostics`` the
latest ``clientDiagnostics`` snapshot a client sent with an ingest body (kept as sent, or
null when none arrived) and ``capturedAtMs`` its capture time. Needs ``project:read``; an
unknown workspace, project or run, or a run of another project → 404.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from rundial_collector.routes.runs_read import RUNS_PATH
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.responses import json_response


async def run_diagnostics(request: web.Request) -> web.Response:
    """The run's client info and latest diagnostics snapshot (nulls when none were stored)."""
    project = await auth.path_project(request, "project:read")
    run_id = request.match_info["runId"]
    store = request.app[STORE]
    run = await store.get_run(run_id)
    if run is None or run.project_id != project.project_id:
        raise errors.not_found(f"run {run_id} was not found in "
                               f"{project.workspace_slug}/{project.project_slug}")
    snapshot = await store.latest_diagnostics(project.project_id, run_id)
    return json_response(request, {
        "runId": run_id, "projectId": project.project_id, "client": run.client,
        "capturedAtMs": None if snapshot is None else snapshot.captured_at_ms,
        "diagnostics": None if snapshot is None else orjson.Fragment(snapshot.payload_json)})


def setup_routes(app: web.Application) -> None:
    """Register the run diagnostics route."""
    app.router.add_get(RUNS_PATH + "/{runId}/diagnostics", run_diagnostics)
