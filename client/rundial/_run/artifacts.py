"""A run's artifacts: its lazily started uploader, and the hook that routes media out of rows.

Contract:

* Nothing starts until the first ``log_artifact``, ``checkpoint``, media value or
  ``use_artifact``: a run that never uses artifacts pays for no thread.
* Online, calls validate, journal (path-based jobs: one small file) and enqueue on the caller's
  thread; hashing and uploads run on the uploader's own worker, never on the metrics worker.
  They return False (counted) when the artifact queue is full.
* Offline, path-based jobs are journaled with no owner, so ``rundial sync`` (or the next online
  process using the same spool) uploads them; media values are dropped and counted, and
  ``use_artifact`` raises ``RuntimeError``.
* Media (``rd.Image``/``rd.Table`` values inside ``run.log``) leave the row on the metrics
  worker, before encoding: :meth:`RunArtifacts.route_media` hands them to the uploader.
* ``close`` drains until its deadline; journaled jobs left over are resumed later. After
  ``fork()`` the child starts its own uploader on first use and never touches the parent's.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rundial._artifacts.handle import ArtifactHandle
from rundial._artifacts.uploader import ArtifactUploader
from rundial._config import Settings

_TARGET_FIELDS = ("projectId", "workspace", "project")


class RunArtifacts:
    """The artifact side of one :class:`~rundial.Run` (see the module docstring)."""

    def __init__(self, settings: Settings, header: Mapping[str, Any], run_id: str) -> None:
        self._settings = settings
        self._target = {k: header[k] for k in _TARGET_FIELDS if k in header}
        self._run_id = run_id
        self._lock = threading.Lock()
        self._uploader: ArtifactUploader | None = None

    def _get(self) -> ArtifactUploader:
        uploader = self._uploader
        if uploader is None:
            with self._lock:
                if self._uploader is None:
                    self._uploader = self._start()
                uploader = self._uploader
        return uploader

    def _start(self) -> ArtifactUploader:
        s = self._settings
        return ArtifactUploader(s.endpoint, s.api_key, dict(self._target), self._run_id,
                                Path(s.spool_root), s.artifact_concurrency,
                                queue_capacity=s.artifact_queue_capacity,
                                request_timeout_s=s.request_timeout_seconds,
                                offline=s.mode == "offline")

    # -- the run's API -------------------------------------------------------------------
    def log_artifact(self, path: str | Path, **options: Any) -> bool:
        return self._get().log_artifact(path, **options)

    def checkpoint(self, path: str | Path, **options: Any) -> bool:
        return self._get().checkpoint(path, **options)

    def use_artifact(self, ref: str) -> ArtifactHandle:
        return self._get().use_artifact(ref)

    def blob_uploader(self) -> ArtifactUploader | None:
        """The uploader for trace evidence (started on first use); None offline."""
        return None if self._settings.mode != "online" else self._get()

    def route_media(self, key: str, step: int, value: Any, timestamp_ms: int) -> None:
        """Called on the metrics worker for each media value found in a row (enqueue only)."""
        self._get().log_media(key, step, value, timestamp_ms)

    # -- lifecycle -----------------------------------------------------------------------
    def flush(self, timeout_s: float) -> bool:
        uploader = self._uploader
        return True if uploader is None else uploader.flush(timeout_s)

    def close(self, timeout_s: float) -> bool:
        uploader = self._uploader
        return True if uploader is None else uploader.close(timeout_s)

    def diagnostics(self) -> dict[str, Any]:
        uploader = self._uploader
        return {} if uploader is None else uploader.diagnostics()

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's uploader (its threads do not exist here)."""
        self._lock = threading.Lock()
        self._uploader = None
