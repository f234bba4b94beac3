"""``run.log_eval_result`` (docs/sdk.md "Evals"): queue eval rows, or hold them for a span.

The rows (``_wire.evals.build_rows``: arguments checked on the caller's thread, nothing queued
when one is unusable) are queued like metric rows: no I/O, the same queue, worker, spool and
delivery. A full queue waits or drops exactly as for ``run.log``; a disabled run does nothing.

**Held back inside a span.** A result logged while a span is open in this thread or task (and
naming no other trace) takes that span's trace id and is queued right after that span ends, so
the rows never arrive before the span they point at. Rows still held when the run finishes are
queued at finish.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rundial._wire.evals import EvalRow, build_rows, trace_id_of


class HeldResults:
    """Rows held back until the span they were logged in ends (see the module docstring)."""

    __slots__ = ("_push", "_by_span")

    def __init__(self, push: Callable[[Any], None]) -> None:
        self._push = push
        self._by_span: dict[str, list[EvalRow]] = {}

    def hold(self, span_id: str, rows: list[EvalRow]) -> None:
        self._by_span.setdefault(span_id, []).extend(rows)

    def release(self, span_id: str) -> None:
        """Queue the rows held for ``span_id`` (after the span itself was handed on)."""
        for row in self._by_span.pop(span_id, ()):
            self._push(row)

    def release_all(self) -> None:
        """Queue every held row (the run finishes with spans left open)."""
        for span_id in list(self._by_span):
            self.release(span_id)


def log_eval_result(current_span: Any, held: HeldResults, push: Callable[[Any], None],
                    eval_run_id: str, example_id: str, *, scores: Mapping[str, Any],
                    passed: Mapping[str, Any] | bool | None = None, trace: Any = None,
                    evidence: Mapping[str, Any] | None = None,
                    meta: Mapping[str, Any] | None = None) -> bool:
    """Check, build and queue (or hold) the rows of one result; True once queued or held."""
    trace_id = trace_id_of(trace)
    open_span = current_span
    inside = open_span is not None and trace_id in (None, open_span.trace_id)
    if inside and trace_id is None:
        trace_id = open_span.trace_id
    rows = build_rows(eval_run_id, example_id, scores, passed, trace_id, evidence, meta)
    if inside:
        held.hold(open_span.span_id, rows)
    else:
        for row in rows:
            push(row)
    return True
