"""``POST /api/v1/query/spans``: the span tree of one run (v1 doc §4, docs/protocol.md §6.2).

Request ``{"projectId", "runId", "limit"? (roots per page, default 100, max 1000), "cursor"?}``;
needs ``project:read``. Reply ``{"projectId", "runId", "spans": [root, …], "spanCount",
"truncated", "page"}``; each span carries its stored fields plus ``children`` (by start time).

Linking follows the v1 doc §4: nested spans carry different trace ids, so a parent is looked up
by ``parentSpanId`` among the run's span ids. Span ids repeat across processes, so among several
candidates the innermost one whose time range holds the child's start wins (else the latest
that started before it, else the first): :mod:`rundial_collector.query.span_links`. A span whose
parent is missing, or which would close a cycle, is a root. Nesting deeper than :data:`MAX_DEPTH` is
flattened into the span at that depth (roots are level 1; the deeper spans become its children, keep
their ``parentSpanId`` and carry ``"flattened": true``). Roots are paged by
(startNs, traceId, spanId) with an opaque keyset cursor. At most :data:`MAX_SPANS` spans of a
run are read (``truncated`` says when more exist). Unknown project or run → 404; bad input
→ 400.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from rundial_collector.query.span_links import choose_parents
from rundial_collector.store.data_base import SpanRecord
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import authenticate, resolve_project
from rundial_collector.web.intbounds import Positive
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import decode_cursor, is_int64, page
from rundial_collector.web.responses import json_response
from rundial_collector.web.spanjson import span_dict

MAX_SPANS = 10_000
MAX_DEPTH = 100  # orjson nests at most 255 levels; each span level takes two
DEFAULT_ROOTS, MAX_ROOTS = 100, 1000
SortKey = tuple[int, str, str]


class SpansQuery(msgspec.Struct):
    projectId: Annotated[str, msgspec.Meta(min_length=1)]
    runId: Annotated[str, msgspec.Meta(min_length=1)]
    limit: Positive = DEFAULT_ROOTS
    cursor: str | None = None


async def query_spans(request: web.Request) -> web.Response:
    """One page of the run's span tree (roots with their whole subtrees)."""
    principal = await authenticate(request)
    query = await decode_body(request, SpansQuery)
    after = _cursor(query.cursor)
    ref = await resolve_project(request, principal, project_id=query.projectId)
    principal.require("project:read", ref)
    store = request.app[STORE]
    if not await store.run_known(ref.project_id, query.runId):
        raise errors.not_found(f"run {query.runId} was not found in project {ref.project_slug}")
    spans = await store.list_spans(ref.project_id, query.runId, MAX_SPANS + 1)
    truncated = len(spans) > MAX_SPANS
    spans = sorted(spans[:MAX_SPANS], key=_sort_key)
    parents, roots = build_tree(spans)
    if after is not None:
        roots = [root for root in roots if _sort_key(spans[root]) > after]
    limit = min(query.limit, MAX_ROOTS)
    shown, more = roots[:limit], len(roots) > limit
    last = list(_sort_key(spans[shown[-1]])) if more else None
    return json_response(request, {
        "projectId": ref.project_id, "runId": query.runId, "spanCount": len(spans),
        "truncated": truncated, "spans": nest(spans, parents, shown), "page": page(more, last)})


def _sort_key(span: SpanRecord) -> SortKey:
    return span.start_ns, span.trace_id, span.span_id


def _cursor(raw: str | None) -> SortKey | None:
    if not raw:
        return None
    start, trace, span = decode_cursor(raw, 3)
    if not is_int64(start) or not isinstance(trace, str) or not isinstance(span, str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return start, trace, span


def build_tree(spans: list[SpanRecord]) -> tuple[list[int | None], list[int]]:
    """(parent index of each span or None, root indexes in ``spans`` order), cycle-free."""
    parents = choose_parents(spans)
    _break_cycles(parents)
    return parents, [i for i, parent in enumerate(parents) if parent is None]


def _break_cycles(parents: list[int | None]) -> None:
    """Make one member of every parent cycle a root (duplicate span ids can form cycles)."""
    state = [0] * len(parents)  # 0 new, 1 on the current walk, 2 done
    for i in range(len(parents)):
        walk: list[int] = []
        j: int | None = i
        while j is not None and state[j] == 0:
            state[j] = 1
            walk.append(j)
            j = parents[j]
        if j is not None and state[j] == 1:
            parents[j] = None
        for k in walk:
            state[k] = 2


def nest(spans: list[SpanRecord], parents: list[int | None], roots: list[int]
         ) -> list[dict[str, Any]]:
    """The JSON trees of ``roots``, children in ``spans`` order.

    A root is level 1. Spans deeper than :data:`MAX_DEPTH` become children of their ancestor at
    level ``MAX_DEPTH`` (so the reply nests at most ``MAX_DEPTH + 1`` levels) and carry
    ``"flattened": true``.
    """
    children: dict[int, list[int]] = {}
    for i, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(i)
    out: list[dict[str, Any]] = []
    for root in roots:
        node = span_dict(spans[root])
        out.append(node)
        # (span, the node its children go into, the level of those children; roots are level 1)
        stack: list[tuple[int, dict[str, Any], int]] = [(root, node, 2)]
        while stack:
            index, holder, depth = stack.pop()
            for child in children.get(index, ()):
                entry = span_dict(spans[child])
                holder["children"].append(entry)
                if depth > MAX_DEPTH:
                    entry["flattened"] = True
                stack.append((child, entry if depth <= MAX_DEPTH else holder, depth + 1))
    return out


def setup_routes(app: web.Application) -> None:
    """Register the span query route."""
    app.router.add_post("/api/v1/query/spans", query_spans)
