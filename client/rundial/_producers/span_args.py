"""The checks on what callers pass to spans, made at the call in every mode.

A logging run's :class:`rundial._producers.trace.Span` and :class:`~rundial._producers.trace.Tracer`
and a disabled run's ``NoopRun``/``NoopSpan`` (:mod:`rundial._run.noop`) call the same functions
here, so a script fails alike whatever its mode, with the same error for the same arguments.
Each check raises before anything is opened, registered or queued: a refused call leaves no
state behind (no span open, none shipped later as an open copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rundial._wire.trace_ids import check_name, check_span_ids

SPAN_KINDS = ("internal", "server", "client", "producer", "consumer", "tool")
STATUSES = ("unset", "ok", "error")
MAX_EVENT_NAME_CHARS = 256


def ns_arg(name: str, value: Any) -> int:
    """A caller's nanosecond timestamp: an int (not a bool), else ``TypeError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of nanoseconds since the epoch, "
                        f"not {type(value).__name__}")
    return value


def cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (ending in ``...`` when cut)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_trace_args(name: Any, kind: Any, attrs: Any, trace_id: Any,
                     parent_span_id: Any) -> str:
    """The text of ``run.trace``'s ``name`` once all its arguments pass, checked in this order:
    ``ValueError`` for an unknown ``kind``; ``TypeError`` when ``attrs`` is neither None nor a
    mapping; the id rules of :func:`rundial._wire.trace_ids.check_span_ids`; then
    ``ValueError`` when the name holds NUL (the collector rejects the span) or a lone surrogate
    (no UTF-8 form: the span's whole batch could not be encoded):
    :func:`rundial._wire.trace_ids.check_name`."""
    if kind not in SPAN_KINDS:
        raise ValueError(f"kind must be one of {SPAN_KINDS}, not {kind!r}")
    if attrs is not None and not isinstance(attrs, Mapping):
        raise TypeError(f"attrs must be a mapping, not {type(attrs).__name__}")
    check_span_ids(trace_id, parent_span_id)
    return check_name("the span name", name)


def check_status(status: Any) -> None:
    """``span.set_status``'s ``status``: ``ValueError`` naming it unless one of
    :data:`STATUSES`."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")


def check_end_args(status: Any, end_ns: Any) -> None:
    """``span.finish``'s arguments: ``TypeError`` when ``end_ns`` is neither None nor an int
    (:func:`ns_arg`), then ``ValueError`` when ``status`` is neither None nor one of
    :data:`STATUSES` (:func:`check_status`)."""
    if end_ns is not None:
        ns_arg("end_ns", end_ns)
    if status is not None:
        check_status(status)


def check_event_args(name: Any, timestamp_ns: Any) -> str:
    """The event name sent for ``span.event`` (cut to :data:`MAX_EVENT_NAME_CHARS`) once its
    arguments pass: ``TypeError`` when ``timestamp_ns`` is neither None nor an int, then
    ``ValueError`` when the name holds NUL or a lone surrogate."""
    if timestamp_ns is not None:
        ns_arg("timestamp_ns", timestamp_ns)
    return cut(check_name("the event name", name), MAX_EVENT_NAME_CHARS)


def check_tool_args(name: Any, attrs: Any, status: Any) -> str:
    """The span name ``tool:<name>`` sent for ``run.tool_call`` once its arguments pass:
    ``attrs`` and the name as :func:`check_trace_args` checks them for a ``tool`` span (attrs
    first), then ``status`` as ``span.finish`` checks it (None: ``ok``)."""
    text = check_trace_args(f"tool:{name}", "tool", attrs, None, None)
    check_end_args(status, None)
    return text
