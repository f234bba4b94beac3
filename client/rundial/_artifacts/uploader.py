"""The artifact uploader: a dedicated worker thread plus a pool of PUT threads.

This module is the producer side (validate, journal, enqueue), ``use_artifact``, the lifecycle
and :func:`resume_journal`; the job queue, the worker thread and its retries are
:class:`rundial._artifacts.upload_worker.UploadWorker`.

Integration API (for ``Run`` / ``rd.init``; nothing here touches the metrics worker)::

    uploader = ArtifactUploader(endpoint, api_key, project_ref, run_id, spool_dir,
                                concurrency=settings.artifact_concurrency,
                                queue_capacity=settings.artifact_queue_capacity,
                                request_timeout_s=settings.request_timeout_seconds,
                                transport_factory=None)   # (endpoint, timeout) -> Transport
    run.log_artifact(p, name=, type=, aliases=, metadata=, retention_policy=)
        -> uploader.log_artifact(...)                     # bool; ValueError if p is missing
    run.checkpoint(p, step=, keep_last=5, name="checkpoint", metadata=)
        -> uploader.checkpoint(...)                       # rd.checkpoint: the current run's
    run.log({...}) with rd.Image/rd.Table values
        -> uploader.log_media(key, step, value, timestamp_ms)   # see rundial._media.is_media
    run.use_artifact("name:alias" | "name:v3" | "name") -> uploader.use_artifact(ref)
    run.flush(t) -> ... and uploader.flush(t);  run.finish()/close -> uploader.close(t)
    run.diagnostics() -> merge uploader.diagnostics()
    rundial sync -> resume_journal(spool_dir, endpoint, api_key, timeout_s=...)

``project_ref`` is ``{"projectId": ...}`` or ``{"workspace": ..., "project": ...}`` (or a
callable returning one, read at enqueue time); ``run_id`` is a string or a callable.

Contract:

* ``log_artifact``/``checkpoint``/``log_media`` only validate, journal (path-based jobs: one
  small file write) and enqueue; they return ``True`` when queued and ``False`` when the queue
  (``queue_capacity`` jobs) is full or the uploader is closed, counting the drop. Hashing,
  rendering and every HTTP call happen on the worker thread ``rundial-artifacts`` and its
  ``concurrency`` PUT threads.
* Network errors, 408/429/5xx: the job is retried with full-jitter backoff (1 s doubling to
  60 s) without limit while the process lives, and stays journaled for the next process. A
  409 (content changed, or a deduplicated blob was collected meanwhile) re-hashes and retries,
  up to :data:`~rundial._artifacts.upload_worker.MAX_CONFLICTS` times. Other 4xx reject the job for
  good: it is moved to ``<spool>/artifacts/rejected/`` and counted (``last_error`` says why).
  A job adopted from a dead process that our key may not write (401/403) is left for another
  process; one that failed for a reason of this process's own stays journaled (``kept_jobs``).
* Nothing needs a new executor or thread at interpreter exit (see
  :mod:`rundial._artifacts.part_pool`).
* ``close(timeout)`` drains up to ``timeout``; journaled jobs still pending are resumed by the
  next process using the same spool directory (or ``rundial sync``). Media values still
  pending at close are lost and counted (``dropped_media_on_close``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rundial._artifacts.handle import ArtifactHandle
from rundial._artifacts.http import BlobHttp, ControlClient, TransportFactory
from rundial._artifacts.journal import ArtifactJob, Journal
from rundial._artifacts.stats import UploaderStats
from rundial._artifacts.upload_job import (BlobRequest, MediaRequest, media_artifact_name,
                                           media_artifact_type)
from rundial._artifacts.upload_worker import UploadWorker
from rundial._config import ARTIFACT_CONCURRENCY, ARTIFACT_QUEUE_CAPACITY_JOBS
from rundial._media import is_media, pending_bytes
from rundial._values import plain_json, require_utf8_text

QUEUE_CAPACITY_JOBS = ARTIFACT_QUEUE_CAPACITY_JOBS
CONCURRENCY = ARTIFACT_CONCURRENCY
REQUEST_TIMEOUT_S = 30.0
ProjectRef = Mapping[str, str] | Callable[[], Mapping[str, str]]


class ArtifactUploader:
    """Uploads artifacts, checkpoints and media off the caller's thread (see module docs)."""

    def __init__(self, endpoint: str, api_key: str | None, project_ref: ProjectRef,
                 run_id: str | Callable[[], str], spool_dir: str | Path,
                 concurrency: int = CONCURRENCY, *, queue_capacity: int = QUEUE_CAPACITY_JOBS,
                 request_timeout_s: float = REQUEST_TIMEOUT_S,
                 transport_factory: TransportFactory | None = None,
                 adopt_orphans: bool = True, offline: bool = False) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._project_ref, self._run_id = project_ref, run_id
        self._control = ControlClient(self._endpoint, api_key, request_timeout_s,
                                      transport_factory)
        self._blob_http = BlobHttp(request_timeout_s)
        self.stats = UploaderStats()
        self._journal: Journal | None = self._open_journal(Path(spool_dir))
        self._offline = offline
        self._worker = UploadWorker(
            self._endpoint, self._control, self._blob_http, self._journal, self.stats,
            concurrency=concurrency, capacity=queue_capacity,
            adopting=adopt_orphans and not offline and self._journal is not None)
        if not offline:
            self._worker.start()

    def _open_journal(self, spool_dir: Path) -> Journal | None:
        journal = Journal(spool_dir)
        try:
            journal.open()
        except OSError as exc:
            self.stats.error(f"artifact journal unavailable ({exc}); uploads are not crash-safe")
            return None
        return journal

    # -- producer side (caller's thread) ---------------------------------------------------
    def log_artifact(self, path: str | Path, *, name: str | None = None,
                     type: str | None = None, aliases: list[str] | None = None,
                     metadata: Mapping[str, Any] | None = None,
                     retention_policy: Mapping[str, Any] | None = None) -> bool:
        """Queue a file or directory; ``ValueError`` when it does not exist, or when its path,
        name, type, an alias, metadata or retention policy holds a lone surrogate (no request
        could carry it: a file name decoded with ``surrogateescape``, say). See module docs."""
        source = Path(path)
        if not source.exists():
            raise ValueError(f"artifact path does not exist: {path}")
        source = source.resolve()
        job_name = (name or source.name).strip()
        if not job_name:
            raise ValueError("artifact name must not be empty")
        for what, value in (("artifact path", str(source)), ("artifact name", job_name),
                            ("artifact type", type), ("artifact aliases", aliases),
                            ("artifact metadata", metadata),
                            ("artifact retention_policy", retention_policy)):
            require_utf8_text(what, plain_json(value))
        job = self._job(job_name, type, source=str(source), aliases=list(aliases or []),
                        metadata=dict(metadata or {}),
                        retention=dict(retention_policy) if retention_policy else None)
        return self._enqueue(job)

    def checkpoint(self, path: str | Path, *, step: int | None = None,
                   keep_last: int | None = 5, name: str = "checkpoint",
                   metadata: Mapping[str, Any] | None = None) -> bool:
        """Queue a checkpoint: type ``checkpoint``, alias ``latest``, keep-last hint."""
        meta = dict(metadata or {})
        if step is not None:
            meta["step"] = step
        retention = None
        if keep_last is not None:
            if keep_last < 1:
                raise ValueError("keep_last must be >= 1 (or None for no retention hint)")
            retention = {"strategy": "keep_last", "keepLast": int(keep_last)}
        return self.log_artifact(path, name=name, type="checkpoint", aliases=["latest"],
                                 metadata=meta, retention_policy=retention)

    def log_media(self, key: str, step: int, value: Any, timestamp_ms: int) -> bool:
        """Queue an ``rd.Image``/``rd.Table`` logged under ``key`` at ``step`` (not journaled)."""
        if not is_media(value):
            raise TypeError(f"not a media value: {type(value).__name__}")
        if not key:
            raise ValueError("media key must not be empty")
        job = self._job(media_artifact_name(key), media_artifact_type(value),
                        metadata={"mediaKey": key, "step": step, **value.metadata},
                        media=MediaRequest(key, step, timestamp_ms, value))
        return self._enqueue(job, pending_bytes(value))

    def upload_blob(self, name: str, artifact_type: str, path: str, data: bytes,
                    content_type: str, metadata: Mapping[str, Any],
                    on_done: Callable[[str | None, int | None, str | None], None]) -> bool:
        """Queue one in-memory file as artifact ``name`` (trace evidence; never journaled).

        Returns False (nothing queued, ``on_done`` never called) when offline, full or closed;
        otherwise ``on_done(artifact_id, version, error)`` is called exactly once from the
        uploader's threads — with ``error`` when refused for good or still pending at close.
        """
        job = self._job(name, artifact_type, metadata=dict(metadata),
                        media=BlobRequest(path, data, content_type, on_done))
        return self._enqueue(job)

    def use_artifact(self, ref: str) -> ArtifactHandle:
        """Resolve ``ref`` and record lineage now (blocking); raises ``ArtifactHTTPError``.
        ``TypeError`` when ``ref`` is not a str, ``ValueError`` when it is blank or holds a
        lone surrogate (no request could carry it), before any request."""
        if not isinstance(ref, str):
            raise TypeError(f"artifact_ref must be a str, not {type(ref).__name__}")
        if not ref.strip():
            raise ValueError("artifact ref must not be empty")
        require_utf8_text("artifact_ref", ref)
        if self._offline:
            raise RuntimeError("use_artifact needs the collector; this run is offline")
        project = dict(_value(self._project_ref))
        answer = self._control.post("/api/v1/artifacts/use", {
            **project, "runId": _value(self._run_id), "artifactRef": ref.strip()})
        artifact = answer.get("artifact")
        if not isinstance(artifact, dict) or "artifactId" not in artifact:
            raise RuntimeError("artifact use failed: the answer has no artifact")
        return ArtifactHandle(artifact, project, self._control, self._blob_http)

    def _job(self, name: str, artifact_type: str | None, **fields: Any) -> ArtifactJob:
        for key in ("metadata", "retention"):  # journaled and sent as JSON: numpy -> numbers
            if fields.get(key) is not None:
                fields[key] = plain_json(fields[key])
        return ArtifactJob(project=dict(_value(self._project_ref)), run_id=_value(self._run_id),
                           name=name, endpoint=self._endpoint, artifact_type=artifact_type,
                           **fields)

    def _enqueue(self, job: ArtifactJob, media_bytes: int | None = None) -> bool:
        if self._offline:
            return self._journal_offline(job)
        return self._worker.put(job, self._journal_add, media_bytes)

    def _journal_add(self, job: ArtifactJob) -> None:
        """Journal a path-based job before the worker can see it (under the queue's lock)."""
        if job.media is None and self._journal is not None:
            try:
                self._journal.add(job)
            except OSError as exc:
                self.stats.error(f"could not journal {job.name}: {exc}")

    def _journal_offline(self, job: ArtifactJob) -> bool:
        """Offline: journal a path-based job with no owner (``rundial sync`` uploads it later);
        media values cannot wait on disk, so they are dropped and counted."""
        if job.media is not None or self._journal is None:
            self.stats.bump("dropped_offline")
            return False
        try:
            self._journal.release(job)
        except OSError as exc:
            self.stats.error(f"could not journal {job.name}: {exc}")
            return False
        self.stats.bump("journaled_offline")
        return True

    # -- lifecycle ---------------------------------------------------------------------------
    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until nothing is queued, running or being adopted; False at the deadline."""
        return self._worker.flush(timeout_s)

    def close(self, timeout_s: float | None = 5.0) -> bool:
        """Stop taking jobs, drain up to ``timeout_s``, stop the threads; True when drained."""
        drained = self._worker.close(timeout_s)
        if self._journal is not None:
            self._journal.close()
        self._control.close()
        self._blob_http.close()
        return drained

    def diagnostics(self) -> dict[str, Any]:
        """Counters (see :class:`UploaderStats`) plus queue depth and journal backlog."""
        depth, active = self._worker.depth()
        journaled = self._journal.pending() if self._journal is not None else 0
        return self.stats.snapshot(queue_depth=depth, active_jobs=active,
                                   journaled_jobs=journaled,
                                   worker_running=self._worker.is_alive())


def _value(ref: Any) -> Any:
    return ref() if callable(ref) else ref


def resume_journal(spool_dir: str | Path, endpoint: str, api_key: str | None, *,
                   timeout_s: float | None = 60.0, concurrency: int = CONCURRENCY,
                   transport_factory: TransportFactory | None = None) -> int:
    """Upload the journaled jobs of dead processes for ``endpoint``; return how many finished.

    Blocks up to ``timeout_s``; jobs not finished by then stay journaled for the next try.
    """
    uploader = ArtifactUploader(endpoint, api_key, {}, "", spool_dir, concurrency,
                                transport_factory=transport_factory)
    uploader.close(timeout_s)
    return int(uploader.diagnostics()["completed_jobs"])
