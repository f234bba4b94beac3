"""JSON responses encoded with orjson (never compressed: the rc1 SDK sends no Accept-Encoding)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from rundial_collector.web.middleware import request_id


def json_response(request: web.Request, payload: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON object reply that always carries the request's ``requestId``."""
    payload.setdefault("requestId", request_id(request))
    return web.Response(body=orjson.dumps(payload), status=status,
                        content_type="application/json")
