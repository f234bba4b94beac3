"""Trace and span ids, and span and event names, the collector accepts, checked at the call
that takes one.

The collector's rules (docs/protocol.md §3): a span's ``traceId`` and ``spanId`` are 1 to 128
characters (``_span_problem``: a span with another is rejected alone and counted there); its
``parentSpanId`` is any str or null, with no length rule (one that names no span of the run
makes the span a root, §6.2); an eval row's ``traceId`` is 1 to 128 characters without NUL
(else the row is rejected). A NUL anywhere in a span's ids makes a PostgreSQL collector answer
400 for the whole request (its text cannot hold U+0000), so it is refused here for every id;
so is a lone surrogate, which has no UTF-8 form for any request to carry.

A span's ``name`` and its events' names may not hold NUL either: the collector rejects such a
span alone (on PostgreSQL it used to answer 400 for the whole request), so
:func:`check_name` refuses it at ``run.trace``, ``run.tool_call`` and ``span.event``.

Any alphabet is accepted: the SDK's own ids are lowercase hex (16 characters for a span, 32
for a trace), and ids taken from another tracer pass as they are. What the empty string means
is left to the caller ("no id": see ``rundial._producers.trace`` and ``rundial._wire.evals``).
"""

from __future__ import annotations

from typing import Any

from rundial._values import require_no_nul, require_utf8_text

MAX_ID_CHARS = 128  # the collector's MAX_SPAN_ID_CHARS and eval rows' MAX_TRACE_ID_CHARS


def check_id(what: str, value: Any, max_chars: int | None = MAX_ID_CHARS) -> str | None:
    """``value`` unchanged when it is None or a str the collector accepts as an id (the empty
    str included). ``TypeError`` naming ``what`` for any other type; ``ValueError`` naming
    ``what`` and the rule for a str over ``max_chars`` characters (None: no limit, as for a
    ``parentSpanId``), holding NUL or a lone surrogate."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, not {type(value).__name__}")
    if max_chars is not None and len(value) > max_chars:
        raise ValueError(f"{what} must be at most {max_chars} characters (the collector's "
                         f"limit); got {len(value)}")
    require_no_nul(what, value)
    require_utf8_text(what, value)
    return value


def check_name(what: str, name: Any) -> str:
    """``name`` as the text sent for it (``str(name)`` when it is not a str); ``ValueError``
    naming ``what`` when that text holds NUL (the collector would reject the span) or a lone
    surrogate (no request could carry it)."""
    text = name if isinstance(name, str) else str(name)
    require_no_nul(what, text)
    require_utf8_text(what, text)
    return text


def check_span_ids(trace_id: Any, parent_span_id: Any) -> None:
    """``run.trace``'s ``trace_id`` (at most :data:`MAX_ID_CHARS` characters) and
    ``parent_span_id`` (any length) as in :func:`check_id`, which raises naming the one that
    breaks its rule."""
    check_id("trace_id", trace_id)
    check_id("parent_span_id", parent_span_id, None)
