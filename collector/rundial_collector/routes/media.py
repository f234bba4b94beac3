"""Media manifests (v1 doc §6.6): ingest after a media artifact is finalized, query per run.

* ``POST /api/v1/ingest/media`` ``{projectId, runId, items: [...]}``: each item is validated on
  its own (a bad item is counted in ``rejected`` with its error, never failing the request)
  and must name a file of a ready artifact of its project with the same sha256. Needs
  ``artifacts:write`` or ``metrics:write``. A repeated item is stored once.
* ``GET /api/v1/media?projectId=&runId=[&mediaKey=][&step= | &minStep=&maxStep=][&cursor=]
  [&limit=]``: items in ingest order, each with a signed download ``url``; ``nextCursor`` is
  set when more may follow.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from aiohttp import web

from rundial_collector.artifacts.models import Target, check_path, check_sha256
from rundial_collector.artifacts.runtime import READ, install, project_for, query_target
from rundial_collector.artifacts.views import download_url
from rundial_collector.store.artifacts_base import ArtifactFile, MediaItem, MediaQuery
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import Principal
from rundial_collector.web.intbounds import NonNegative, json_int_problem, query_int
from rundial_collector.web.jsonbody import decode_body, split_validation_error
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

MAX_ITEMS = 1000
MAX_ERRORS = 20
QUERY_LIMIT_MAX = 1000
MEDIA_WRITE = frozenset({"artifacts:write", "metrics:write"})
_KEY = re.compile(r"^[^\x00-\x1f\x7f]{1,256}\Z")
_RUN = re.compile(r"^[^/\x00]{1,128}\Z")
# v1 doc §6.6 has image and table; video, audio, html, object3d and molecule files are an
# extension (§5.6)
MEDIA_TYPES = ("image", "table", "video", "audio", "html", "object3d", "molecule")


class MediaItemIn(msgspec.Struct):
    mediaKey: str
    mediaType: str
    step: NonNegative
    timestampMs: NonNegative
    artifactPath: str
    artifactId: str
    artifactVersion: NonNegative
    artifactSha256: str
    projectId: str | None = None
    runId: str | None = None
    caption: str | None = None
    width: NonNegative | None = None
    height: NonNegative | None = None
    tableRows: NonNegative | None = None
    tableColumns: NonNegative | None = None
    metadata: dict[str, Any] | None = None


class MediaBody(Target, kw_only=True):
    items: list[dict[str, Any]]
    runId: str | None = None


class _Rejected(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


async def ingest_media(request: web.Request) -> web.Response:
    """Store the valid items; ``{"accepted", "rejected", "errors"?}``."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, MediaBody)
    if len(body.items) > MAX_ITEMS:
        raise errors.invalid(f"at most {MAX_ITEMS} items per request", "items")
    if body.projectId or body.workspace:
        await project_for(request, principal, body, MEDIA_WRITE)
    accepted: list[MediaItem] = []
    problems: list[dict[str, Any]] = []
    for i, raw in enumerate(body.items):
        try:
            accepted.append(await _item(request, principal, body, raw))
        except _Rejected as exc:
            problems.append({"index": i, "field": f"items[{i}].{exc.field}",
                             "message": exc.message})
    if accepted:
        await write_or_429(request, request.app[STORE].add_media_items(accepted))
    payload: dict[str, Any] = {"accepted": len(accepted), "rejected": len(problems)}
    if problems:
        payload["errors"] = problems[:MAX_ERRORS]
    return json_response(request, payload)


async def _item(request: web.Request, principal: Principal, body: MediaBody,
                raw: dict[str, Any]) -> MediaItem:
    """One validated item, or :class:`_Rejected` naming the offending field."""
    try:
        item = msgspec.convert(raw, MediaItemIn)
    except msgspec.ValidationError as exc:
        message, field = split_validation_error(str(exc))
        raise _Rejected(field or "item", message) from None
    _check_values(item)
    project_id = item.projectId or body.projectId
    run_id = item.runId or body.runId or ""
    if not _RUN.match(run_id):
        raise _Rejected("runId", "runId must be 1-128 characters without '/' or NUL")
    try:
        target = Target(projectId=project_id, workspace=body.workspace, project=body.project)
        ref = await project_for(request, principal, target, MEDIA_WRITE)
    except errors.ApiError as exc:
        raise _Rejected("projectId", exc.message) from None
    await _check_artifact(request, item, ref.project_id)
    return MediaItem(ref.project_id, run_id, item.mediaKey, item.mediaType, item.step,
                     item.timestampMs, item.artifactId, item.artifactVersion,
                     item.artifactPath, item.artifactSha256, item.caption, item.width,
                     item.height, item.tableRows, item.tableColumns, item.metadata or {})


def _check_values(item: MediaItemIn) -> None:
    if not _KEY.match(item.mediaKey):
        raise _Rejected("mediaKey", "mediaKey must be 1-256 characters, no control characters")
    if item.mediaType not in MEDIA_TYPES:
        raise _Rejected("mediaType", f"mediaType must be one of {', '.join(MEDIA_TYPES)}")
    if item.caption is not None and "\x00" in item.caption:
        raise _Rejected("caption", "caption must not contain NUL characters")
    problem = json_int_problem(item.metadata)
    if problem is not None:
        raise _Rejected("metadata", problem)
    try:
        check_path(item.artifactPath, "artifactPath")
        check_sha256(item.artifactSha256, "artifactSha256")
    except errors.ApiError as exc:
        raise _Rejected(exc.field or "artifactPath", exc.message) from None


async def _check_artifact(request: web.Request, item: MediaItemIn, project_id: str) -> None:
    version = await request.app[STORE].get_artifact_version(item.artifactId)
    if version is None or version.project_id != project_id or version.state != "ready":
        raise _Rejected("artifactId", "no ready artifact with this id in the project")
    wanted = (item.artifactPath, item.artifactSha256)
    if not any((f.path, f.sha256) == wanted for f in version.files):
        raise _Rejected("artifactPath", "the artifact has no file with this path and sha256")


async def query_media(request: web.Request) -> web.Response:
    """``{"items": [...], "nextCursor": str | None}`` for one run."""
    principal = await auth.authenticate(request)
    q = request.query
    ref = await project_for(request, principal, query_target(request), READ)
    run_id = q.get("runId", "")
    if not _RUN.match(run_id):
        raise errors.invalid("runId is required", "runId")
    step = query_int(q, "step")
    query = MediaQuery(ref.project_id, run_id, q.get("mediaKey"),
                       step if step is not None else query_int(q, "minStep"),
                       step if step is not None else query_int(q, "maxStep"),
                       query_int(q, "cursor") or 0,
                       min(query_int(q, "limit") or 100, QUERY_LIMIT_MAX))
    items = await request.app[STORE].query_media(query)
    more = len(items) == query.limit
    return json_response(request, {
        "items": [_item_json(request, m) for m in items],
        "nextCursor": str(items[-1].item_id) if more and items else None})


def _item_json(request: web.Request, m: MediaItem) -> dict[str, Any]:
    url, expires_ms = download_url(request, ArtifactFile(m.artifact_path, 0, m.artifact_sha256))
    return {"mediaKey": m.media_key, "mediaType": m.media_type, "step": m.step,
            "timestampMs": m.timestamp_ms, "runId": m.run_id, "caption": m.caption,
            "width": m.width, "height": m.height, "tableRows": m.table_rows,
            "tableColumns": m.table_columns, "metadata": m.metadata,
            "artifactId": m.artifact_id, "artifactVersion": m.artifact_version,
            "artifactPath": m.artifact_path, "artifactSha256": m.artifact_sha256,
            "url": url, "urlExpiresAtMs": expires_ms}


def setup_routes(app: web.Application) -> None:
    """Register the media routes (and the shared artifact runtime)."""
    install(app)
    app.router.add_post("/api/v1/ingest/media", ingest_media)
    app.router.add_get("/api/v1/media", query_media)
