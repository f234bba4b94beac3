"""``Server-Timing`` on every answer: where the collector spent a request's time (docs/protocol.md).

A handler notes named phases (:func:`timed`); the middleware adds ``total`` (from the request's
arrival at the middleware to its answer) and writes the header once the handler returns. A
response already sent (a WebSocket, a streamed blob) gets no header. Durations are in
milliseconds, as the header's ``dur`` parameter means.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

PHASES_KEY = web.RequestKey("rundial.server_timing", list[tuple[str, float]])
HEADER = "Server-Timing"


@contextmanager
def timed(request: web.Request, name: str) -> Iterator[None]:
    """Note the time the ``with`` body takes as phase ``name`` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        phases: list[tuple[str, float]] = request.setdefault(PHASES_KEY, [])
        phases.append((name, time.perf_counter() - started))


def add_header(request: web.Request, response: web.StreamResponse, started: float) -> None:
    """Write the noted phases and ``total`` (since ``started``, a ``perf_counter`` value)."""
    if response.prepared:
        return
    phases = [*request.get(PHASES_KEY, []), ("total", time.perf_counter() - started)]
    response.headers[HEADER] = ", ".join(f"{name};dur={seconds * 1000:.1f}"
                                         for name, seconds in phases)
