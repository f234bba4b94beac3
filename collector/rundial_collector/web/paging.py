"""Query-string paging helpers: ``limit`` parsing and opaque cursors.

A cursor is url-safe base64 of a compact JSON array; anything that does not decode into the
expected shape is a 400 naming ``cursor``. ``limit`` must be an integer ≥ 1 and is clamped to
the route's maximum. Cursors longer than :data:`MAX_CURSOR_CHARS` are refused unread.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.store.errors import has_nul
from rundial_collector.web import errors
from rundial_collector.web.intbounds import MAX_INT64, MIN_INT64, query_int

MAX_CURSOR_CHARS = 1024  # every cursor this collector issues is far shorter


def parse_limit(request: web.Request, default: int, maximum: int) -> int:
    """``?limit=`` as an int in [1, maximum]; 400 with field ``limit`` when not an integer ≥ 1."""
    value = query_int(request.query, "limit", minimum=1)
    return default if value is None else min(value, maximum)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(raw: str, length: int) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor` holding ``length`` values; 400 otherwise."""
    if len(raw) > MAX_CURSOR_CHARS:
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    try:
        values = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return values




def is_int64(value: Any) -> bool:
    """True for an ``int`` (not a bool) that SQLite can bind: a cursor value out of this range
    must be a 400, never an ``OverflowError``."""
    return type(value) is int and MIN_INT64 <= value <= MAX_INT64


def query_cursor(request: web.Request, length: int) -> list[Any] | None:
    """The decoded ``?cursor=`` (None when absent or empty). A text value holding NUL is a
    400 naming ``cursor`` on every backend: no cursor of these listings is issued with one (the
    ids, slugs, emails, media keys and run names they page by are refused with NUL) and
    PostgreSQL could not compare it."""
    raw = request.query.get("cursor", "").strip()
    if not raw:
        return None
    values = decode_cursor(raw, length)
    if has_nul(*(value for value in values if isinstance(value, str))):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    return values


def page(has_more: bool, next_values: list[Any] | None) -> dict[str, Any]:
    """The ``page`` object: ``{"hasMore", "nextCursor"}`` (cursor null when no more)."""
    cursor = encode_cursor(next_values) if has_more and next_values is not None else None
    return {"hasMore": has_more, "nextCursor": cursor}
