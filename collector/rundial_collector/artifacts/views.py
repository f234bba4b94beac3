"""JSON views of artifacts and the upload plan that initiate answers with (v1 doc §6.1).

Upload and download URLs name a blob by sha256 and carry everything the PUT handler needs
(size, part size, the project the upload is for) inside the signature, so a URL is scoped to
exactly one blob (or one part of it) of one project.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rundial_collector.artifacts.blobstage import part_plan, part_size_for
from rundial_collector.artifacts.blobstore import StageKey
from rundial_collector.artifacts.runtime import BLOBS, SETTINGS, SIGNER
from rundial_collector.store.artifacts_base import ArtifactFile, ArtifactUse, ArtifactVersion

BLOB_PATH = "/api/v1/artifacts/blobs/{sha256}"
PART_PATH = "/api/v1/artifacts/blobs/{sha256}/parts/{number}"


def artifact_json(v: ArtifactVersion) -> dict[str, Any]:
    """The ``artifact`` object of finalize/use: what the rc1 download helper reads, and more."""
    return {
        "artifactId": v.artifact_id, "projectId": v.project_id, "runId": v.run_id,
        "name": v.name, "version": v.version, "artifactType": v.artifact_type,
        "state": v.state, "aliases": list(v.aliases), "metadata": v.metadata,
        "keepLast": v.keep_last, "createdAtMs": v.created_ms, "finalizedAtMs": v.finalized_ms,
        "sizeBytes": v.size_bytes, "deduplicatedBytes": v.deduplicated_bytes,
        "files": [file_json(f) for f in v.files],
    }


def file_json(f: ArtifactFile) -> dict[str, Any]:
    out: dict[str, Any] = {"path": f.path, "sizeBytes": f.size_bytes, "sha256": f.sha256}
    if f.content_type:
        out["contentType"] = f.content_type
    return out


def use_json(u: ArtifactUse) -> dict[str, Any]:
    return {"runId": u.run_id, "artifactId": u.artifact_id, "name": u.name,
            "version": u.version, "ref": u.ref, "firstUsedAtMs": u.first_used_ms,
            "lastUsedAtMs": u.last_used_ms, "useCount": u.use_count}


def deduplicated_bytes(files: list[ArtifactFile], held: set[str]) -> int:
    """Bytes of ``files`` whose content the project holds (counted once per sha256)."""
    sizes = {f.sha256: f.size_bytes for f in files}
    return sum(size for sha, size in sizes.items() if sha in held)


def upload_plan(request: web.Request, version: ArtifactVersion,
                held: set[str]) -> list[dict[str, Any]]:
    """One entry per sha256 the project does not hold: a single PUT, or the multipart parts
    still missing.

    Content the project holds (``held``: stored, and uploaded by this project before) is
    skipped (dedup); content stored only for other projects is planned like unknown content, so
    the answer never tells whether another project has it. Parts this project staged in an
    earlier, interrupted upload of the same content are skipped too (resume). A multipart file
    whose parts are all staged is left out: finalize assembles it.
    """
    settings = request.app[SETTINGS]
    base = request.app[SIGNER].base_url(request)
    plan: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in version.files:
        if f.sha256 in seen or f.sha256 in held:
            continue
        seen.add(f.sha256)
        if f.size_bytes <= settings.multipart_threshold_bytes:
            plan.append({"path": f.path, "uploadStrategy": "single",
                         "url": _blob_url(request, base, f, version.project_id),
                         "requiredHeaders": {}})
            continue
        parts = _missing_parts(request, base, f, version.project_id)
        if parts:
            plan.append({"path": f.path, "uploadStrategy": "multipart", "parts": parts,
                         "partSizeBytes": part_size_for(f.size_bytes, settings.part_bytes)})
    return plan


def stage_key(request: web.Request, project_id: str, f: ArtifactFile) -> StageKey:
    """Where ``project_id``'s multipart upload of ``f`` is staged."""
    psize = part_size_for(f.size_bytes, request.app[SETTINGS].part_bytes)
    return StageKey.of(project_id, f.sha256, f.size_bytes, psize)


def _blob_url(request: web.Request, base: str, f: ArtifactFile, project_id: str) -> str:
    settings = request.app[SETTINGS]
    url, _ = request.app[SIGNER].sign(base, "PUT", BLOB_PATH.format(sha256=f.sha256),
                                      settings.upload_url_ttl_s,
                                      {"size": str(f.size_bytes), "prj": project_id})
    return url


def _missing_parts(request: web.Request, base: str, f: ArtifactFile,
                   project_id: str) -> list[dict[str, Any]]:
    settings, signer = request.app[SETTINGS], request.app[SIGNER]
    key = stage_key(request, project_id, f)
    missing = set(request.app[BLOBS].missing_parts(key))
    params = {"size": str(f.size_bytes), "psize": str(key.part_size), "prj": project_id}
    parts = []
    for part in part_plan(f.size_bytes, key.part_size):
        if part.number not in missing:
            continue
        url, _ = signer.sign(base, "PUT", PART_PATH.format(sha256=f.sha256, number=part.number),
                             settings.upload_url_ttl_s, params)
        parts.append({"partNumber": part.number, "offsetBytes": part.offset,
                      "sizeBytes": part.size, "url": url, "requiredHeaders": {}})
    return parts


def download_url(request: web.Request, f: ArtifactFile) -> tuple[str, int]:
    """A signed GET URL of the blob behind ``f`` and its expiry (unix ms)."""
    signer = request.app[SIGNER]
    name = f.path.rsplit("/", 1)[-1]
    return signer.sign(signer.base_url(request), "GET", BLOB_PATH.format(sha256=f.sha256),
                       request.app[SETTINGS].download_url_ttl_s, {"name": name})
