"""A stored span as JSON, shared by ``POST /api/v1/query/spans`` (routes.spans) and the live
stream's ``spans`` messages (live.messages): docs/protocol.md §6.2 and §6.4."""

from __future__ import annotations

from typing import Any

import orjson

from rundial_collector.store.data_base import SpanRecord


def span_dict(span: SpanRecord) -> dict[str, Any]:
    """A stored span as JSON (nanoseconds and token counts as decimal strings, as sent)."""
    return {"traceId": span.trace_id, "spanId": span.span_id,
            "parentSpanId": span.parent_span_id, "name": span.name, "kind": span.kind,
            "startNs": str(span.start_ns),
            "endNs": None if span.end_ns is None else str(span.end_ns),
            "status": span.status, "attrsJson": span.attrs_json,
            "events": orjson.Fragment(span.events_json), "model": span.model,
            "genAiSystem": span.gen_ai_system, "tokensIn": span.tokens_in,
            "tokensOut": span.tokens_out, "costUsd": span.cost_usd, "children": []}
