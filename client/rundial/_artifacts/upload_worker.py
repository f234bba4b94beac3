"""The artifact uploader's worker: a bounded job queue drained by the ``rundial-artifacts`` thread.

:class:`UploadWorker` belongs to :class:`rundial._artifacts.uploader.ArtifactUploader`. Callers'
threads ``put`` jobs; the worker thread first adopts the journaled jobs of dead processes (when
asked to), then runs each ready job with :func:`rundial._artifacts.upload_job.execute` (its PUTs on
a pool of ``concurrency`` threads) and settles the outcome in the journal and the stats. The
uploader's ``flush``/``close`` wait on it. All queue state is guarded by one condition variable.

Contract:

* Only this process's own file jobs count against ``capacity``, from ``put`` until they finish;
  adopted jobs never do. Media values logged with ``run.log`` (``put(..., media_bytes=)``) have
  their own, larger budget: :data:`MEDIA_QUEUE_MAX_JOBS` values and :data:`MEDIA_QUEUE_MAX_BYTES`
  of pixels or cells held in memory, so that one logged table of 64 images is never cut short
  while the uploader is merely behind. A media value refused for room is counted and warned
  about once (a collector outage that lasts fills the budget: then media are dropped, numbers
  are not). ``put`` refuses a job when the queue is full or closed (returns False,
  counting ``dropped_queue_full`` or ``dropped_closed``); otherwise it calls ``admit(job)``
  (journaling) under the lock, before the worker thread can see the job.
* Network errors, 408/429/5xx: the job is retried with full-jitter backoff (1 s doubling to
  60 s, or the server's ``Retry-After`` when longer) without limit while the process lives and
  stays journaled. A 409 or :class:`~rundial._artifacts.upload_job.ContentChanged` re-hashes and
  retries, up to :data:`MAX_CONFLICTS` times. Other 4xx, a malformed answer or a source that is gone
  reject the job for good (journaled jobs move to ``<spool>/artifacts/rejected/``), except that
  an adopted job our key may not write (401/403) is released to other processes. Any other
  failure is this process's, not a verdict on the job: it stays journaled for the next process
  (``kept_jobs``). Each failure sets the stats' ``last_error``; nothing escapes the worker.
* The PUTs run on a :class:`~rundial._artifacts.part_pool.PartPool` (threads started with the
  worker, inline when none can start); when the worker thread itself cannot start (interpreter
  exit), ``close`` runs the jobs on the calling thread until its deadline.
* ``close(timeout)`` drains up to ``timeout``, then stops the thread: a job interrupted by it
  stays journaled, media values still queued are lost (``dropped_media_on_close``, warned) and pending
  in-memory blobs are settled with an error.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rundial._artifacts.http import ArtifactHTTPError, BlobHttp, ControlClient
from rundial._artifacts.journal import ArtifactJob, Journal
from rundial._artifacts.part_pool import PartPool
from rundial._artifacts.stats import UploaderStats
from rundial._artifacts.upload_job import BlobRequest, ContentChanged, JobResult, execute
from rundial._http.retry import Backoff
from rundial._http.transport import TransportError
from rundial._warn import warn_user

RETRY_BASE_S, RETRY_CAP_S = 1.0, 60.0
MAX_CONFLICTS = 3  # re-hash attempts after a 409 before the job is rejected
MEDIA_QUEUE_MAX_JOBS = 4096  # media values queued or uploading (each is one artifact + one item)
MEDIA_QUEUE_MAX_BYTES = 256 * 1024 * 1024  # their estimated in-memory size (_media.pending_bytes)
_GIVE_UP_COUNTERS = {"reject": "rejected_jobs", "release": "released_jobs", "keep": "kept_jobs"}


class UploadWorker:
    """The job queue and the thread that drains it (see module docs)."""

    def __init__(self, endpoint: str, control: ControlClient, blob_http: BlobHttp,
                 journal: Journal | None, stats: UploaderStats, *, concurrency: int,
                 capacity: int, adopting: bool) -> None:
        self._endpoint = endpoint
        self._control, self._blob_http, self._journal = control, blob_http, journal
        self._stats = stats
        self._capacity = max(1, capacity)
        self._pool = PartPool(concurrency, "rundial-artifact-put")
        self._pending: list[ArtifactJob] = []
        self._cond = threading.Condition()
        self._active = 0
        self._own = 0  # file jobs of this process queued or running (adopted ones do not count)
        self._media: dict[str, int] = {}  # media job id -> its estimated bytes, until it finishes
        self._media_bytes = 0
        self._warned_media_full = False
        self._adopted: set[str] = set()
        self._adopting = adopting
        self._closing = self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="rundial-artifacts", daemon=True)
        self._inline = False  # no thread could be started: ``close`` runs the jobs itself

    def start(self) -> None:
        """Start the worker thread (never called offline). At interpreter exit, when no thread
        can be started, the jobs run on the thread that calls :meth:`close` instead."""
        try:
            self._thread.start()
        except RuntimeError:
            self._inline = True

    def put(self, job: ArtifactJob, admit: Callable[[ArtifactJob], None],
            media_bytes: int | None = None) -> bool:
        """Queue one of our own jobs, calling ``admit(job)`` under the lock first; False (drop
        counted) when the queue is closed, when ``capacity`` own file jobs are unfinished, or, for
        a media value (``media_bytes`` given: its estimated size), when the media budget is
        spent (then a warning is issued once)."""
        with self._cond:
            if self._closing:
                self._stats.bump("dropped_closed")
                return False
            if not self._has_room(media_bytes):
                self._stats.bump("dropped_queue_full")
                self._warn_media_full(job, media_bytes)
                return False
            admit(job)
            if media_bytes is None:
                self._own += 1
            else:
                self._media[job.job_id] = media_bytes
                self._media_bytes += media_bytes
            self._pending.append(job)
            self._stats.bump("queued_jobs")
            self._cond.notify_all()
        return True

    def _has_room(self, media_bytes: int | None) -> bool:
        if media_bytes is None:
            return self._own < self._capacity
        return (len(self._media) < MEDIA_QUEUE_MAX_JOBS
                and (not self._media or self._media_bytes + media_bytes <= MEDIA_QUEUE_MAX_BYTES))

    def _warn_media_full(self, job: ArtifactJob, media_bytes: int | None) -> None:
        if media_bytes is None or self._warned_media_full:
            return
        self._warned_media_full = True
        warn_user(f"rundial: the media upload queue is full ({len(self._media)} values, "
                  f"{self._media_bytes} bytes waiting; is the collector reachable?); dropping "
                  f"the media value {job.name!r} and counting it in "
                  "diagnostics().artifacts['dropped_queue_full']")

    # -- the worker thread -------------------------------------------------------------------
    def _loop(self) -> None:
        if self._adopting:
            self._adopt()
        while (job := self._next_job()) is not None:
            self._run_one(job)

    def _run_one(self, job: ArtifactJob) -> None:
        """Process one job taken from the queue (``_active`` already counts it)."""
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

    def _next_job(self, until: float | None = None) -> ArtifactJob | None:
        """The first job whose backoff has elapsed; None once stopped, or (with ``until``, a
        monotonic time) when nothing is queued or nothing is ready by then."""
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                ready = next((j for j in self._pending if j.not_before <= now), None)
                if ready is not None:
                    self._pending.remove(ready)
                    self._active += 1
                    return ready
                if until is not None and (now >= until or not self._pending):
                    return None
                wake = min((j.not_before for j in self._pending), default=now + 3600.0)
                self._cond.wait(max(0.0, (wake if until is None else min(wake, until)) - now))
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
        if result.skipped_files:
            warn_user(f"rundial: artifact {job.name!r} was uploaded without "
                      f"{len(result.skipped_files)} file(s) whose names are not valid Unicode "
                      f"text (a lone surrogate), e.g. {result.skipped_files[0]!r}; counted in "
                      "diagnostics().artifacts['skipped_files']")
        self._finish(job, result)

    def _finish(self, job: ArtifactJob, result: JobResult | None = None,
                error: str = "upload not completed") -> None:
        with self._cond:
            if job.job_id in self._media:
                self._media_bytes -= self._media.pop(job.job_id)
            elif job.job_id not in self._adopted:
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
        if verdict in ("reject", "release", "keep"):
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
        """Stop trying ``job`` in this process: reject it for good (moved to rejected/), release
        it to other processes, or keep it journaled for the next one (``keep``)."""
        if job.media is None and self._journal is not None:
            if verdict == "release":
                self._journal.release(job)
            elif verdict == "reject":
                self._journal.reject(job, reason)
        self._stats.bump(_GIVE_UP_COUNTERS[verdict])
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
        if self._inline:
            self._run_inline(timeout_s)
        drained = self.flush(0.0 if self._inline else timeout_s)
        with self._cond:
            self._stopped = True
            lost_media = sum(1 for j in self._pending if j.media is not None)
            blobs = [j.media for j in self._pending if isinstance(j.media, BlobRequest)]
            self._cond.notify_all()
        for blob in blobs:
            blob.settle(None, None, "the uploader closed before the upload")
        self._stats.bump("dropped_media_on_close", lost_media)
        if lost_media:
            warn_user(f"rundial: {lost_media} logged media values were not uploaded before the "
                      "run closed (finish timeout; is the collector reachable?) and are lost; "
                      "counted in diagnostics().artifacts['dropped_media_on_close']")
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        return drained

    def _run_inline(self, timeout_s: float | None) -> None:
        """Run ready jobs on this thread until none is left or the deadline has passed (a job
        started before the deadline may end after it: requests have their own timeout)."""
        until = math.inf if timeout_s is None else time.monotonic() + timeout_s
        if self._adopting:
            self._adopt()
        while (job := self._next_job(until)) is not None:
            self._run_one(job)

    def depth(self) -> tuple[int, int]:
        """``(queued, running)`` job counts."""
        with self._cond:
            return len(self._pending), self._active

    def is_alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread.is_alive()


def _classify(exc: Exception, job: ArtifactJob, adopted: bool) -> str:
    """``retry`` later, ``redo`` (a conflict: re-hash and retry), ``reject`` (the server refused
    the job, or its source is gone), ``release`` or ``keep`` (a failure of ours: leave the job
    journaled for the next process or ``rundial sync``)."""
    if isinstance(exc, TransportError):
        return "retry"
    if isinstance(exc, ContentChanged) or (isinstance(exc, ArtifactHTTPError)
                                           and exc.status == 409):
        if job.failures < MAX_CONFLICTS:
            return "redo"
        return "keep" if isinstance(exc, ContentChanged) else "reject"
    if isinstance(exc, ArtifactHTTPError):
        if exc.retryable:
            return "retry"
        return "release" if adopted and exc.status in (401, 403) else "reject"
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return "reject"  # an empty directory or a malformed answer: retrying cannot help
    if isinstance(exc, FileNotFoundError) and job.source and not Path(job.source).exists():
        return "reject"  # the source is gone
    return "keep"  # an error of this process (e.g. shutting down), not a verdict on the job
