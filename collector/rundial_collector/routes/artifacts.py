"""Artifact routes of the v1 doc §6.1-§6.5 (docs/protocol.md §5).

* ``POST /api/v1/artifacts/initiate``: validate the manifest (400), record a pending version,
  answer the upload plan (content the project already holds is skipped; a size other than that
  of held content is a 409). Needs ``artifacts:write`` (``traces:write`` is enough for
  ``trace_evidence``).
* ``POST /api/v1/artifacts/finalize``: check every reported part ETag, verify and publish the
  blobs (409 on a wrong size or hash: nothing is published), then number the version, move
  aliases, apply retention and delete blobs nobody references any more. Repeating a finalize
  answers the same version.
* ``POST /api/v1/artifacts/use``: resolve ``name``, ``name:alias`` or ``name:v<N>`` and record
  that the run used it (lineage). ``POST /api/v1/artifacts/download``: a signed blob URL.
  Both need ``project:read`` or ``artifacts:write``.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Sequence

from aiohttp import web

from rundial_collector.artifacts.blobstore import BlobBusy, BlobIncomplete, BlobMismatch
from rundial_collector.artifacts.models import (DownloadBody, FinalizeBody, InitiateBody, UseBody,
                                                check_initiate, check_path, keep_last, parse_ref)
from rundial_collector.artifacts.runtime import (BLOBS, READ, SETTINGS, TRACE_EVIDENCE_WRITE, WRITE,
                                                 delete_orphans, install, project_for)
from rundial_collector.artifacts.views import (artifact_json, deduplicated_bytes, download_url,
                                               stage_key, upload_plan)
from rundial_collector.routes import artifacts_read
from rundial_collector.store.artifacts_base import (ArtifactFile, ArtifactUse, ArtifactVersion,
                                                    NewArtifactVersion)
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, write_or_429


async def initiate(request: web.Request) -> web.Response:
    """Record a pending version and answer ``{artifactId, uploadId, files: [upload plan]}``."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, InitiateBody)
    aliases = check_initiate(body)
    scopes = TRACE_EVIDENCE_WRITE if body.artifactType == "trace_evidence" else WRITE
    ref = await project_for(request, principal, body, scopes)
    await _check_run(request, body.runId, ref.project_id)
    files = [ArtifactFile(f.path, f.sizeBytes, f.sha256, f.contentType or _guess_type(f.path))
             for f in body.files]
    held = await _held(request, ref.project_id, files)
    created = now_ms()
    new = NewArtifactVersion(
        "art_" + uuid.uuid4().hex[:24], "upl_" + uuid.uuid4().hex[:24], ref.project_id,
        body.runId, body.name, body.artifactType, aliases, body.metadata or {},
        keep_last(body.retentionPolicy), tuple(files), created,
        created + request.app[SETTINGS].pending_ttl_s * 1000, body.idempotencyKey,
        deduplicated_bytes(files, set(held)))
    version = await write_or_429(request, request.app[STORE].begin_artifact_upload(new))
    plan = [] if version.state == "ready" else upload_plan(request, version, set(held))
    payload = {"artifactId": version.artifact_id, "uploadId": version.upload_id, "files": plan,
               "state": version.state, "deduplicatedBytes": version.deduplicated_bytes}
    if version.version is not None:
        payload["version"] = version.version
    return json_response(request, payload)


async def _held(request: web.Request, project_id: str,
                files: Sequence[ArtifactFile]) -> dict[str, int]:
    """sha256 -> size of the content of ``files`` that the project holds and that is stored.

    A 409 ``files[i].sizeBytes`` when a file names held content with another size.
    """
    store, blobs = request.app[STORE], request.app[BLOBS]
    held = await store.held_blobs(project_id, sorted({f.sha256 for f in files}))
    held = {sha: size for sha, size in held.items() if blobs.exists(sha)}
    for i, f in enumerate(files):
        stored = held.get(f.sha256, f.size_bytes)
        if stored != f.size_bytes:
            raise errors.conflict(f"this project stores the content of {f.path!r} (sha256 "
                                  f"{f.sha256}) as {stored} bytes, not {f.size_bytes}",
                                  f"files[{i}].sizeBytes")
    return held


def _guess_type(path: str) -> str | None:
    return mimetypes.guess_type(path.rsplit("/", 1)[-1])[0]


async def _check_run(request: web.Request, run_id: str, project_id: str) -> None:
    """409 when ``run_id`` is a known run of another project (unknown runs are accepted)."""
    owner = await request.app[STORE].run_project_id(run_id)
    if owner is not None and owner != project_id:
        raise errors.conflict(f"run {run_id} belongs to another project", "runId")


async def finalize(request: web.Request) -> web.Response:
    """Verify, publish and number the version; report retention deletions."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, FinalizeBody)
    ref = await project_for(request, principal, body, TRACE_EVIDENCE_WRITE)
    version = await _own_version(request, body.artifactId, ref.project_id)
    if version.artifact_type != "trace_evidence":
        principal.require_any(WRITE, ref)
    if version.upload_id != body.uploadId:
        raise errors.conflict("uploadId does not belong to this artifactId", "uploadId")
    if version.run_id != body.runId:
        raise errors.conflict("runId is not the run that initiated this upload", "runId")
    if version.state == "pending":
        held = await _held(request, version.project_id, version.files)
        _check_etags(request, body, version, set(held))
        await _publish_blobs(request, version, set(held))
    outcome = await write_or_429(request, request.app[STORE].finalize_artifact_version(
        version.artifact_id, now_ms()))
    deleted, reclaimed = await delete_orphans(request.app, outcome.orphaned_blobs)
    final = outcome.version
    deduped = final.deduplicated_bytes >= final.content_bytes
    return json_response(request, {
        "artifact": artifact_json(final), "deduped": deduped,
        "retention": {"deletedVersions": list(outcome.deleted_versions),
                      "deletedBlobs": deleted, "reclaimedBytes": reclaimed}})


async def _own_version(request: web.Request, artifact_id: str,
                       project_id: str) -> ArtifactVersion:
    version = await request.app[STORE].get_artifact_version(artifact_id)
    if version is None or version.project_id != project_id:
        err = errors.not_found(f"artifact {artifact_id} was not found in this project")
        err.field = "artifactId"
        raise err
    return version


def _check_etags(request: web.Request, body: FinalizeBody, version: ArtifactVersion,
                 held: set[str]) -> None:
    """Every reported part must name a manifest file, and its ETag must match what we stored."""
    by_path = {f.path: f for f in version.files}
    for i, entry in enumerate(body.multipartParts or ()):
        check_path(entry.path, f"multipartParts[{i}].path")
        f = by_path.get(entry.path)
        if f is None:
            raise errors.invalid(f"{entry.path!r} is not in the manifest",
                                 f"multipartParts[{i}].path")
        key = stage_key(request, version.project_id, f)
        for j, part in enumerate(entry.parts):
            stored = request.app[BLOBS].part_etag(key, part.partNumber)
            if stored is None and f.sha256 in held:
                continue  # already assembled by another finalize of the same content
            if stored != part.etag:
                raise errors.conflict(f"part {part.partNumber} of {entry.path!r} does not match "
                                      "the received bytes", f"multipartParts[{i}].parts[{j}].etag")


async def _publish_blobs(request: web.Request, version: ArtifactVersion,
                         held: set[str]) -> None:
    """Make sure the project holds every file's content, verified from bytes it uploaded: held
    already, or assembled now from its staged parts. 409 naming the first file that is not."""
    blobs, settings = request.app[BLOBS], request.app[SETTINGS]
    for i, f in enumerate(version.files):
        if f.sha256 in held:
            continue
        if f.size_bytes <= settings.multipart_threshold_bytes:
            raise errors.conflict(f"{f.path!r} was never uploaded (or did not match its "
                                  "size/sha256)", f"files[{i}]")
        try:
            await blobs.complete(stage_key(request, version.project_id, f))
        except (BlobIncomplete, BlobBusy) as exc:
            raise errors.conflict(f"{f.path!r}: {exc}", f"files[{i}]") from None
        except BlobMismatch as exc:
            raise errors.conflict(f"{f.path!r}: {exc}", f"files[{i}].sha256") from None
        await write_or_429(request, request.app[STORE].add_blob_holder(
            version.project_id, f.sha256, f.size_bytes))
        held.add(f.sha256)


async def use(request: web.Request) -> web.Response:
    """Resolve a ref, record lineage for the consuming run, answer ``{"artifact": {...}}``."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, UseBody)
    name, alias, number = parse_ref(body.artifactRef)
    ref = await project_for(request, principal, body, READ)
    version = await request.app[STORE].resolve_artifact(ref.project_id, name, alias, number)
    if version is None:
        err = errors.not_found(f"no ready artifact matches {body.artifactRef!r}")
        err.field = "artifactRef"
        raise err
    stamp = now_ms()
    use_row = ArtifactUse(body.runId, version.artifact_id, name, version.version,
                          body.artifactRef.strip(), stamp, stamp, 1)
    await write_or_429(request, request.app[STORE].record_artifact_use(use_row, ref.project_id))
    return json_response(request, {"artifact": artifact_json(version)})


async def download(request: web.Request) -> web.Response:
    """``{url, path, sizeBytes, sha256, expiresAtMs}`` for one file of a ready version."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, DownloadBody)
    check_path(body.path, "path")
    ref = await project_for(request, principal, body, READ)
    version = await _own_version(request, body.artifactId, ref.project_id)
    if version.state != "ready":
        raise errors.conflict(f"artifact {body.artifactId} is {version.state}", "artifactId")
    match = next((f for f in version.files if f.path == body.path), None)
    if match is None:
        err = errors.not_found(f"{body.path!r} is not a file of this artifact")
        err.field = "path"
        raise err
    url, expires_ms = download_url(request, match)
    return json_response(request, {"url": url, "path": match.path, "sizeBytes": match.size_bytes,
                                   "sha256": match.sha256, "expiresAtMs": expires_ms})


def setup_routes(app: web.Application) -> None:
    """Register the artifact control routes (and the runtime they share)."""
    install(app)
    app.router.add_post("/api/v1/artifacts/initiate", initiate)
    app.router.add_post("/api/v1/artifacts/finalize", finalize)
    app.router.add_post("/api/v1/artifacts/use", use)
    app.router.add_post("/api/v1/artifacts/download", download)
    artifacts_read.setup_routes(app)
