"""Open copies of long-running spans (docs/sdk.md "Traces", docs/protocol.md §6.5).

A span is normally sent once, when it ends. So that the web UI can show a span while it runs,
the tracer registers every span it opens in an :class:`OpenSpans` registry (a weak set: a span
nobody finishes and nobody references is forgotten, as before), and the **worker** — never the
caller's thread — calls :meth:`OpenSpans.ship` every cycle: a span open for at least
:data:`OPEN_SPAN_SHIP_AFTER_SECONDS` is queued once as an :class:`OpenCopy` (``endNs`` null,
attributes normalised from a snapshot taken then), and its closed copy follows when it ends,
as for any span; the collector keeps the closed copy. Short spans cost a set insert and a
removal, nothing more. Spans still open when the run finishes are not closed or sent by the
finish (as before this registry existed); one that was shipped stays open in the store.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rundial._producers.trace import Span

OPEN_SPAN_SHIP_AFTER_SECONDS = 2.0  # a span open this long is sent once as an open copy


class OpenCopy:
    """A queued open copy of a span: its traces-body item, built by the worker."""

    __slots__ = ("item",)

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item

    def wire(self) -> dict[str, Any]:
        """The traces-body item (``endNs`` null)."""
        return self.item


class OpenSpans:
    """The spans of one tracer that are open and not yet shipped (thread-safe)."""

    def __init__(self, after_seconds: float = OPEN_SPAN_SHIP_AFTER_SECONDS) -> None:
        self._after_ns = int(after_seconds * 1e9)
        self._spans: weakref.WeakSet[Span] = weakref.WeakSet()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._spans)

    def add(self, span: Span) -> None:
        """Register a span that has just been opened."""
        with self._lock:
            self._spans.add(span)

    def discard(self, span: Span) -> None:
        """Forget a span (it ended, or was shipped)."""
        with self._lock:
            self._spans.discard(span)

    def forget_after_fork(self) -> None:
        """In a forked child: forget every span (the parent ships its own) and take a fresh
        lock (another thread may have held the old one at the fork)."""
        self._lock = threading.Lock()
        self._spans = weakref.WeakSet()

    def ship(self, now_ns: int, push: Callable[[Any], None]) -> int:
        """Queue (``push``) one open copy of every span open since ``now_ns`` minus the
        threshold, and forget those spans; returns how many were queued. Never raises for a
        span: one whose copy cannot be built is forgotten without a copy."""
        cutoff = now_ns - self._after_ns
        with self._lock:
            due = [span for span in self._spans if span.start_ns <= cutoff]
            for span in due:
                self._spans.discard(span)
        shipped = 0
        for span in due:
            if span.end_ns is None:
                try:
                    copy = OpenCopy(span.open_wire())
                except Exception:
                    continue
                push(copy)
                shipped += 1
        return shipped
