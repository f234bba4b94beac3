"""Artifact read and maintenance routes (extensions, docs/protocol.md §5).

* ``GET /api/v1/artifacts/versions?projectId=&name=[&includeDeleted=true]``: the versions of
  one artifact, oldest first.
* ``GET /api/v1/artifacts/lineage?projectId=&runId=``: what a run used and produced;
  ``?projectId=&artifactId=``: one version, its producer and every run that used it.
* ``POST /api/v1/artifacts/gc``: expire stale uploads, delete unreferenced blobs and staged
  parts now, and report the bytes reclaimed. Needs a global admin key (blobs are shared
  by every project).

``workspace`` + ``project`` slugs may replace ``projectId`` everywhere.
"""

from __future__ import annotations

from aiohttp import web

from rundial_collector.artifacts.models import check_name
from rundial_collector.artifacts.runtime import READ, project_for, query_target, sweep
from rundial_collector.artifacts.views import artifact_json, use_json
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ProjectRef
from rundial_collector.web.responses import json_response


async def _project(request: web.Request) -> ProjectRef:
    principal = await auth.authenticate(request)
    return await project_for(request, principal, query_target(request), READ)


async def versions(request: web.Request) -> web.Response:
    """``{"versions": [artifact, ...]}`` of ``name`` in the project."""
    ref = await _project(request)
    name = check_name(request.query.get("name", ""))
    include_deleted = request.query.get("includeDeleted", "").lower() in ("1", "true")
    found = await request.app[STORE].list_artifact_versions(ref.project_id, name,
                                                            include_deleted)
    return json_response(request, {"versions": [artifact_json(v) for v in found]})


async def lineage(request: web.Request) -> web.Response:
    """Lineage by run (``used``/``produced``) or by artifact (``artifact``/``consumers``)."""
    ref = await _project(request)
    store = request.app[STORE]
    artifact_id = request.query.get("artifactId")
    if artifact_id:
        version = await store.get_artifact_version(artifact_id)
        if version is None or version.project_id != ref.project_id:
            raise errors.not_found(f"artifact {artifact_id} was not found in this project")
        consumers = await store.artifact_consumers(artifact_id)
        return json_response(request, {"artifact": artifact_json(version),
                                       "consumers": [use_json(u) for u in consumers]})
    run_id = request.query.get("runId")
    if not run_id:
        raise errors.invalid("runId or artifactId is required", "runId")
    used, produced = await store.artifact_lineage(ref.project_id, run_id)
    return json_response(request, {"runId": run_id, "used": [use_json(u) for u in used],
                                   "produced": [artifact_json(v) for v in produced]})


async def garbage_collect(request: web.Request) -> web.Response:
    """Run a full sweep now; ``{deletedBlobs, reclaimedBytes, stagedBytesReclaimed}``, or 409
    while another collector of the same database is sweeping."""
    principal = await auth.authenticate(request)
    if not principal.is_global_admin:
        raise errors.forbidden("artifact garbage collection needs a global admin key")
    report = await sweep(request.app)
    if report is None:
        raise errors.conflict("another collector is running the artifact garbage collection; "
                              "retry when it is done")
    return json_response(request, dict(report))


def setup_routes(app: web.Application) -> None:
    """Register the read and maintenance routes."""
    app.router.add_get("/api/v1/artifacts/versions", versions)
    app.router.add_get("/api/v1/artifacts/lineage", lineage)
    app.router.add_post("/api/v1/artifacts/gc", garbage_collect)
