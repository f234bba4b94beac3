"""``POST /api/v1/runs/{runId}/heartbeat``: liveness without data (docs/protocol.md §6.3).

Body (all optional, an empty body is ``{}``): ``{"projectId"?: id or slug, "status"?:
"running"}``. Needs any write scope on the run's project. Records the heartbeat in one write
job (at most once a second per run, like ingest), wakes the run's live stream and answers 200
``{"runId", "projectId", "status", "lastHeartbeatMs", "requestId"}`` with the effective status:
a ``lost`` run reads ``running`` again; a terminal run stays terminal (the heartbeat is kept,
the status is not changed). Unknown run, or a run outside ``projectId`` → 404; another status
value → 400 ``status``; a full write queue → 429.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from aiohttp import web

from rundial_collector.live import hub
from rundial_collector.store.control_base import Run
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import WRITE_SCOPES
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, write_or_429


class HeartbeatBody(msgspec.Struct):
    projectId: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    status: Literal["running"] | None = None


async def heartbeat(request: web.Request) -> web.Response:
    """Record that the run's worker is alive; reply with the effective status."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, HeartbeatBody)
    run_id = request.match_info["runId"]
    store = request.app[STORE]
    run = await authorised_run(request, principal, body.projectId, WRITE_SCOPES)
    await write_or_429(request, store.record_heartbeat(run.project_id, run_id, now_ms()))
    hub.publish_state(request.app, run.project_id, run_id)
    updated = await store.get_run(run_id)
    if updated is None:  # there is no run delete route; kept for the type checker
        raise errors.not_found(f"run {run_id} was not found")
    return json_response(request, {"runId": updated.run_id, "projectId": updated.project_id,
                                   "status": updated.status,
                                   "lastHeartbeatMs": updated.last_heartbeat_ms})


async def authorised_run(request: web.Request, principal: auth.Principal,
                         project: str | None, scopes: frozenset[str]) -> Run:
    """The ``{runId}`` run, which ``principal`` may use with one of ``scopes``.

    ``project`` (id or slug, optional) must be the run's project. Raises 404 for an unknown
    run or project (or a run of another project), 409 for an ambiguous slug, 403 without
    access to the run's project.
    """
    run_id = request.match_info["runId"]
    run = await request.app[STORE].get_run(run_id)
    if project:
        wanted = await auth.resolve_project(request, principal, project_id=project)
        if run is not None and run.project_id != wanted.project_id:
            run = None
    if run is None:
        raise errors.not_found(f"run {run_id} was not found")
    ref = await auth.resolve_project(request, principal, project_id=run.project_id)
    principal.require_any(scopes, ref)
    return run


def setup_routes(app: web.Application) -> None:
    """Register the heartbeat route."""
    app.router.add_post("/api/v1/runs/{runId}/heartbeat", heartbeat)
