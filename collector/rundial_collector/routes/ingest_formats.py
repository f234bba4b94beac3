"""Body formats of ``POST /api/v1/ingest/metrics`` and how a collector announces them.

A request whose ``Content-Type`` is :data:`COLUMNS_CONTENT_TYPE` (any case, parameters ignored)
carries a columnar body (docs/protocol.md §4.16); any other is JSON (rc1 ``points``, wide
``rows``). Every reply of that route, a success or an error envelope (401 included), carries
``Rundial-Ingest-Formats: rows, columns`` so that an SDK learns from its first batch's reply
that it may send columns; ``GET /api/v1/cli/capabilities`` lists :data:`INGEST_FORMATS` too.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["COLUMNS_CONTENT_TYPE", "FORMATS_HEADER", "INGEST_FORMATS", "announce_formats",
           "is_columns"]

COLUMNS_CONTENT_TYPE = "application/x-rundial-columns"
FORMATS_HEADER = "Rundial-Ingest-Formats"
INGEST_FORMATS = ("rows", "columns")
METRICS_PATH = "/api/v1/ingest/metrics"
_ANNOUNCED = ", ".join(INGEST_FORMATS)


def is_columns(request: web.Request) -> bool:
    """True when the request says its body is columnar."""
    media_type = request.headers.get("Content-Type", "").split(";", 1)[0]
    return media_type.strip().lower() == COLUMNS_CONTENT_TYPE


async def announce_formats(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: add the formats header to every reply of the metrics
    route (whatever its status, so errors raised before the handler runs are covered)."""
    if request.path == METRICS_PATH:
        response.headers[FORMATS_HEADER] = _ANNOUNCED
