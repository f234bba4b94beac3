"""Turn decoded log and trace bodies into store records, rejecting bad items one by one.

Contract as in :mod:`rundial_collector.ingest.items`: an item with a bad value (out-of-range
number, over-long message, non-decimal nanoseconds, bad run id, NUL in any text field: a log
line's message or writer, a span's ids, name, attributes, model fields or any field of its
events) or in a project the key may not write is rejected and counted; the rest of the request
is stored, on every backend alike (PostgreSQL text cannot hold NUL, so no backend stores it).
A NUL written as the JSON escape ``\\u0000`` inside ``attrsJson`` is six plain characters of
text: it is kept, and read back as sent, on both backends. A value outside a documented
enum (log ``level``, span ``kind`` and ``status``) breaks the contract every client validates
against: :class:`ApiError` 400 naming the field, and nothing of the request is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import orjson

from rundial_collector.ingest.items import MAX_INT64, ItemErrors, authorised_items, run_id_problem
from rundial_collector.ingest.schemas import LineIn, SpanIn
from rundial_collector.store.data_base import LEVEL_RANK, LogLine, SpanRecord
from rundial_collector.store.errors import has_nul
from rundial_collector.web import errors
from rundial_collector.web.errors import NUL_RULE

R = TypeVar("R")
SPAN_KINDS = ("internal", "server", "client", "producer", "consumer", "tool")
SPAN_STATUSES = ("unset", "ok", "error")
MAX_LOG_MESSAGE_CHARS = 64 * 1024  # the rc1 SDK cuts at 8 KiB; leave room for other clients
MAX_SPAN_ID_CHARS = 128
MAX_WRITER_ID_CHARS = 128
MAX_NS_DIGITS = 19  # nanoseconds since 1970 fit in int64 until 2262
NO_RUN_ID = "runId is required (on the item or the body)"
NS_PROBLEM = "{} must be a decimal string of nanoseconds, at most 9223372036854775807"
SPAN_TEXT = ("traceId", "spanId", "parentSpanId", "name", "attrsJson", "model", "genAiSystem",
             "tokensIn", "tokensOut")  # kind and status are enums, refused before any item
EVENT_TEXT = ("name", "timestampNs", "attrsJson")


def _records(items: Sequence[Any], projects: Mapping[str, str | None], kind: str,
             errs: ItemErrors, problem_of: Callable[[Any], tuple[str, str] | None],
             build: Callable[[str, Any], R]) -> list[R]:
    """``build(project, item)`` for the valid, authorised items, in request order."""
    out: list[R] = []
    for i, project, item in authorised_items(items, projects, kind, errs):
        problem = problem_of(item)
        if problem is not None:
            errs.add(i, f"{kind}[{i}].{problem[0]}", problem[1])
        else:
            out.append(build(project, item))
    return out


def lines_from_body(lines: Sequence[LineIn], projects: Mapping[str, str | None],
                    errs: ItemErrors) -> list[LogLine]:
    """Valid, authorised log lines in request order; 400 for an unknown level."""
    _require_enum(lines, "lines", "level", tuple(LEVEL_RANK))
    return _records(lines, projects, "lines", errs, _line_problem, _log_line)


def _log_line(project_id: str, line: LineIn) -> LogLine:
    assert line.runId is not None
    return LogLine(project_id, line.runId, line.timestampMs, line.sequence, line.level,
                   line.message, line.truncated, _writer(line))


def _writer(line: LineIn) -> str:
    """The writer part of a line's identity: ``""`` for clients that send none (rc1)."""
    if line.writerId is None and line.rank is None:
        return ""
    return f"{line.writerId or ''}#{'' if line.rank is None else line.rank}"


def _line_problem(line: LineIn) -> tuple[str, str] | None:
    if not 0 <= line.timestampMs <= MAX_INT64:
        return "timestampMs", "timestampMs must be between 0 and 2^63-1"
    if not 0 <= line.sequence <= MAX_INT64:
        return "sequence", "sequence must be between 0 and 2^63-1"
    if len(line.message) > MAX_LOG_MESSAGE_CHARS:
        return "message", f"message is longer than {MAX_LOG_MESSAGE_CHARS} characters"
    if line.writerId is not None and len(line.writerId) > MAX_WRITER_ID_CHARS:
        return "writerId", f"writerId is longer than {MAX_WRITER_ID_CHARS} characters"
    for name, text in (("message", line.message), ("writerId", line.writerId)):
        if has_nul(text):
            return name, f"{name} {NUL_RULE}"
    if line.rank is not None and not 0 <= line.rank <= MAX_INT64:
        return "rank", "rank must be between 0 and 2^63-1"
    if line.runId is None:
        return "runId", NO_RUN_ID
    problem = run_id_problem(line.runId)
    return None if problem is None else ("runId", problem)


def spans_from_body(spans: Sequence[SpanIn], projects: Mapping[str, str | None],
                    errs: ItemErrors) -> list[SpanRecord]:
    """Valid, authorised spans in request order (every field kept); 400 for an unknown kind or
    status."""
    _require_enum(spans, "spans", "kind", SPAN_KINDS)
    _require_enum(spans, "spans", "status", SPAN_STATUSES)
    return _records(spans, projects, "spans", errs, _span_problem, _span_record)


def _require_enum(items: Sequence[Any], kind: str, name: str, allowed: tuple[str, ...]
                  ) -> None:
    """400 naming ``<kind>[i].<name>`` for the first item whose ``name`` is not in ``allowed``."""
    for i, item in enumerate(items):
        if getattr(item, name) not in allowed:
            raise errors.invalid(f"{name} must be one of {', '.join(allowed)}",
                                 f"{kind}[{i}].{name}")


def _span_problem(span: SpanIn) -> tuple[str, str] | None:
    for name in ("traceId", "spanId"):
        if not 0 < len(getattr(span, name)) <= MAX_SPAN_ID_CHARS:
            return name, f"{name} must be 1-{MAX_SPAN_ID_CHARS} characters"
    text_field = _nul_field(span)
    if text_field is not None:
        return text_field, f"{text_field} {NUL_RULE}"
    if _nanoseconds(span.startNs) is None:
        return "startNs", NS_PROBLEM.format("startNs")
    if span.endNs is not None and _nanoseconds(span.endNs) is None:
        return "endNs", NS_PROBLEM.format("endNs") + " or null"
    if span.runId is None:
        return "runId", NO_RUN_ID
    problem = run_id_problem(span.runId)
    return None if problem is None else ("runId", problem)


def _nul_field(span: SpanIn) -> str | None:
    """The first text field of ``span`` (its events' included) that holds NUL, or None."""
    for name in SPAN_TEXT:
        if has_nul(getattr(span, name)):
            return name
    for j, event in enumerate(span.events):
        for name in EVENT_TEXT:
            if has_nul(getattr(event, name)):
                return f"events[{j}].{name}"
    return None


def _nanoseconds(text: str) -> int | None:
    """The int of a decimal nanosecond string (≤ 19 digits, at most 2^63−1), else None."""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_NS_DIGITS):
        return None
    value = int(text)
    return value if value <= MAX_INT64 else None


def _span_record(project_id: str, span: SpanIn) -> SpanRecord:
    start = _nanoseconds(span.startNs)
    assert start is not None and span.runId is not None
    end = None if span.endNs is None else _nanoseconds(span.endNs)
    events = orjson.dumps([{"name": e.name, "timestampNs": e.timestampNs,
                            "attrsJson": e.attrsJson} for e in span.events]).decode()
    return SpanRecord(project_id, span.runId, span.traceId, span.spanId, span.parentSpanId,
                      span.name, span.kind, start, end, span.status, span.attrsJson, events,
                      span.model, span.genAiSystem, span.tokensIn, span.tokensOut, span.costUsd)
