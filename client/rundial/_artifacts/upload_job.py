"""One artifact job over the wire (v1 doc §6): initiate, parallel PUTs, finalize, media.

:func:`execute` runs on the artifact worker thread. It builds the manifest (hashing files in
place, or rendering a media value), asks the collector for an upload plan, PUTs every single
file and every multipart part on the shared part pool (so at most ``artifact_concurrency``
transfers run at once, across files and parts), then finalizes. Each PUT opens its own handle
on the source file and streams its byte range from it: no copy in memory or on disk.

Failures propagate as the exceptions of :mod:`rundial._artifacts.http`, ``OSError`` (source
unreadable) or :class:`ContentChanged` (a source file changed while it was being uploaded);
the uploader decides between retry, re-hash and reject.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import IO, Any

from rundial._artifacts.http import BlobHttp, ControlClient
from rundial._artifacts.journal import ArtifactJob, ManifestFile, build_manifest, bytes_entry
from rundial._media import Image, MediaFile, RenderedMedia

_UNSAFE_MEDIA_NAME = re.compile(r"[^a-zA-Z0-9_.-]+")


class ContentChanged(RuntimeError):
    """A source file changed between hashing and the end of its upload."""


@dataclass(frozen=True)
class MediaRequest:
    """A media value logged at (key, step, timestamp); rendered by the worker."""

    key: str
    step: int
    timestamp_ms: int
    value: Any  # _media.Image | _media.Table | _media.MediaFile


class BlobRequest:
    """One in-memory file to publish as an artifact (trace evidence), with a completion callback.

    ``on_done(artifact_id, version, error)`` is called at most once: with the artifact on
    success, else with ``error`` (refused for good, or still pending when the uploader closed).
    Never journaled: the bytes live in memory only.
    """

    __slots__ = ("path", "data", "content_type", "_on_done")

    def __init__(self, path: str, data: bytes, content_type: str,
                 on_done: Callable[[str | None, int | None, str | None], None]) -> None:
        self.path, self.data, self.content_type = path, data, content_type
        self._on_done: Callable[[str | None, int | None, str | None], None] | None = on_done

    def settle(self, artifact_id: str | None, version: int | None, error: str | None) -> None:
        """Call the callback once (later calls do nothing); its exceptions are swallowed."""
        callback, self._on_done = self._on_done, None
        if callback is not None:
            try:
                callback(artifact_id, version, error)
            except Exception:
                pass


@dataclass(frozen=True)
class JobResult:
    artifact_id: str
    version: int
    uploaded_bytes: int
    deduplicated_bytes: int
    skipped_files: tuple[str, ...] = ()  # left out: no UTF-8 form (``build_manifest``)


def media_artifact_name(key: str) -> str:
    """``media-<key>`` with anything outside ``[A-Za-z0-9_.-]`` folded to ``-`` (as rc1 does)."""
    return "media-" + (_UNSAFE_MEDIA_NAME.sub("-", key).strip("-")[:96] or "media")


def media_artifact_type(value: Any) -> str:
    """``media_image``, ``media_table``, or ``media_<type>`` of a :class:`MediaFile`."""
    if isinstance(value, MediaFile):
        return f"media_{value.media_type}"
    return "media_image" if isinstance(value, Image) else "media_table"


def job_manifest(job: ArtifactJob, skipped: list[str] | None = None
                 ) -> tuple[list[ManifestFile], RenderedMedia | None]:
    """The files of ``job`` (hashing them now) and, for media, the rendered value; the files
    of a directory left out are appended to ``skipped`` (see ``build_manifest``)."""
    if job.media is None:
        assert job.source is not None
        return build_manifest(Path(job.source), skipped), None
    if isinstance(job.media, BlobRequest):
        blob = job.media
        return [bytes_entry(blob.path, blob.data, blob.content_type)], None
    rendered: RenderedMedia = job.media.value.render()
    if rendered.source is not None:
        return build_manifest(rendered.source), rendered
    assert rendered.data is not None
    content_type = rendered.content_type or (
        "image/png" if rendered.media_type == "image" else "application/json")
    return [bytes_entry(rendered.filename, rendered.data, content_type)], rendered


def execute(job: ArtifactJob, control: ControlClient, blob_http: BlobHttp,
            pool: Executor) -> JobResult:
    """Upload ``job`` end to end and return what the collector published."""
    skipped: list[str] = []
    manifest, rendered = job_manifest(job, skipped)
    initiated = control.post("/api/v1/artifacts/initiate", _initiate_body(job, manifest))
    by_path = {f.path: f for f in manifest}
    uploaded, multipart = _upload(initiated.get("files") or [], by_path, blob_http, pool)
    if any(f.changed() for f in manifest):
        raise ContentChanged(f"{job.source} changed while it was being uploaded")
    finalized = control.post("/api/v1/artifacts/finalize", {
        **job.project, "runId": job.run_id, "artifactId": initiated["artifactId"],
        "uploadId": initiated["uploadId"], **({"multipartParts": multipart} if multipart else {})})
    artifact = finalized["artifact"]
    if rendered is not None:
        control.post("/api/v1/ingest/media", _media_body(job, artifact, manifest[0], rendered))
    total = sum({f.sha256: f.size for f in manifest}.values())
    return JobResult(str(artifact["artifactId"]), int(artifact["version"]), uploaded,
                     max(0, total - uploaded), tuple(skipped))


def _initiate_body(job: ArtifactJob, manifest: list[ManifestFile]) -> dict[str, Any]:
    body: dict[str, Any] = {**job.project, "runId": job.run_id, "name": job.name,
                            "files": [f.wire() for f in manifest], "idempotencyKey": job.job_id}
    if job.artifact_type:
        body["artifactType"] = job.artifact_type
    if job.aliases:
        body["aliases"] = list(job.aliases)
    if job.metadata:
        body["metadata"] = job.metadata
    if job.retention is not None:
        body["retentionPolicy"] = job.retention
    return body


def _upload(plan: list[dict[str, Any]], by_path: dict[str, ManifestFile], blob_http: BlobHttp,
            pool: Executor) -> tuple[int, list[dict[str, Any]]]:
    """Run every PUT of the plan on ``pool``; (bytes sent, finalize's multipartParts)."""
    tasks: list[tuple[str, int | None, Future[dict[str, str]]]] = []
    sent = 0
    for entry in plan:
        source = by_path.get(str(entry.get("path")))
        if source is None:
            raise ValueError(f"the collector asked for an unknown file {entry.get('path')!r}")
        for number, offset, size, url, headers in _transfers(entry, source):
            tasks.append((source.path, number, pool.submit(
                _put, blob_http, source, url, offset, size, headers)))
            sent += size
    _wait_all([future for _, _, future in tasks])
    parts: dict[str, list[dict[str, Any]]] = {}
    for path, number, future in tasks:
        if number is not None:
            etag = future.result().get("etag")
            if not etag:
                raise ValueError("a multipart PUT was answered without an ETag")
            parts.setdefault(path, []).append({"partNumber": number, "etag": etag})
    return sent, [{"path": path, "parts": p} for path, p in parts.items()]


def _transfers(entry: dict[str, Any], source: ManifestFile
               ) -> list[tuple[int | None, int, int, str, dict[str, str]]]:
    """(part number or None, offset, size, url, headers) of every PUT one plan entry needs."""
    if entry.get("uploadStrategy") == "single":
        return [(None, 0, source.size, str(entry["url"]), _headers(entry))]
    if entry.get("uploadStrategy") != "multipart":
        raise ValueError(f"unknown upload strategy {entry.get('uploadStrategy')!r}")
    return [(int(p["partNumber"]), int(p["offsetBytes"]), int(p["sizeBytes"]), str(p["url"]),
             _headers(p)) for p in entry.get("parts") or []]


def _headers(entry: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (entry.get("requiredHeaders") or {}).items()}


def _put(blob_http: BlobHttp, source: ManifestFile, url: str, offset: int, size: int,
         headers: dict[str, str]) -> dict[str, str]:
    with _open(source) as fh:
        return blob_http.put_file(url, fh, offset, size, headers)


def _open(source: ManifestFile) -> IO[bytes]:
    if source.data is not None:
        return io.BytesIO(source.data)
    assert source.source is not None
    return open(source.source, "rb")


def _wait_all(futures: list[Future[Any]]) -> None:
    """Wait for every future; on the first failure cancel the rest and re-raise it."""
    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    for future in pending:
        future.cancel()
    wait(pending)
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            raise future.exception()  # type: ignore[misc]


def _media_body(job: ArtifactJob, artifact: dict[str, Any], file: ManifestFile,
                rendered: RenderedMedia) -> dict[str, Any]:
    media: MediaRequest = job.media
    item = {**job.project, "runId": job.run_id, "mediaKey": media.key,
            "mediaType": rendered.media_type, "step": media.step,
            "timestampMs": media.timestamp_ms, "artifactPath": file.path,
            "caption": getattr(media.value, "caption", None), "width": rendered.width,
            "height": rendered.height, "tableRows": rendered.rows,
            "tableColumns": rendered.columns, "metadata": dict(media.value.metadata),
            "artifactId": artifact["artifactId"], "artifactVersion": artifact["version"],
            "artifactSha256": file.sha256}
    return {**job.project, "runId": job.run_id, "items": [item]}

