"""Sending on a live-event WebSocket without ever holding a stuck client for ever.

aiohttp makes every write of a connection that waits for the client (the transport is paused)
share one drain waiter, and cancelling a task inside that wait cancels the waiter itself: every
later write then fails at once with ``CancelledError``, including the close frame, so the close
grace and the abort behind it never ran and a client that never reads kept its connection and
the bytes queued for it. Hence:

* :func:`send_shielded` (and :class:`ShieldedSender` around a socket): a delivery cancelled
  mid-send (its inbox ended, the run was unsubscribed) leaves the send to finish in the
  background; the waiter stays intact for the close.
* :func:`close_socket`: the close frame gets ``events_close_grace_seconds``
  (``RUNDIAL_COLLECTOR_EVENTS_CLOSE_GRACE_SECONDS``, default 30) to leave, then the connection
  is aborted; a drain broken anyway (a cancelled waiter) aborts at once.
* :func:`drop_unsent`: a session that ends with the client gone (its close frame, a missed
  heartbeat) aborts the connection when frames are still queued for it, instead of waiting for
  a reader that will never come to flush them.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from rundial_collector.web.appkeys import CONFIG


def _retrieve(done: asyncio.Future[None]) -> None:
    """Mark a shielded send's outcome as seen (its caller may be gone)."""
    if not done.cancelled():
        done.exception()


async def send_shielded(ws: web.WebSocketResponse, data: str) -> None:
    """Send one text frame; cancelling the caller does not cancel the send (see the module
    docstring). Raises what the send raises (``ConnectionError`` when the client is gone)."""
    sending = asyncio.ensure_future(ws.send_str(data))
    sending.add_done_callback(_retrieve)
    await asyncio.shield(sending)


class ShieldedSender:
    """A socket as a ``routes.live.Sender`` whose sends are :func:`send_shielded`."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def send_str(self, data: str) -> None:
        await send_shielded(self.ws, data)


async def close_socket(request: web.Request, ws: web.WebSocketResponse,
                       close: tuple[int, str]) -> None:
    """Close with (code, reason); abort the connection when the close frame is not taken
    within the grace, or its drain was broken. Never raises, except when this task itself is
    cancelled."""
    code, reason = close
    message = reason.encode()[:123].decode(errors="ignore").encode()
    grace_seconds = request.app[CONFIG].events_close_grace_seconds
    try:
        await asyncio.wait_for(ws.close(code=code, message=message), max(0.0, grace_seconds))
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        _abort(request)
    except (asyncio.TimeoutError, ConnectionError):
        _abort(request)


def drop_unsent(request: web.Request) -> None:
    """Abort the connection of a finished session when bytes are still queued for it."""
    transport = request.transport
    if transport is not None and transport.get_write_buffer_size() > 0:
        transport.abort()


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()
