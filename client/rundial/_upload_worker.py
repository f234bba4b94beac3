"""The artifact uploader's worker: a bounded job queue drained by the ``rundial-artifacts`` thread.

:class:`UploadWorker` belongs to :class:`rundial._uploader.ArtifactUploader`. Callers' threads
``put`` jobs; the worker thread first adopts the journaled jobs of dead processes (when asked
to), then runs each ready job with :func:`rundial._upload_job.execute` (its PUTs on a pool of
``concurrency`` threads) and settles the outcome in the journal and the stats. The uploader's
``flush``/``close`` wait on it. All queue state is guarded by one condition variable.

Contract:

* Only this process's own jobs count against ``capacity``, from ``put`` until they finish;
  adopted jobs never do. ``put`` refuses a job when the queue is full or closed (returns False,
  counting ``dropped_queue_full`` or ``dropped_closed``); otherwise it calls ``admit(job)``
  (journaling) under the lock, before the worker thread can see the job.
* Network errors, 408/429/5xx: the job is retried with full-jitter backoff (1 s doubling to
  60 s, or the server's ``Retry-After`` when longer) without limit while the process lives and
  stays journaled. A 409 or :class:`~rundial._upload_job.ContentChanged` re-hashes and retries,
  up to :data:`MAX_CONFLICTS` times. Any other failure rejects the job for good (journaled jobs
  move to ``<spool>/artifacts/rejected/``), except that an adopted job our key may not write
  (401/403) is released to other processes. Each failure sets the stats' ``last_error``;
  nothing escapes the worker thread.
* ``close(timeout)`` drains up to ``timeout``, then stops the thread: a job interrupted by it
  stays journaled, media values still queued are lost (``dropped_media_on_close``) and pending
  in-memory blobs are settled with an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rundial._artifact_http import ArtifactHTTPError, BlobHttp, ControlClient
from rundial._artifacts import ArtifactJob, Journal
from rundial._retry import Backoff
from rundial._transport import TransportError
from rundial._upload_job import BlobRequest, ContentChanged, JobResult, execute
from rundial._uploader_stats import UploaderStats

RETRY_BASE_S, RETRY_CAP_S = 1.0, 60.0
MAX_CONFLICTS = 3  # re-hash attempts after a 409 before the job is rejected


class UploadWorker:
    """The job queue and the thread that drains it (see module docs)."""

    def __init__(self, endpoint: str, control: ControlClient, blob_http: BlobHttp,
                 journal: Journal | None, stats: UploaderStats, *, concurrency: int,
                 capacity: int, adopting: bool) -> None:
        self._endpoint = endpoint
        self._control, self._blob_http, self._journal = control, blob_http, journal
        self._stats = stats
        self._capacity = max(1, capacity)
        self._pool = ThreadPoolExecutor(max(1, concurrency), "rundial-artifact-put")
        self._pending: list[ArtifactJob] = []
        self._cond = threading.Condition()
        self._active = 0
        self._own = 0  # jobs of this process queued or running (adopted ones do not count)
        self._adopted: set[str] = set()
        self._adopting = adopting
        self._closing = self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="rundial-artifacts", daemon=True)

    def start(self) -> None:
        """Start the worker thread (never called offline)."""
        self._thread.start()

    def put(self, job: ArtifactJob, admit: Callable[[ArtifactJob], None]) -> bool:
        """Queue one of our own jobs, calling ``admit(job)`` under the lock first; False (drop
        counted) when ``capacity`` own jobs are unfinished or the queue is closed."""
        with self._cond:
            if self._closing or self._own >= self._capacity:
                self._stats.bump("dropped_queue_full" if not self._closing else "dropped_closed")
                return False
            admit(job)
            self._own += 1
            self._pending.append(job)
            self._stats.bump("queued_jobs")
            self._cond.notify_all()
        return True

    # -- the worker thread -------------------------------------------------------------------
    def _loop(self) -> None:
        if self._adopting:
            self._adopt()
        while (job := self._next_job()) is not None:
            try:
                self._process(job)
            except Exception as exc:  # a journal write failed: keep the worker alive
                self._stats.error(f"artifact worker: {type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def _adopt(self) -> None:
        assert self._journal is not None
        try:
            jobs = self._journal.adopt(self._endpoint, self._adopted)
        except OSError as exc:
            self._stats.error(f"could not read the artifact journal: {exc}")
            jobs = []
        with self._cond:
            self._adopted.update(job.job_id for job in jobs)
            self._pending.extend(jobs)
            self._stats.bump("adopted_jobs", len(jobs))
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
        self._stats.completed(result)
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
        self._stats.error(f"artifact {job.name!r}: {type(exc).__name__}: {exc}")
        if verdict in ("reject", "release"):
            self._give_up(job, str(exc), verdict)
            return
        if verdict == "redo":
            job.failures += 1
        job.backoff = job.backoff or Backoff(RETRY_BASE_S, RETRY_CAP_S)
        retry_after = exc.retry_after if isinstance(exc, ArtifactHTTPError) else None
        job.not_before = time.monotonic() + job.backoff.failed(retry_after)
        self._stats.bump("retried_attempts")
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
        self._stats.bump("released_jobs" if verdict == "release" else "rejected_jobs")
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

    def close(self, timeout_s: float | None) -> bool:
        """Refuse new jobs, drain up to ``timeout_s``, stop the threads; True when drained."""
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
        self._stats.bump("dropped_media_on_close", lost_media)
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        return drained

    def depth(self) -> tuple[int, int]:
        """``(queued, running)`` job counts."""
        with self._cond:
            return len(self._pending), self._active

    def is_alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread.is_alive()


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
