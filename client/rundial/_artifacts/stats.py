"""Counters of the artifact uploader, reported by ``diagnostics()``. Thread-safe.

Every loss is counted under its reason: ``dropped_queue_full`` (queue at capacity),
``dropped_closed`` (logged after close), ``rejected_jobs`` (the collector refused a job for
good; path-based ones are kept under ``<spool>/artifacts/rejected/``), ``released_jobs``
(another process's job our key may not upload), ``kept_jobs`` (a failure of this process, not
a verdict on the job: path-based ones stay journaled for the next process or ``rundial sync``;
media values and trace evidence are lost), ``dropped_media_on_close`` and, offline,
``dropped_offline`` (media values, which cannot wait on disk). ``journaled_offline`` counts the
path-based jobs an offline run left for ``rundial sync``. ``skipped_files`` counts the files
left out of uploaded directories because their names have no UTF-8 form (a lone surrogate).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

COUNTERS = ("queued_jobs", "completed_jobs", "adopted_jobs", "retried_attempts",
            "rejected_jobs", "released_jobs", "kept_jobs", "dropped_queue_full", "dropped_closed",
            "dropped_media_on_close", "dropped_offline", "journaled_offline", "uploaded_bytes",
            "deduplicated_bytes", "skipped_files")


class _Result(Protocol):
    @property
    def uploaded_bytes(self) -> int: ...

    @property
    def deduplicated_bytes(self) -> int: ...

    @property
    def skipped_files(self) -> tuple[str, ...]: ...


class UploaderStats:
    """Named integer counters plus the last error message."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._last_error: str | None = None

    def bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def error(self, message: str) -> None:
        with self._lock:
            self._last_error = message

    def completed(self, result: _Result) -> None:
        with self._lock:
            self._counts["completed_jobs"] += 1
            self._counts["uploaded_bytes"] += result.uploaded_bytes
            self._counts["deduplicated_bytes"] += result.deduplicated_bytes
            self._counts["skipped_files"] += len(result.skipped_files)

    def snapshot(self, **extra: Any) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "last_error": self._last_error, **extra}
