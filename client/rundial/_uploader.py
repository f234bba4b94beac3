"""The artifact uploader: a dedicated worker thread plus a pool of PUT threads.

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
  up to :data:`MAX_CONFLICTS` times. Other 4xx reject the job for good: it is moved to
  ``<spool>/artifacts/rejected/`` and counted (``last_error`` says why). A job adopted from a
  dead process that our key may not write (401/403) is left for another process.
* ``close(timeout)`` drains up to ``timeout``; journaled jobs still pending are resumed by the
  next process using the same spool directory (or ``rundial sync``). Media values still
  pending at close are lost and counted (``dropped_media_on_close``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rundial._artifact_handle import ArtifactHandle
from rundial._artifact_http import (ArtifactHTTPError, BlobHttp, ControlClient,
                                    TransportFactory)
from rundial._artifacts import ArtifactJob, Journal
from rundial._config import ARTIFACT_CONCURRENCY, ARTIFACT_QUEUE_CAPACITY_JOBS
from rundial._media import is_media
from rundial._retry import Backoff
from rundial._transport import TransportError
from rundial._upload_job import (BlobRequest, ContentChanged, JobResult, MediaRequest, execute,
                                 media_artifact_name, media_artifact_type)
from rundial._uploader_stats import UploaderStats

QUEUE_CAPACITY_JOBS = ARTIFACT_QUEUE_CAPACITY_JOBS
CONCURRENCY = ARTIFACT_CONCURRENCY
REQUEST_TIMEOUT_S = 30.0
RETRY_BASE_S, RETRY_CAP_S = 1.0, 60.0
MAX_CONFLICTS = 3  # re-hash attempts after a 409 before the job is rejected
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
        self._capacity = max(1, queue_capacity)
        self._control = ControlClient(self._endpoint, api_key, request_timeout_s,
                                      transport_factory)
        self._blob_http = BlobHttp(request_timeout_s)
        self._pool = ThreadPoolExecutor(max(1, concurrency), "rundial-artifact-put")
        self.stats = UploaderStats()
        self._journal: Journal | None = self._open_journal(Path(spool_dir))
        self._pending: list[ArtifactJob] = []
        self._cond = threading.Condition()
        self._active = 0
        self._own = 0  # jobs of this process queued or running (adopted ones do not count)
        self._adopted: set[str] = set()
        self._offline = offline
        self._adopting = adopt_orphans and not offline and self._journal is not None
        self._closing = self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="rundial-artifacts", daemon=True)
        if not offline:
            self._thread.start()

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
        """Queue a file or directory; ``ValueError`` when it does not exist. See module docs."""
        source = Path(path)
        if not source.exists():
            raise ValueError(f"artifact path does not exist: {path}")
        source = source.resolve()
        job_name = (name or source.name).strip()
        if not job_name:
            raise ValueError("artifact name must not be empty")
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
        return self._enqueue(job)

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
        """Resolve ``ref`` and record lineage now (blocking); raises ``ArtifactHTTPError``."""
        if not ref or not ref.strip():
            raise ValueError("artifact ref must not be empty")
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
        return ArtifactJob(project=dict(_value(self._project_ref)), run_id=_value(self._run_id),
                           name=name, endpoint=self._endpoint, artifact_type=artifact_type,
                           **fields)

    def _enqueue(self, job: ArtifactJob) -> bool:
        if self._offline:
            return self._journal_offline(job)
        with self._cond:
            if self._closing or self._own >= self._capacity:
                self.stats.bump("dropped_queue_full" if not self._closing else "dropped_closed")
                return False
            if job.media is None and self._journal is not None:
                try:
                    self._journal.add(job)
                except OSError as exc:
                    self.stats.error(f"could not journal {job.name}: {exc}")
            self._own += 1
            self._pending.append(job)
            self.stats.bump("queued_jobs")
            self._cond.notify_all()
        return True

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

    # -- worker side -----------------------------------------------------------------------
    def _loop(self) -> None:
        if self._adopting:
            self._adopt()
        while (job := self._next_job()) is not None:
            try:
                self._process(job)
            except Exception as exc:  # a journal write failed: keep the worker alive
                self.stats.error(f"artifact worker: {type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def _adopt(self) -> None:
        assert self._journal is not None
        try:
            jobs = self._journal.adopt(self._endpoint, self._adopted)
        except OSError as exc:
            self.stats.error(f"could not read the artifact journal: {exc}")
            jobs = []
        with self._cond:
            self._adopted.update(job.job_id for job in jobs)
            self._pending.extend(jobs)
            self.stats.bump("adopted_jobs", len(jobs))
            self._adopting = False
            self._cond.notify_all()

    def _next_job(self) -> ArtifactJob | None:
        """The first job whose backoff has elapsed; None once stopped."""
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                ready = next((j for j in self._pending if j.not_before <= now), None)
                if ready is not None:
                    self._pending.remove(ready)
                    self._active += 1
                    return ready
                wake = min((j.not_before for j in self._pending), default=now + 3600.0)
                self._cond.wait(max(0.0, wake - now))
            return None

    def _process(self, job: ArtifactJob) -> None:
        try:
            result = execute(job, self._control, self._blob_http, self._pool)
        except Exception as exc:  # classified below; nothing escapes the worker
            self._failed(job, exc)
            return
        self._done(job, result)

    def _done(self, job: ArtifactJob, result: JobResult) -> None:
        if job.media is None and self._journal is not None:
            self._journal.remove(job)
        self.stats.completed(result)
        self._finish(job, result)

    def _finish(self, job: ArtifactJob, result: JobResult | None = None,
                error: str = "upload not completed") -> None:
        with self._cond:
            if job.job_id not in self._adopted:
                self._own -= 1
        if isinstance(job.media, BlobRequest):
            job.media.settle(result.artifact_id if result else None,
                             result.version if result else None, None if result else error)

    def _failed(self, job: ArtifactJob, exc: Exception) -> None:
        if self._stopped:  # interrupted by close(): stays journaled for the next process
            self._finish(job)
            return
        verdict = _classify(exc, job, job.job_id in self._adopted)
        self.stats.error(f"artifact {job.name!r}: {type(exc).__name__}: {exc}")
        if verdict in ("reject", "release"):
            self._give_up(job, str(exc), verdict)
            return
        if verdict == "redo":
            job.failures += 1
        job.backoff = job.backoff or Backoff(RETRY_BASE_S, RETRY_CAP_S)
        retry_after = exc.retry_after if isinstance(exc, ArtifactHTTPError) else None
        job.not_before = time.monotonic() + job.backoff.failed(retry_after)
        self.stats.bump("retried_attempts")
        with self._cond:
            if not self._stopped:
                self._pending.append(job)
                return
        self._finish(job)

    def _give_up(self, job: ArtifactJob, reason: str, verdict: str) -> None:
        """Reject a job for good (kept under rejected/) or release it to other processes."""
        if job.media is None and self._journal is not None:
            if verdict == "release":
                self._journal.release(job)
            else:
                self._journal.reject(job, reason)
        self.stats.bump("released_jobs" if verdict == "release" else "rejected_jobs")
        self._finish(job, error=reason)

    # -- lifecycle ---------------------------------------------------------------------------
    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until nothing is queued, running or being adopted; False at the deadline."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while self._pending or self._active or self._adopting:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout_s: float | None = 5.0) -> bool:
        """Stop taking jobs, drain up to ``timeout_s``, stop the threads; True when drained."""
        with self._cond:
            self._closing = True
        drained = self.flush(timeout_s)
        with self._cond:
            self._stopped = True
            lost_media = sum(1 for j in self._pending if j.media is not None)
            blobs = [j.media for j in self._pending if isinstance(j.media, BlobRequest)]
            self._cond.notify_all()
        for blob in blobs:
            blob.settle(None, None, "the uploader closed before the upload")
        self.stats.bump("dropped_media_on_close", lost_media)
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._journal is not None:
            self._journal.close()
        self._control.close()
        self._blob_http.close()
        return drained

    def diagnostics(self) -> dict[str, Any]:
        """Counters (see :class:`UploaderStats`) plus queue depth and journal backlog."""
        with self._cond:
            depth, active = len(self._pending), self._active
        journaled = self._journal.pending() if self._journal is not None else 0
        return self.stats.snapshot(queue_depth=depth, active_jobs=active,
                                   journaled_jobs=journaled,
                                   worker_running=self._thread.is_alive())


def _value(ref: Any) -> Any:
    return ref() if callable(ref) else ref


def _classify(exc: Exception, job: ArtifactJob, adopted: bool) -> str:
    """``retry`` later, ``redo`` (a conflict: re-hash and retry), ``reject`` or ``release``."""
    if isinstance(exc, TransportError):
        return "retry"
    if isinstance(exc, ContentChanged) or (isinstance(exc, ArtifactHTTPError)
                                           and exc.status == 409):
        return "redo" if job.failures < MAX_CONFLICTS else "reject"
    if isinstance(exc, ArtifactHTTPError):
        if exc.retryable:
            return "retry"
        return "release" if adopted and exc.status in (401, 403) else "reject"
    return "reject"  # missing/empty source, malformed answer: retrying cannot help


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
