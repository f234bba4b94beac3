"""Helpers that turn store back-pressure and store errors into protocol errors.

* :func:`write_or_429` awaits a store write; a full write queue becomes 429 ``RATE_LIMITED``
  with ``Retry-After`` and a shutting-down engine a 503.
* :func:`store_errors` maps :class:`StoreConflict`/:class:`StoreNotFound` to 409/404.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from aiohttp import web

from rundial_collector.store.control_base import StoreConflict, StoreNotFound
from rundial_collector.store.errors import EngineClosed, WriteQueueFull
from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG

T = TypeVar("T")


def now_ms() -> int:
    """The server clock in integer milliseconds since the epoch."""
    return int(time.time() * 1000)


async def write_or_429(request: web.Request, op: Awaitable[T]) -> T:
    """Await a store write; 429 when the write queue is full, 503 while stopping.

    Store conflicts become 409/404 as in :func:`store_errors`.
    """
    try:
        with store_errors():
            return await op
    except WriteQueueFull:
        raise errors.rate_limited(request.app[CONFIG].retry_after_seconds) from None
    except EngineClosed:
        raise errors.ApiError(503, "UNAVAILABLE", "the collector is shutting down",
                              headers={"Retry-After": "1"}) from None


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate store exceptions raised inside the block into the protocol's 409/404."""
    try:
        yield
    except StoreConflict as exc:
        raise errors.conflict(exc.message, exc.field) from None
    except StoreNotFound as exc:
        err = errors.not_found(exc.message)
        err.field = exc.field
        raise err from None
