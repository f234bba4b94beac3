"""Evidence references: spans whose attributes hold values over 16 KiB wait for their uploads.

When a span with :class:`~rundial._producers.attrs.Evidence` placeholders ends, each value is handed
to the **artifact uploader** (its own thread; never the ingest worker, so a slow or failing
artifact path cannot hold up or drop metrics — unlike rc1, v1 doc §12.1.4) as an artifact
``trace-evidence-<spanId>`` of type ``trace_evidence`` with metadata ``{traceId, spanId,
attrKey}`` and one file ``evidence/<attribute path>.txt|.bin``. The span is queued once every
value is settled:

* uploaded → ``{"kind": "rundial.evidence_ref", "artifactId", "artifactVersion", "path",
  "key", "sizeBytes", "sha256", "contentType"}``;
* offline or no uploader → ``{"kind": "rundial.evidence_marker", "status":
  "offline_unavailable", ...}``; refused for good → status ``upload_failed``; not queued
  (uploader full or closed) → ``upload_unavailable``; still uploading at finish →
  ``upload_incomplete`` (see :meth:`EvidenceUploads.settle`).

Every marker is counted (``evidence_markers``), every reference too (``evidence_uploaded``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from rundial._diagnostics import Counters
from rundial._producers.attrs import Evidence
from rundial._producers.trace import Span

EVIDENCE_ARTIFACT_TYPE = "trace_evidence"
OFFLINE = "offline_unavailable"
FAILED = "upload_failed"
UNAVAILABLE = "upload_unavailable"
INCOMPLETE = "upload_incomplete"
Done = Callable[[str | None, int | None, str | None], None]  # (artifact id, version, error)


class BlobUploader(Protocol):
    """What :class:`EvidenceUploads` needs from the artifact uploader."""

    def upload_blob(self, name: str, artifact_type: str, path: str, data: bytes,
                    content_type: str, metadata: dict[str, Any], on_done: Done) -> bool:
        """Queue one in-memory file as an artifact; ``on_done`` is called exactly once, from
        the uploader's thread, unless this returns False (not queued)."""
        ...


class EvidenceUploads:
    """Routes ended spans to ``enqueue``, after their evidence uploads when they have any."""

    def __init__(self, enqueue: Callable[[Span], None], counters: Counters,
                 uploader: Callable[[], BlobUploader | None], *, offline: bool) -> None:
        self._enqueue = enqueue
        self._counters = counters
        self._uploader = uploader
        self._offline = offline
        self._pending: dict[int, tuple[Span, list[Evidence]]] = {}
        self._lock = threading.Lock()

    def submit(self, span: Span) -> None:
        """Queue ``span`` now, or once its evidence is settled."""
        if not span.evidence:
            self._enqueue(span)
            return
        uploader = None if self._offline else self._uploader()
        if uploader is None:
            self._mark_all(span.evidence, OFFLINE)
            self._enqueue(span)
            return
        with self._lock:
            self._pending[id(span)] = (span, list(span.evidence))
        for item in list(span.evidence):
            if not self._start(uploader, span, item):
                self._settle_one(span, item, None, None, UNAVAILABLE)

    def _start(self, uploader: BlobUploader, span: Span, item: Evidence) -> bool:
        metadata = {"traceId": span.trace_id, "spanId": span.span_id, "attrKey": item.key}

        def done(artifact_id: str | None, version: int | None, error: str | None) -> None:
            self._settle_one(span, item, artifact_id, version, None if artifact_id else FAILED)

        try:
            return uploader.upload_blob(f"trace-evidence-{span.span_id}", EVIDENCE_ARTIFACT_TYPE,
                                        item.path, item.data, item.content_type, metadata, done)
        except Exception as exc:  # a broken uploader must not lose the span
            self._counters.error(f"evidence upload could not be queued: {exc}")
            return False

    def _settle_one(self, span: Span, item: Evidence, artifact_id: str | None,
                    version: int | None, marker: str | None) -> None:
        with self._lock:
            entry = self._pending.get(id(span))
            if entry is None or item not in entry[1]:
                return  # already settled (e.g. by settle() at finish)
            entry[1].remove(item)
            if artifact_id is not None and version is not None:
                item.resolve(artifact_id, int(version))
                self._counters.evidence_uploaded += 1
            else:
                self._mark(item, marker or FAILED)
            ready = not entry[1]
            if ready:
                del self._pending[id(span)]
        if ready:
            self._enqueue(span)

    def _mark(self, item: Evidence, status: str) -> None:
        item.mark(status)
        self._counters.evidence_markers += 1

    def _mark_all(self, items: list[Evidence], status: str) -> None:
        for item in items:
            self._mark(item, status)

    @property
    def pending(self) -> int:
        """Spans waiting for an upload."""
        with self._lock:
            return len(self._pending)

    def settle(self) -> int:
        """Queue every waiting span now, its unfinished values as ``upload_incomplete`` markers
        (called at finish, before the final drain). Returns the number of spans released."""
        with self._lock:
            entries, self._pending = list(self._pending.values()), {}
            for _span, items in entries:
                self._mark_all(items, INCOMPLETE)
        for span, _items in entries:
            self._enqueue(span)
        return len(entries)
