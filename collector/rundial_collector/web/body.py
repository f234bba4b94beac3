"""Read a request body with hard bounds, decompressing gzip incrementally.

The limit applies to the **decompressed** size. Reading stops as soon as the limit would be
crossed (413), so a gzip bomb never inflates past ``limit + 1`` bytes of memory. Broken or
truncated gzip is a 400; any encoding other than gzip/identity is a 415. A body that has not
fully arrived within ``config.body_read_timeout_seconds`` (a client that announced more bytes
than it sends, or stalls) is a 408, so no request waits for its body forever.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG

READ_CHUNK_BYTES = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_IDENTITY = frozenset({"", "identity"})
_GZIP = frozenset({"gzip", "x-gzip"})


async def read_body(request: web.Request, limit_bytes: int) -> bytes:
    """Return the (decompressed) body; raise :class:`ApiError` 400/408/413/415 on bad input."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in _IDENTITY:
        reader = _read_plain
    elif encoding in _GZIP:
        reader = _read_gzip
    else:
        raise errors.unsupported_encoding(encoding)
    if _arrived(request):  # nothing left to wait for: no deadline to arm
        return await reader(request, limit_bytes)
    timeout_seconds = request.app[CONFIG].body_read_timeout_seconds
    try:
        async with asyncio.timeout(timeout_seconds):
            return await reader(request, limit_bytes)
    except TimeoutError:
        raise errors.ApiError(408, "REQUEST_TIMEOUT", f"the request body did not arrive within "
                              f"{timeout_seconds:g} s") from None


def _arrived(request: web.Request) -> bool:
    """Whether the whole body (by its ``Content-Length``) is already buffered."""
    declared = request.content_length
    return declared is not None and request.content.total_bytes >= declared


async def _read_plain(request: web.Request, limit_bytes: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit_bytes:
        raise errors.too_large(limit_bytes)
    out = bytearray()
    async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
        out += chunk
        if len(out) > limit_bytes:
            raise errors.too_large(limit_bytes)
    return bytes(out)


async def _read_gzip(request: web.Request, limit_bytes: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit_bytes:
        raise errors.too_large(limit_bytes)
    inflater = _Inflater(limit_bytes)
    async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
        inflater.feed(chunk)
    return inflater.finish()


class _Inflater:
    """Incremental gzip decoder (multi-member aware) that never outgrows ``limit + 1`` bytes."""

    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._out: list[bytes] = []  # the inflated pieces (usually one: joined without a copy)
        self._size = 0
        self._compressed = 0
        self._decoder = zlib.decompressobj(_GZIP_WBITS)
        self._member_open = False

    def feed(self, chunk: bytes) -> None:
        self._compressed += len(chunk)
        if self._compressed > self._limit:
            raise errors.too_large(self._limit)
        while chunk:
            chunk = self._step(chunk)

    def _step(self, chunk: bytes) -> bytes:
        """Inflate ``chunk``; return input left over for a following gzip member."""
        self._member_open = True
        room = self._limit + 1 - self._size
        try:
            piece = self._decoder.decompress(chunk, room)
        except zlib.error as exc:
            raise errors.invalid(f"request body is not valid gzip: {exc}") from None
        self._out.append(piece)
        self._size += len(piece)
        if self._size > self._limit:
            raise errors.too_large(self._limit)
        if self._decoder.eof:
            rest = self._decoder.unused_data
            self._decoder = zlib.decompressobj(_GZIP_WBITS)
            self._member_open = False
            return rest
        return b""

    def finish(self) -> bytes:
        if self._member_open:
            raise errors.invalid("request body is truncated gzip")
        return b"".join(self._out)
