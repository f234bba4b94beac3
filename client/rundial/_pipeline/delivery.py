"""Deliver one gzip'd ingest body: one POST, classified; a 413 splits the body in halves.

The route (metrics, logs or traces) follows from the batch id's kind prefix (``_wire.records``).
A metrics body is sent as ``application/x-rundial-columns`` when it is a columns body (sniffed
from its first inflated bytes, ``_wire.columns``), else as JSON. A columns body answered 400 or
415 (a collector that does not know the format) is re-sent once, with the same
Idempotency-Key, as the equivalent wide-rows body before the answer counts as a rejection; a
413 splits a columns body by rows. ``Delivery.columns_supported`` reports whether a reply
announced the format (``Rundial-Ingest-Formats`` holding ``columns``).

The Idempotency-Key is the batch id; halves of a split batch get ``<id>-0`` / ``<id>-1``
(recursively), so re-sending a partly delivered split stores nothing twice. Never raises for
HTTP or network failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from rundial._http.calls import parse_object
from rundial._http.retry import Outcome, classify, network_error
from rundial._http.transport import Request, Transport, TransportError, base_headers
from rundial._wire.body import as_rows_body, split_body
from rundial._wire.columns import CONTENT_TYPE as COLUMNS_CONTENT_TYPE
from rundial._wire.columns import is_columns_body
from rundial._wire.records import METRICS, ingest_path, kind_of

FORMATS_HEADER = "rundial-ingest-formats"  # lower-case, as Response headers are
FALLBACK_STATUSES = (400, 415)  # a columns body answered so is re-sent as wide rows


@dataclass(slots=True)
class Delivery:
    """Result of delivering one body (all its split parts)."""

    outcome: Outcome  # OK (possibly with dead letters), RETRY or REJECT
    status: int | None = None
    message: str = ""
    retry_after: float | None = None
    accepted: int | None = 0
    server_rejected: int = 0
    dead_letters: list[tuple[str, bytes, str]] = field(default_factory=list)  # (key, body, note)
    columns_supported: bool = False  # a reply announced columns bodies
    columns_fallbacks: int = 0  # columns bodies (or parts) re-sent as wide rows


def ingest_request(api_key: str | None, body: bytes, batch_id: str, timeout: float,
                   columns: bool = False) -> Request:
    """The POST for one batch, with our headers, to the route of its kind (``_wire.records``);
    ``columns``: ``body`` is a columns body."""
    headers = base_headers(api_key)
    headers.update({"content-type": COLUMNS_CONTENT_TYPE if columns else "application/json",
                    "content-encoding": "gzip", "idempotency-key": batch_id})
    return Request("POST", ingest_path(batch_id), body, headers, timeout)


def announces_columns(headers: dict[str, str]) -> bool:
    """True when a reply's ``Rundial-Ingest-Formats`` lists ``columns``."""
    return "columns" in (f.strip() for f in headers.get(FORMATS_HEADER, "").split(","))


def _reply_counts(body: bytes) -> tuple[int | None, int]:
    """``(accepted, rejected)`` from an ingest reply; accepted is None when absent."""
    doc = parse_object(body)
    if doc is None:
        return None, 0
    accepted, rejected = doc.get("accepted"), doc.get("rejected", 0)
    return (accepted if isinstance(accepted, int) and accepted >= 0 else None,
            rejected if isinstance(rejected, int) and rejected > 0 else 0)


def deliver(transport: Transport, api_key: str | None, body: bytes, batch_id: str,
            timeout: float) -> Delivery:
    """POST ``body``; on 413 split and deliver the halves (a single row still 413 is rejected);
    a columns body refused with 400/415 is delivered as wide rows instead."""
    columns = kind_of(batch_id) == METRICS and is_columns_body(body)
    try:
        resp = transport.send(ingest_request(api_key, body, batch_id, timeout, columns))
    except TransportError as exc:
        verdict = network_error(exc)
        return Delivery(verdict.outcome, None, verdict.message)
    verdict = classify(resp.status, resp.body, resp.headers)
    if verdict.outcome is Outcome.OK:
        accepted, rejected = _reply_counts(resp.body)
        result = Delivery(Outcome.OK, resp.status, "", None, accepted, rejected)
    elif verdict.outcome is Outcome.SPLIT:
        result = _deliver_split(transport, api_key, body, batch_id, timeout, verdict.message)
    elif columns and resp.status in FALLBACK_STATUSES:
        result = _deliver_as_rows(transport, api_key, body, batch_id, timeout, resp.status,
                                  verdict.message)
    else:
        result = Delivery(verdict.outcome, resp.status, verdict.message, verdict.retry_after)
    result.columns_supported = result.columns_supported or announces_columns(resp.headers)
    return result


def _deliver_as_rows(transport: Transport, api_key: str | None, body: bytes, batch_id: str,
                     timeout: float, status: int, message: str) -> Delivery:
    """Re-send a refused columns body once as the equivalent wide rows (same key)."""
    try:
        rows = as_rows_body(body)
    except Exception:  # unreadable: nothing to convert, the refusal stands
        return Delivery(Outcome.REJECT, status, message)
    result = deliver(transport, api_key, rows, batch_id, timeout)
    result.columns_fallbacks += 1
    return result


def _deliver_split(transport: Transport, api_key: str | None, body: bytes, batch_id: str,
                   timeout: float, message: str) -> Delivery:
    try:
        halves = split_body(body)
    except (ValueError, orjson.JSONDecodeError, Exception):  # unparsable: cannot split
        halves = None
    if halves is None:
        return Delivery(Outcome.REJECT, 413, message)
    total = Delivery(Outcome.OK, 413, message)
    for index, half in enumerate(halves):
        part = deliver(transport, api_key, half, f"{batch_id}-{index}", timeout)
        if part.outcome is Outcome.RETRY:
            return part
        if part.accepted is None or total.accepted is None:
            total.accepted = None
        else:
            total.accepted += part.accepted
        total.server_rejected += part.server_rejected
        total.columns_supported = total.columns_supported or part.columns_supported
        total.columns_fallbacks += part.columns_fallbacks
        total.dead_letters.extend(part.dead_letters)
        if part.outcome is Outcome.REJECT:
            total.dead_letters.append((f"{batch_id}-{index}", half, part.message))
    return total
