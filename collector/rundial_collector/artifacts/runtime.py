"""Shared state of the artifact routes: settings, blob store, URL signer, garbage collection.

:func:`install` (idempotent) adds to the app a cleanup context that starts the blob store,
loads the signing secret and runs :func:`sweep` every :attr:`ArtifactSettings.gc_interval_s`.

Settings come from :class:`~rundial_collector.config.CollectorConfig` (``artifact_*`` fields,
``RUNDIAL_COLLECTOR_ARTIFACT_*`` in the environment): part size (8 MiB), multipart threshold
(files larger than this upload in parts; default = part size), upload/download URL lifetimes
(6 h / 1 h), pending TTL (unfinalized uploads and staged parts are dropped after 24 h) and the
GC interval (1 h).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiohttp import web

from rundial_collector.artifacts.blobstore import BlobStore, LocalBlobStore
from rundial_collector.artifacts.models import Target
from rundial_collector.artifacts.signing import UrlSigner, load_or_create_secret
from rundial_collector.config import CollectorConfig
from rundial_collector.web import auth
from rundial_collector.web.appkeys import CONFIG, STORE
from rundial_collector.web.auth import Principal, ProjectRef

log = logging.getLogger("rundial.collector.artifacts")
MiB = 1024 * 1024
WRITE = frozenset({"artifacts:write"})
# Trace evidence (v1 doc §5.5) is uploaded by the ingest worker with a traces key.
TRACE_EVIDENCE_WRITE = frozenset({"artifacts:write", "traces:write"})
READ = frozenset({"project:read", "artifacts:write"})
ORPHAN_GRACE_S = 3600.0  # an unreferenced blob younger than this may be mid-upload: keep it


@dataclass(frozen=True)
class ArtifactSettings:
    part_bytes: int = 8 * MiB  # the rc1 SDK holds one part in memory: keep it modest
    multipart_threshold_bytes: int = 8 * MiB
    upload_url_ttl_s: int = 6 * 3600
    download_url_ttl_s: int = 3600
    pending_ttl_s: int = 24 * 3600
    gc_interval_s: int = 3600

    @classmethod
    def from_config(cls, config: CollectorConfig) -> ArtifactSettings:
        """The ``artifact_*`` fields of ``config``; ``ValueError`` for a part under 1 KiB."""
        if config.artifact_part_bytes < 1024 or config.artifact_multipart_threshold_bytes < 0:
            raise ValueError("RUNDIAL_COLLECTOR_ARTIFACT_PART_BYTES must be >= 1024 and the "
                             "multipart threshold >= 0")
        return cls(part_bytes=config.artifact_part_bytes,
                   multipart_threshold_bytes=(config.artifact_multipart_threshold_bytes
                                              or config.artifact_part_bytes),
                   upload_url_ttl_s=config.artifact_upload_url_ttl_seconds,
                   download_url_ttl_s=config.artifact_download_url_ttl_seconds,
                   pending_ttl_s=config.artifact_pending_ttl_seconds,
                   gc_interval_s=config.artifact_gc_interval_seconds)


BLOBS = web.AppKey("rundial_blobs", BlobStore)
SIGNER = web.AppKey("rundial_url_signer", UrlSigner)
SETTINGS = web.AppKey("rundial_artifact_settings", ArtifactSettings)


def install(app: web.Application) -> None:
    """Register the artifact runtime on ``app`` once (any artifact route module may call it)."""
    if SETTINGS in app:
        return
    app[SETTINGS] = ArtifactSettings.from_config(app[CONFIG])
    app.cleanup_ctx.append(_lifecycle)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    blobs = LocalBlobStore(config.data_dir / "blobs")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, blobs.start)
    secret = await loop.run_in_executor(None, load_or_create_secret, config.data_dir)
    app[BLOBS] = blobs
    app[SIGNER] = UrlSigner(secret, config.public_url)
    task = asyncio.create_task(_periodic_sweep(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await loop.run_in_executor(None, blobs.close)


async def _periodic_sweep(app: web.Application) -> None:
    interval = app[SETTINGS].gc_interval_s
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep(app)
        except Exception:  # the next round retries; never kill the collector for GC
            log.exception("artifact garbage collection failed")


async def delete_orphans(app: web.Application, sha256s: Iterable[str]) -> tuple[int, int]:
    """Delete blobs that are still unreferenced now; return (blobs deleted, bytes reclaimed).

    Each candidate is re-checked against the store just before its deletion, so a blob that an
    upload started to reference in the meantime is kept. The projects that held a deleted blob
    no longer do (a later upload of the content must send the bytes again). An upload that begins referencing it
    in the remaining window (between that check and the unlink) gets a 409 at finalize naming
    the missing file, and re-initiating uploads it again.
    """
    store, blobs = app[STORE], app[BLOBS]
    deleted = reclaimed = 0
    for sha in sorted(set(sha256s)):
        if await store.unreferenced_blobs([sha]):
            freed = await blobs.delete(sha)
            await store.forget_blob_holders(sha)
            deleted += 1 if freed else 0
            reclaimed += freed
    return deleted, reclaimed


async def sweep(app: web.Application) -> dict[str, int] | None:
    """Expire stale uploads, drop stale staged parts and unreferenced blobs; report bytes.

    Only one collector of a database sweeps at a time (the store's sweep lock): None when
    another one is sweeping now, and this round is skipped."""
    async with app[STORE].sweep_lock() as mine:
        if not mine:
            log.info("artifact garbage collection skipped: another collector is sweeping")
            return None
        return await _sweep_now(app)


async def _sweep_now(app: web.Application) -> dict[str, int]:
    settings, store, blobs = app[SETTINGS], app[STORE], app[BLOBS]
    now = time.time()
    expired = await store.expire_artifact_uploads(int(now * 1000))
    staged = await blobs.sweep_staging(settings.pending_ttl_s)
    listing = await asyncio.get_running_loop().run_in_executor(None, list, blobs.iter_blobs())
    old = [sha for sha, mtime in listing if mtime < now - ORPHAN_GRACE_S]
    candidates = set(expired) | set(await store.unreferenced_blobs(old))
    deleted, reclaimed = await delete_orphans(app, candidates)
    return {"deletedBlobs": deleted, "reclaimedBytes": reclaimed + staged,
            "stagedBytesReclaimed": staged}


async def project_for(request: web.Request, principal: Principal, target: Target,
                      scopes: frozenset[str]) -> ProjectRef:
    """Resolve the target project (400/404/409) and require one of ``scopes`` on it (403)."""
    ref = await auth.resolve_project(request, principal, project_id=target.projectId,
                                     workspace=target.workspace, project=target.project)
    principal.require_any(scopes, ref)
    return ref


def query_target(request: web.Request) -> Target:
    """The project named by the query string of a GET route."""
    q = request.query
    return Target(projectId=q.get("projectId"), workspace=q.get("workspace"),
                  project=q.get("project"))
