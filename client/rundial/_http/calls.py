"""One JSON call to the collector on the injectable transport, and how any answer is read.

Every JSON call goes through :func:`call`: the run's control-plane calls
(:mod:`rundial._pipeline.registrar`), the heartbeat, ``rd.Client``, the artifact control calls
and the CLI (which passes its own headers and transport and maps the result to its exit codes).
Senders of other bodies (gzip ingest batches, signed blob URLs) read errors with
:func:`parse_envelope`, :func:`retryable_by_protocol` and :func:`parse_retry_after` from here.

:func:`call` never raises for a failed request (a payload that is not JSON-serialisable is a
``TypeError``, a programming error). Its :class:`CallResult` has one of three kinds:

* ``ok``: a 2xx answer. ``doc`` is its JSON object; ``json_object`` is False (and ``doc`` empty)
  when the body was empty, not JSON or not an object.
* ``retry``: no answer (:class:`~rundial._http.transport.TransportError`), HTTP 408, 429 or any 5xx.
  Try again later, not before ``retry_after`` seconds when the server sent ``Retry-After``.
* ``fatal``: any other status; the request itself is refused. ``auth`` marks 401 and 403 among
  them (the CLI exits 2 for those).

``reached`` tells whether a failed request may have been applied by the server: not when the
connection could not be opened (``TransportError.sent`` is False), nor for 408, 429 and 503 (the
server answered without processing it). The registrar relies on it to read a later 409.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from rundial._http.transport import Request, Response, Transport, TransportError, base_headers

OK, RETRY, FATAL = "ok", "retry", "fatal"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
UNPROCESSED_STATUSES = frozenset({408, 429, 503})  # the server answered without applying it
AUTH_STATUSES = frozenset({401, 403})
RECOGNISED_CODES = frozenset({
    "INVALID_REQUEST", "REQUEST_TIMEOUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_ENCODING",
    "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "INTERNAL_ERROR",
    "DEV_MODE_REQUIRED",
})
NON_RETRYABLE_CODES = frozenset({
    "INVALID_REQUEST", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_ENCODING", "UNAUTHORIZED", "FORBIDDEN",
    "NOT_FOUND", "CONFLICT", "DEV_MODE_REQUIRED",
})
RETRY_AFTER_MAX_S = 3600.0  # never wait longer than an hour on one server hint
SNIPPET_CHARS = 200  # how much of a body that is not JSON an error message quotes
_NOT_JSON = object()  # what _decode returns for a body that is not JSON


@dataclass(frozen=True, slots=True)
class Envelope:
    """The v1 error envelope ``{"error": {"code", "message", "details": {"field"}},
    "requestId"}``. A part is None when absent or not a string; ``text`` is the start of a body
    that is not JSON at all (a proxy's page), else empty."""

    code: str | None = None
    message: str | None = None
    field: str | None = None
    request_id: str | None = None
    text: str = ""

    @property
    def recognised_code(self) -> str | None:
        """``code`` when it is one of the protocol's codes (§1.4), else None."""
        return self.code if self.code in RECOGNISED_CODES else None

    def summary(self) -> str:
        """``"CODE: message"`` from the parts present, on one line; empty when there are none."""
        parts = (self.code, self.message or " ".join(self.text.split()))
        return ": ".join(part for part in parts if part)


def parse_envelope(body: bytes) -> Envelope:
    """The error envelope of an answer's body; never raises (anything else gives empty parts)."""
    doc = _decode(body)
    if doc is _NOT_JSON:
        return Envelope(text=body[:SNIPPET_CHARS].decode("utf-8", "replace"))
    if not isinstance(doc, dict):
        return Envelope()
    error = _mapping(doc.get("error"))
    details = _mapping(error.get("details"))
    return Envelope(_string(error.get("code")), _string(error.get("message")),
                    _string(details.get("field")), _string(doc.get("requestId")))


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def classify_status(status: int) -> str:
    """``ok`` for 2xx, ``retry`` for 408, 429 and 5xx, ``fatal`` for anything else."""
    if 200 <= status < 300:
        return OK
    if status in RETRYABLE_STATUSES or status >= 500:
        return RETRY
    return FATAL


def retryable_by_protocol(status: int, envelope: Envelope) -> bool:
    """Protocol §1.5, for data-plane failures (ingest batches, artifact transfers): a status of
    408/429/500/502/503/504, a 5xx without a recognised code, or a recognised code that does not
    refuse the request itself (so 400 + ``RATE_LIMITED`` is retryable). ``status`` is non-2xx."""
    code = envelope.recognised_code
    return (status in RETRYABLE_STATUSES or (code is None and status >= 500)
            or (code is not None and code not in NON_RETRYABLE_CODES))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), clamped to
    [0, 3600]; None when absent or unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # lazy: only HTTP-date hints need it

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


@dataclass(frozen=True, slots=True)
class CallResult:
    """Outcome of one JSON call (see the module docstring). ``response`` is the answer (None
    when none came); ``failure`` is the transport's error when no answer came."""

    kind: str  # OK | RETRY | FATAL
    status: int | None = None
    message: str = ""
    doc: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    reached: bool = True  # the request may have been applied by the server
    json_object: bool = False  # the body was a JSON object (``doc``)
    envelope: Envelope = Envelope()
    response: Response | None = None
    failure: TransportError | None = None

    @property
    def ok(self) -> bool:
        return self.kind == OK

    @property
    def auth(self) -> bool:
        """A refusal for authentication or authorisation (HTTP 401/403)."""
        return self.kind == FATAL and self.status in AUTH_STATUSES

    @property
    def code(self) -> str | None:
        """The collector's error code when it is one of the protocol's, else None."""
        return self.envelope.recognised_code


def quote(segment: str) -> str:
    """Percent-encode one path segment with no safe characters (``/`` becomes ``%2F``)."""
    return urllib.parse.quote(segment, safe="")


def json_request(method: str, path: str, payload: Any, headers: Mapping[str, str],
                 timeout: float | None) -> Request:
    """The request: ``payload`` (None: no body) as compact UTF-8 JSON, with ``headers``."""
    sent = dict(headers)
    body = None
    if payload is not None:
        sent["content-type"] = "application/json"
        body = orjson.dumps(payload)
    return Request(method, path, body, sent, timeout)


def call(transport: Transport, api_key: str | None, method: str, path: str, payload: Any,
         timeout: float | None, operation: str, *,
         headers: Mapping[str, str] | None = None) -> CallResult:
    """Send one JSON request and classify the answer (see the module docstring).

    ``headers`` replaces the SDK's :func:`~rundial._http.transport.base_headers` (built from
    ``api_key``) when given. ``operation`` names the call in the result's message.
    """
    sent = base_headers(api_key) if headers is None else headers
    try:
        response = transport.send(json_request(method, path, payload, sent, timeout))
    except TransportError as exc:
        return CallResult(RETRY, None, f"{operation} failed: {exc}", reached=exc.sent,
                          failure=exc)
    return read_answer(response, operation)


def read_answer(response: Response, operation: str) -> CallResult:
    """Classify one HTTP answer to a JSON call named ``operation``."""
    doc = parse_object(response.body)
    kind = classify_status(response.status)
    if kind == OK:
        return CallResult(OK, response.status, "", doc or {}, json_object=doc is not None,
                          response=response)
    envelope = parse_envelope(response.body)
    return CallResult(kind, response.status,
                      f"{operation} failed with {status_text(response.status, envelope)}",
                      doc or {}, parse_retry_after(response.headers.get("retry-after")),
                      response.status not in UNPROCESSED_STATUSES, doc is not None, envelope,
                      response)


def status_text(status: int, envelope: Envelope) -> str:
    """``"HTTP <status> (CODE: message)"``, the parenthesis only when the envelope says
    something: how every error message names a refused request."""
    summary = envelope.summary()
    return f"HTTP {status}" + (f" ({summary})" if summary else "")


def _decode(body: bytes) -> object:
    """The JSON value of ``body`` (None when empty), or ``_NOT_JSON``."""
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return _NOT_JSON


def parse_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object of ``body``; None when it is empty, not JSON or not an object."""
    doc = _decode(body)
    return doc if isinstance(doc, dict) else None
