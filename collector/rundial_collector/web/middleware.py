"""Request middleware: request ids, the protocol's error envelope and the access log.

Every response carries ``x-request-id`` and ``Server-Timing`` (:mod:`servertiming`). Any
:class:`ApiError`, any aiohttp HTTP error (404 route, 405 method) and any unexpected
exception is rendered as the v1 error envelope; an unexpected exception is a 500
``INTERNAL_ERROR`` and is logged, and the process keeps serving.
Every request whose handler is not one of the streaming handlers (WebSocket, blob transfers)
is answered within ``request_timeout_seconds``: past it the handler is cancelled and the answer
is a 503 ``UNAVAILABLE`` with ``Retry-After`` (writes already queued still commit; every
ingest route is safe to retry). A database that cannot be reached (:class:`StoreUnavailable`,
PostgreSQL only) is a 503 ``UNAVAILABLE`` with ``Retry-After`` on every route, never a 500;
a text value it cannot hold (:class:`StoreInvalidText`, a NUL on PostgreSQL) is a 400.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web

from rundial_collector.store.errors import StoreInvalidText, StoreUnavailable
from rundial_collector.web import servertiming
from rundial_collector.web.errors import ApiError

log = logging.getLogger("rundial.collector")
access_log = logging.getLogger("rundial.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_KEY = web.RequestKey("rundial.request_id", str)
# Query parameters whose names look like credentials (``token``, ``apiKey``, ``sig``,
# ``client_secret``, ``password``, ``auth``, the UI's one-time login ``once``...) are masked
# whatever their value, and so is any value (or path segment) that carries the prefix of an API
# key (``rdk_``), a UI session (``rds_``) or a one-time login token (``rdo_``).
_SECRET_NAME = re.compile(r"key|token|secret|passw|auth|sig|credential|session|once",
                          re.IGNORECASE)
_KEY_PREFIXED = re.compile(r"rd[kso]_[^&/?#\s]*", re.IGNORECASE)
MASK = "***"
STORE_RETRY_AFTER_SECONDS = 2  # what a 503 for an unreachable database tells clients to wait

_HTTP_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "INVALID_REQUEST", 408: "REQUEST_TIMEOUT", 409: "CONFLICT",
               413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_ENCODING", 429: "RATE_LIMITED"}


# A request id is this process's random prefix and a counter: 16 hex digits, unique within
# the process for 2**32 requests and across collectors unless two draw the same prefix (one in
# 2**32 per pair). Drawing 16 random digits per request instead cost a system call and a UUID
# object on every ingest request.
_ID_PREFIX = os.urandom(4).hex()
_id_counter = itertools.count()


def request_id(request: web.Request) -> str:
    """The id of this request (also echoed as ``x-request-id`` and in every JSON reply):
    ``req_`` and 16 hex digits."""
    rid = request.get(REQUEST_ID_KEY)
    if rid is None:
        rid = request[REQUEST_ID_KEY] = f"req_{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFF:08x}"
    return str(rid)


def make_middlewares(access_log_enabled: bool, request_timeout_seconds: float = 120.0,
                     streaming: Collection[Handler] = ()
                     ) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    """The middleware chain, decided once at start-up (access logging on or off, the deadline
    of every request but those served by the ``streaming`` handlers)."""

    @web.middleware
    async def envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        rid = request_id(request)
        if request.match_info.handler in streaming:
            response = await _handle(request, handler, rid)
        else:
            response = await _handle(request, _deadline(handler, request_timeout_seconds), rid)
        response.headers["x-request-id"] = rid
        servertiming.add_header(request, response, started)
        if access_log_enabled:
            _log_access(request, response, started)
        return response

    return [envelope]


def _deadline(handler: Handler, timeout_seconds: float) -> Handler:
    """``handler`` bounded to ``timeout_seconds``: past it, a 503 with ``Retry-After``."""

    async def bounded(request: web.Request) -> web.StreamResponse:
        try:
            async with asyncio.timeout(timeout_seconds):
                return await handler(request)
        except TimeoutError:
            raise ApiError(503, "UNAVAILABLE", f"the collector could not answer within "
                           f"{timeout_seconds:g} s; retry later",
                           headers={"Retry-After": "1"}) from None

    return bounded


async def _handle(request: web.Request, handler: Handler, rid: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return _render(err, rid)
    except StoreInvalidText as exc:  # e.g. a NUL in text on PostgreSQL: nothing was committed
        return _render(ApiError(400, "INVALID_REQUEST", str(exc)), rid)
    except StoreUnavailable:  # the database is down or timed out: nothing was committed
        return _render(ApiError(503, "UNAVAILABLE", "the database is unavailable; retry later",
                                headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}), rid)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "INTERNAL_ERROR" if exc.status >= 500 else "INVALID_REQUEST")
        return _render(ApiError(exc.status, code, exc.reason or "error"), rid)
    except Exception:
        log.exception("unhandled error on %s %s (%s)", request.method, request.path, rid)
        return _render(ApiError(500, "INTERNAL_ERROR", "internal error; see collector log"), rid)


def _render(err: ApiError, rid: str) -> web.Response:
    response = web.json_response(err.envelope(rid), status=err.status)
    for name, value in err.headers.items():
        response.headers[name] = value
    return response


def _log_access(request: web.Request, response: web.StreamResponse, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    access_log.info('%s "%s %s" %d %.1fms %s', request.remote, request.method,
                    _redacted_path(request), response.status, elapsed_ms,
                    request.get(REQUEST_ID_KEY, "-"))


def _redacted_path(request: web.Request) -> str:
    """``path_qs`` with credentials masked: every query value whose parameter name looks like a
    secret (see :data:`_SECRET_NAME`), and anything carrying the ``rdk_`` API key prefix."""
    url = request.rel_url
    if any(_SECRET_NAME.search(name) for name in url.query):
        url = url.with_query([(name, MASK if _SECRET_NAME.search(name) else value)
                              for name, value in url.query.items()])
    return _KEY_PREFIXED.sub(MASK, url.path_qs)
