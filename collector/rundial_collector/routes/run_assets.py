"""Artifact reads for the web UI (extensions, docs/protocol.md §5.7).

* ``GET /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}/artifacts[?limit=]
  [&includeInternal=true]``: the versions the run produced and used, without file lists
  (counts instead), each with its producing run and its first consumers, plus the names and
  states of every run named (``runs``). The SDK's own media and span-evidence artifacts
  (:data:`INTERNAL_TYPES`) are left out unless ``includeInternal=true``.
* ``GET .../projects/{proj}/artifacts/{artifactId}/files[?limit=&cursor=]``: one page of a
  version's files in manifest order, each with ``stored`` (is its content still on disk).
* ``GET .../projects/{proj}/artifacts/{artifactId}/file?path=[&inline=true]``: the file's
  bytes, as an attachment; ``inline=true`` serves raster images (PNG, JPEG, GIF, WebP) and
  common video and audio types (:data:`INLINE_TYPES`) inline so an ``<img>``, ``<video>`` or
  ``<audio>`` can show them (``Range`` supported). Always ``nosniff`` and a sandboxing CSP.

All need ``project:read`` on the path's project; the session cookie is enough, so a plain link
downloads in a browser. An unknown run, version, path or a version of another project is a 404,
a deleted version or a blob no longer stored a 404 with a message saying so, a malformed
``limit``/``cursor``/``path`` a 400. Every list is bounded.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from aiohttp import web

from rundial_collector.artifacts.models import check_path
from rundial_collector.artifacts.runtime import BLOBS
from rundial_collector.artifacts.views import artifact_json, file_json, use_json
from rundial_collector.routes.runs_read import path_run
from rundial_collector.store.asset_reads_base import VersionSummary
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ProjectRef
from rundial_collector.web.paging import is_int64, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response

PROJECT_PATH = "/api/v1/workspaces/{ws}/projects/{proj}"
VERSIONS_DEFAULT, VERSIONS_MAX = 200, 500
CONSUMERS_MAX = 20
FILES_DEFAULT, FILES_MAX = 200, 1000
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp",
                          # for the Media tab's <video>/<audio> players (never html)
                          "video/mp4", "video/webm", "video/ogg",
                          "audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/ogg",
                          "audio/webm", "audio/flac", "audio/x-flac", "audio/mp4", "audio/aac"})
FILE_CSP = "default-src 'none'; sandbox"
# Artifacts the SDK makes on its own (media values, span evidence): shown elsewhere.
INTERNAL_TYPES = ("media_image", "media_table", "media_video", "media_audio", "media_html",
                  "media_object3d", "media_molecule",
                  "trace_evidence")


async def project_run(request: web.Request) -> tuple[ProjectRef, str]:
    """The path's project (``project:read``) and its run ``{runId}``; 404 when unknown there."""
    project, run = await path_run(request)
    return project, run.run_id


def summary_json(s: VersionSummary) -> dict[str, Any]:
    """The artifact object of §5.4 without ``files``: ``fileCount``, ``sizeBytes`` and lineage."""
    out = artifact_json(s.version)
    del out["files"]
    out.update(fileCount=s.file_count, sizeBytes=s.size_bytes,
               consumers=[use_json(u) for u in s.consumers], consumerCount=s.consumer_count)
    return out


async def run_artifacts(request: web.Request) -> web.Response:
    """``{runId, produced, used, producedHasMore, usedHasMore, runs}``."""
    project, run_id = await project_run(request)
    store = request.app[STORE]
    limit = parse_limit(request, VERSIONS_DEFAULT, VERSIONS_MAX)
    internal = request.query.get("includeInternal", "").lower() in ("1", "true")
    assets = await store.run_assets(project.project_id, run_id, limit, CONSUMERS_MAX,
                                    () if internal else INTERNAL_TYPES)
    produced = [summary_json(s) for s in assets.produced]
    used = [dict(summary_json(s), use=use_json(u)) for u, s in assets.used]
    named = {run_id} | {v["runId"] for v in produced + used}
    named |= {c["runId"] for v in produced + used for c in v["consumers"]}
    labels = await store.run_labels(sorted(named))
    return json_response(request, {
        "runId": run_id, "produced": produced, "used": used,
        "producedHasMore": assets.produced_more, "usedHasMore": assets.used_more,
        "runs": {k: {"runName": v.name, "status": v.status} for k, v in labels.items()}})


async def _version(request: web.Request) -> VersionSummary:
    project = await auth.path_project(request, "project:read")
    artifact_id = request.match_info["artifactId"]
    found = await request.app[STORE].artifact_summary(artifact_id)
    if found is None or found.version.project_id != project.project_id:
        raise errors.not_found(f"artifact {artifact_id} was not found in "
                               f"{project.workspace_slug}/{project.project_slug}")
    return found


def _after_ordinal(request: web.Request) -> int:
    cursor = query_cursor(request, 1)
    if cursor is None:
        return -1
    if not is_int64(cursor[0]):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return int(cursor[0])


async def artifact_files(request: web.Request) -> web.Response:
    """``{artifactId, state, files: [{path, sizeBytes, sha256, stored}], total, page}``."""
    summary = await _version(request)
    limit = parse_limit(request, FILES_DEFAULT, FILES_MAX)
    found = await request.app[STORE].artifact_file_page(
        summary.version.artifact_id, _after_ordinal(request), limit)
    blobs = request.app[BLOBS]
    files = [dict(file_json(f), stored=blobs.local_path(f.sha256) is not None)
             for _, f in found.files]
    last = [found.files[-1][0]] if found.files else None
    return json_response(request, {
        "artifactId": summary.version.artifact_id, "state": summary.version.state,
        "files": files, "total": found.total, "page": page(len(files) == limit, last)})


async def artifact_file(request: web.Request) -> web.StreamResponse:
    """The bytes of one file (sendfile), or a 404 envelope saying what is missing."""
    summary = await _version(request)
    path = check_path(request.query.get("path", ""), "path")
    if summary.version.state != "ready":
        raise errors.not_found(f"version {summary.version.version} of "
                               f"{summary.version.name} is {summary.version.state}")
    f = await request.app[STORE].artifact_file(summary.version.artifact_id, path)
    if f is None:
        raise errors.not_found(f"{summary.version.name} has no file {path!r}")
    on_disk = request.app[BLOBS].local_path(f.sha256)
    if on_disk is None:
        raise errors.not_found(f"the content of {path!r} is no longer stored")
    content_type = f.content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    inline = request.query.get("inline", "").lower() in ("1", "true")
    name = path.rsplit("/", 1)[-1]
    disposition = "inline" if inline and content_type in INLINE_TYPES else "attachment"
    if disposition == "attachment":
        content_type = "application/octet-stream"
    return web.FileResponse(on_disk, headers={
        "Content-Type": content_type, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP, "Cache-Control": "private, max-age=3600",
        "Content-Disposition": f"{disposition}; filename=\"{_ascii(name)}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})


def _ascii(name: str) -> str:
    """The ASCII fallback ``filename`` (non-ASCII, control characters, ``"`` and ``\\`` become
    ``_``); the exact name travels in ``filename*``."""
    return "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name) or "file"


def setup_routes(app: web.Application) -> None:
    """Register the UI's artifact reads."""
    app.router.add_get(PROJECT_PATH + "/runs/{runId}/artifacts", run_artifacts)
    app.router.add_get(PROJECT_PATH + "/artifacts/{artifactId}/files", artifact_files)
    app.router.add_get(PROJECT_PATH + "/artifacts/{artifactId}/file", artifact_file)
