"""JSON responses encoded with orjson (never compressed: the rc1 SDK sends no Accept-Encoding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.web.middleware import request_id


def json_response(request: web.Request, payload: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON object reply that always carries the request's ``requestId``."""
    payload.setdefault("requestId", request_id(request))
    return web.Response(body=orjson.dumps(payload), status=status,
                        content_type="application/json")


def json_response_spliced(request: web.Request, payload: dict[str, Any], key: str,
                          text: Sequence[bytes | memoryview]) -> web.Response:
    """:func:`json_response` of ``payload`` whose ``key`` holds the JSON text joined from
    ``text`` (a large rendered array), built with one copy of it instead of two."""
    payload.setdefault("requestId", request_id(request))
    return web.Response(body=spliced_json(payload, key, text), status=200,
                        content_type="application/json")


def spliced_json(payload: dict[str, Any], key: str, text: Sequence[bytes | memoryview]) -> bytes:
    """``orjson.dumps(payload)`` with ``payload[key]`` replaced by the JSON text ``text``
    (concatenated), in one ``bytes.join``. Raises KeyError when ``key`` is not in ``payload``."""
    if key not in payload:
        raise KeyError(key)
    names = list(payload)
    at = names.index(key)
    before = orjson.dumps({name: payload[name] for name in names[:at]})
    after = orjson.dumps({name: payload[name] for name in names[at + 1:]})
    opening = before[:-1] + (b"," if at else b"") + orjson.dumps(key) + b":"
    closing = b"," + after[1:] if at + 1 < len(names) else b"}"
    return b"".join([opening, *text, closing])
