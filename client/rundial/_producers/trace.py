"""Spans for agent and eval runs: ``run.trace(...)``, ``span.event``, ``span.set_attrs``, tool calls.

``with run.trace("plan", attrs={...}) as span:`` opens a span; spans opened inside it (same
thread or asyncio task: the open span lives in a :class:`contextvars.ContextVar` per run) carry
its id as ``parentSpanId`` **and its trace id**; a span opened with no open parent starts a new
trace. Span ids are 64 random bits and trace ids 128 random bits (hex), so spans of different
processes (resumed runs) never collide. Timestamps are ``time.time_ns()``.

A span open for 2 s is sent once as an open copy by the worker (:mod:`rundial._producers.open_spans`);
otherwise nothing is sent before the span ends: ``finish`` (or leaving the ``with`` block) stamps
``endNs``, sets the status (``error`` when an exception escapes the block, with an
``exception`` event; else ``ok`` unless set), deep-copies and normalises the attributes
(:mod:`rundial._producers.attrs`) and hands the span to the run, which queues it like a metric row —
no I/O on the caller's thread. Events beyond :data:`MAX_EVENTS` are dropped and counted in the
span's ``rundial.droppedEvents`` attribute.
"""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from rundial._producers.attrs import EVENT_ATTRS_BYTES, Evidence, encode_attrs, normalise
from rundial._producers.open_spans import OpenSpans
from rundial._producers.span_args import (
    check_end_args,
    check_event_args,
    check_status,
    check_tool_args,
    check_trace_args,
    cut,
)

MAX_NAME_CHARS = 512
MAX_EVENTS = 128
_NULL_FIELDS = {"model": None, "genAiSystem": None, "tokensIn": None, "tokensOut": None,
                "costUsd": None}


def new_span_id() -> str:
    """16 hex characters of fresh randomness."""
    return os.urandom(8).hex()


def new_trace_id() -> str:
    """32 hex characters of fresh randomness."""
    return os.urandom(16).hex()


class Span:
    """One span; see the module docstring. Use it from the thread that opened it."""

    __slots__ = ("name", "kind", "trace_id", "span_id", "parent_span_id", "start_ns", "end_ns",
                 "status", "attrs", "events", "evidence", "_dropped_events", "_tracer", "_token",
                 "__weakref__")

    def __init__(self, tracer: Tracer, name: str, kind: str, attrs: Mapping[str, Any] | None,
                 trace_id: str, parent_span_id: str | None) -> None:
        """A span named ``name`` (checked by :func:`check_trace_args`; cut to 512 characters)."""
        self._tracer = tracer
        self.name = cut(name, MAX_NAME_CHARS)
        self.kind = kind
        self.trace_id = trace_id
        self.span_id = new_span_id()
        self.parent_span_id = parent_span_id
        self.start_ns = tracer.clock_ns()
        self.end_ns: int | None = None
        self.status = "unset"
        self.attrs: dict[Any, Any] = dict(attrs) if attrs else {}
        self.events: list[tuple[str, int, dict[str, Any]]] = []
        self.evidence: list[Evidence] = []
        self._dropped_events = 0
        self._token: contextvars.Token[Span | None] | None = None
        tracer.open_spans.add(self)

    @property
    def finished(self) -> bool:
        return self.end_ns is not None

    def set_attrs(self, attrs: Mapping[str, Any] | None = None, **more: Any) -> None:
        """Merge attributes (values are copied when the span ends); ignored once finished."""
        if self.end_ns is None:
            if attrs:
                self.attrs.update(attrs)
            if more:
                self.attrs.update(more)

    def event(self, name: str, attrs: Mapping[str, Any] | None = None, *,
              timestamp_ns: int | None = None) -> None:
        """Record an event at ``timestamp_ns`` (default now) — at most 128 per span,
        attributes capped at 4 KiB. ``TypeError`` unless ``timestamp_ns`` is None or an int;
        ``ValueError`` when ``name`` holds NUL or a lone surrogate (in every mode:
        :func:`rundial._producers.span_args.check_event_args`); nothing is recorded then."""
        name = check_event_args(name, timestamp_ns)
        at = self._tracer.clock_ns() if timestamp_ns is None else timestamp_ns
        if self.end_ns is not None:
            return
        if len(self.events) >= MAX_EVENTS:
            self._dropped_events += 1
            return
        self.events.append((name, at, normalise(attrs)))

    def set_status(self, status: str) -> None:
        """``unset``, ``ok`` or ``error`` (``ValueError`` otherwise, in every mode)."""
        check_status(status)
        self.status = status

    def finish(self, status: str | None = None, *, end_ns: int | None = None) -> None:
        """End the span at ``end_ns`` (default now; never before its start) with ``status``
        (None: the one set, else ``ok``) and hand it to the run; a second call does nothing.
        ``TypeError`` unless ``end_ns`` is None or an int, ``ValueError`` for a ``status``
        other than None, ``unset``, ``ok`` or ``error`` (checked first, even on an ended span,
        in every mode: :func:`rundial._producers.span_args.check_end_args`); the span is left
        as it was then (still open, if it was)."""
        check_end_args(status, end_ns)
        end = self._tracer.clock_ns() if end_ns is None else end_ns
        if self.end_ns is not None:
            return
        if status is not None:
            self.status = status
        elif self.status == "unset":
            self.status = "ok"
        self.end_ns = max(self.start_ns, end)
        self._tracer.open_spans.discard(self)
        if self._dropped_events:
            self.attrs["rundial.droppedEvents"] = self._dropped_events
        try:
            self.attrs = normalise(self.attrs, self.evidence)
        except Exception as exc:  # never replace the caller's exception with ours
            self.attrs = {"rundial.attrsError": f"{type(exc).__name__}: {exc}"[:1024]}
        self._tracer.submit(self)

    def __enter__(self) -> Span:
        self._token = self._tracer.current_var.set(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._token is not None:
            try:
                self._tracer.current_var.reset(self._token)
            except ValueError:  # exited in another context than entered: leave it
                pass
            self._token = None
        if exc_type is not None and self.end_ns is None:
            self.event("exception", {"exception.type": exc_type.__name__,
                                     "exception.message": str(exc)[:1024]})
            self.finish("error")
        else:
            self.finish()

    def wire(self) -> dict[str, Any]:
        """The span as a traces-body item (the body carries ``projectId``/``runId``)."""
        return self._item(self.attrs, self.events,
                          None if self.end_ns is None else str(self.end_ns))

    def open_wire(self) -> dict[str, Any]:
        """An open copy of the span as it is now (``endNs`` null), from any thread: attributes
        and events are copied first, then the attributes are normalised (evidence stays in
        place: only the closed copy uploads it)."""
        events = list(self.events)
        try:
            attrs = normalise(dict(self.attrs))
        except Exception as exc:
            attrs = {"rundial.attrsError": f"{type(exc).__name__}: {exc}"[:1024]}
        return self._item(attrs, events, None)

    def _item(self, attrs: dict[Any, Any], events: list[tuple[str, int, dict[str, Any]]],
              end_ns: str | None) -> dict[str, Any]:
        return {"traceId": self.trace_id, "spanId": self.span_id,
                "parentSpanId": self.parent_span_id, "name": self.name, "kind": self.kind,
                "startNs": str(self.start_ns), "endNs": end_ns, "status": self.status,
                "attrsJson": encode_attrs(attrs),
                "events": [{"name": name, "timestampNs": str(ts),
                            "attrsJson": encode_attrs(event_attrs, EVENT_ATTRS_BYTES)}
                           for name, ts, event_attrs in events],
                **_NULL_FIELDS}

    def __repr__(self) -> str:
        return f"<rundial.Span {self.name!r} {self.span_id} {self.status}>"


class Tracer:
    """Opens spans for one run; ``submit`` receives each span once it has ended."""

    def __init__(self, submit: Callable[[Span], None],
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.submit = submit
        self.clock_ns = clock_ns
        self.open_spans = OpenSpans()
        self.current_var: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
            f"rundial_span_{id(self):x}", default=None)

    def ship_open(self, push: Callable[[Any], None]) -> int:
        """Called by the worker: queue open copies of spans open for 2 s (``open_spans``)."""
        return self.open_spans.ship(self.clock_ns(), push)

    def current(self) -> Span | None:
        """The innermost span open in a ``with`` block in this thread/task, or None."""
        return self.current_var.get()

    def trace(self, name: str, kind: str = "internal", attrs: Mapping[str, Any] | None = None,
              trace_id: str | None = None, parent_span_id: str | None = None) -> Span:
        """A new span (use it as a context manager, or call ``finish``); see the module docs.

        ``trace_id`` (default: the open span's, else a new one) is at most 128 characters;
        ``parent_span_id`` (default: the open span's id) is any length; neither may hold NUL
        (``rundial._wire.trace_ids``: the collector's rules). An empty ``trace_id`` is the
        same as None; an empty ``parent_span_id`` means "no parent": the span is a root (as
        the collector shows a span whose parent is missing) and is sent with none.

        ``ValueError`` for an unknown ``kind``, an id breaking its rule, a ``name`` holding
        NUL, or a ``name``, ``trace_id`` or ``parent_span_id`` holding a lone surrogate;
        ``TypeError`` when ``attrs`` is not a mapping or an id is neither a str nor None (the
        collector would refuse the span, or its whole batch). Nothing is opened then. The
        checks are :func:`check_trace_args`, which a disabled run makes too.
        """
        text = check_trace_args(name, kind, attrs, trace_id, parent_span_id)
        return self._open(text, kind, attrs, trace_id, parent_span_id)

    def _open(self, name: str, kind: str, attrs: Mapping[str, Any] | None,
              trace_id: str | None, parent_span_id: str | None) -> Span:
        """A new span from checked arguments, child of the open span unless given ids."""
        parent = self.current_var.get()
        if parent_span_id is None and parent is not None:
            parent_span_id = parent.span_id
            trace_id = trace_id or parent.trace_id
        return Span(self, name, kind, attrs, trace_id or new_trace_id(), parent_span_id or None)

    def tool_call(self, name: str, input: Any = None, output: Any = None,
                  attrs: Mapping[str, Any] | None = None, status: str | None = "ok") -> Span:
        """A finished span of kind ``tool`` named ``tool:<name>``, child of the open span.

        Every argument is checked first (``TypeError`` for ``attrs`` that is not a mapping,
        ``ValueError`` for NUL or a lone surrogate in the name or a ``status`` other than None,
        ``unset``, ``ok`` or ``error``: :func:`rundial._producers.span_args.check_tool_args`,
        which a disabled run makes too); nothing is opened then, so no open copy is shipped."""
        text = check_tool_args(name, attrs, status)
        base = {"tool.name": name, "tool.input": input, "tool.output": output}
        span = self._open(text, "tool", {**base, **(attrs or {})}, None, None)
        span.finish(status)
        return span
