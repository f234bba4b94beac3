"""Decode a JSON request body into a msgspec Struct, with protocol errors on bad input.

:func:`decode_body` reads the body with the configured limit (413/415/400 from
:mod:`rundial_collector.web.body`), treats an empty body as ``{}``, and turns msgspec errors into
400 ``INVALID_REQUEST`` whose ``details.field`` names the offending path (``runName``,
``tags[0]``, ``config.lr``). A body nested deeper than :data:`MAX_JSON_DEPTH` levels is a 400
before any decoder runs (:mod:`rundial_collector.web.jsondepth`).
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from aiohttp import web

from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG
from rundial_collector.web.body import read_body
from rundial_collector.web.jsondepth import MAX_JSON_DEPTH, too_deep

T = TypeVar("T")
_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_MISSING = re.compile(r"missing required field `([^`]*)`")


async def decode_body(request: web.Request, type_: type[T]) -> T:
    """The request body decoded as ``type_``; 400 with ``field`` on any mismatch."""
    raw = await read_body(request, request.app[CONFIG].max_body_bytes)
    return decode_json(raw or b"{}", type_)


def decode_json(raw: bytes, type_: type[T]) -> T:
    """Decode ``raw`` as ``type_``; raise 400 ``INVALID_REQUEST`` naming the field."""
    check_depth(raw)
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        message, field = split_validation_error(str(exc))
        raise errors.invalid(message, field) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise errors.invalid(f"request body is not valid JSON: {exc}") from None


def check_depth(raw: bytes) -> None:
    """400 when ``raw`` nests arrays/objects deeper than :data:`MAX_JSON_DEPTH` levels."""
    if too_deep(raw):
        raise errors.invalid(f"request body nests JSON arrays/objects deeper than "
                             f"{MAX_JSON_DEPTH} levels")


def split_validation_error(text: str) -> tuple[str, str | None]:
    """``"Expected `str`, got `int` - at `$.runName`"`` → (text, ``"runName"``)."""
    match = _PATH.search(text)
    path = match.group(1) if match else ""
    missing = _MISSING.search(text)
    if missing is not None:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return text, path or None
