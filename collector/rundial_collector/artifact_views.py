"""JSON views of artifacts and the upload plan that initiate answers with (v1 doc §6.1).

Upload and download URLs name a blob by sha256 and carry everything the PUT handler needs
(size, part size) inside the signature, so a URL is scoped to exactly one blob (or one part of
it) and the PUT needs no database look-up.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rundial_collector.artifact_runtime import BLOBS, SETTINGS, SIGNER
from rundial_collector.blobstage import part_plan, part_size_for
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


def deduplicated_bytes(request: web.Request, files: list[ArtifactFile]) -> int:
    """Bytes of ``files`` whose content is already stored (counted once per sha256)."""
    blobs = request.app[BLOBS]
    sizes = {f.sha256: f.size_bytes for f in files}
    return sum(size for sha, size in sizes.items() if blobs.exists(sha))


def upload_plan(request: web.Request, files: tuple[ArtifactFile, ...]) -> list[dict[str, Any]]:
    """One entry per sha256 not stored yet: a single PUT, or the multipart parts still missing.

    Content already stored is skipped (dedup); parts already staged by an earlier, interrupted
    upload of the same content are skipped too (resume). A multipart file whose parts are all
    staged is left out: finalize assembles it.
    """
    blobs, settings = request.app[BLOBS], request.app[SETTINGS]
    base = request.app[SIGNER].base_url(request)
    plan: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in files:
        if f.sha256 in seen or blobs.exists(f.sha256):
            continue
        seen.add(f.sha256)
        if f.size_bytes <= settings.multipart_threshold_bytes:
            plan.append({"path": f.path, "uploadStrategy": "single",
                         "url": _blob_url(request, base, f), "requiredHeaders": {}})
            continue
        parts = _missing_parts(request, base, f)
        if parts:
            plan.append({"path": f.path, "uploadStrategy": "multipart", "parts": parts,
                         "partSizeBytes": part_size_for(f.size_bytes, settings.part_bytes)})
    return plan


def _blob_url(request: web.Request, base: str, f: ArtifactFile) -> str:
    settings = request.app[SETTINGS]
    url, _ = request.app[SIGNER].sign(base, "PUT", BLOB_PATH.format(sha256=f.sha256),
                                      settings.upload_url_ttl_s, {"size": str(f.size_bytes)})
    return url


def _missing_parts(request: web.Request, base: str, f: ArtifactFile) -> list[dict[str, Any]]:
    settings, signer = request.app[SETTINGS], request.app[SIGNER]
    psize = part_size_for(f.size_bytes, settings.part_bytes)
    missing = set(request.app[BLOBS].missing_parts(f.sha256, f.size_bytes, psize))
    params = {"size": str(f.size_bytes), "psize": str(psize)}
    parts = []
    for part in part_plan(f.size_bytes, psize):
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
