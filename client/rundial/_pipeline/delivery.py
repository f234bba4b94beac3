"""Deliver one gzip'd ingest body: one POST, classified; a 413 splits the body in halves.

The route (metrics, logs or traces) follows from the batch id's kind prefix (``_wire.records``).

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
from rundial._wire.body import split_body
from rundial._wire.records import ingest_path


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


def ingest_request(api_key: str | None, body: bytes, batch_id: str, timeout: float) -> Request:
    """The POST for one batch, with our headers, to the route of its kind (``_wire.records``)."""
    headers = base_headers(api_key)
    headers.update({"content-type": "application/json", "content-encoding": "gzip",
                    "idempotency-key": batch_id})
    return Request("POST", ingest_path(batch_id), body, headers, timeout)


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
    """POST ``body``; on 413 split and deliver the halves (a single row still 413 is rejected)."""
    try:
        resp = transport.send(ingest_request(api_key, body, batch_id, timeout))
    except TransportError as exc:
        verdict = network_error(exc)
        return Delivery(verdict.outcome, None, verdict.message)
    verdict = classify(resp.status, resp.body, resp.headers)
    if verdict.outcome is Outcome.OK:
        accepted, rejected = _reply_counts(resp.body)
        return Delivery(Outcome.OK, resp.status, "", None, accepted, rejected)
    if verdict.outcome is Outcome.SPLIT:
        return _deliver_split(transport, api_key, body, batch_id, timeout, verdict.message)
    return Delivery(verdict.outcome, resp.status, verdict.message, verdict.retry_after)


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
        total.dead_letters.extend(part.dead_letters)
        if part.outcome is Outcome.REJECT:
            total.dead_letters.append((f"{batch_id}-{index}", half, part.message))
    return total
