"""``GET /api/v1/runs/{runId}/events/ws``: the live event stream of one run (docs §6).

Contract:

* Auth: ``Authorization: Bearer <key>`` or, for browsers, ``?token=<key>`` (the header wins);
  the key needs ``project:read`` or ``stream:read`` on the run's project. The upgrade is always
  accepted; a refused socket is then closed with 4000 + the HTTP status it would have had:
  4400 bad ``cursor``/``projectId``, 4401 no or invalid key, 4403 key without access, 4404
  unknown run (or a run outside ``projectId``), 4409 ambiguous project slug.
* Order: subscribe first, then replay the stored rows up to the subscription's position
  (metrics series by series, logs in time order, spans by id, after ``cursor``), the current
  ``state`` and ``replay_done``; then the live messages after that position (nothing lost,
  nothing twice). ``cursor=tail`` replays nothing: ``state`` and ``replay_done`` come at once,
  with the subscription's position as the cursor (a page that has just read the data).
  A live socket with nothing to send for :data:`KEEPALIVE_POLLS` event polls gets a
  ``keepalive`` frame (no cursor), so a browser can tell a dead socket from a quiet run.
* Close: 1000 "run finished" once the run is terminal (at once after the replay for a late
  joiner), 4408 "slow consumer" when the inbox overflowed, 1001 on shutdown, 1011 on an
  internal error, 4401 once the socket's key is revoked or expires: at once (before the revoke
  call is answered) for a revocation through this collector; otherwise the key is re-checked
  every :data:`KEY_RECHECK_SECONDS` through the auth cache, so a revocation by another process
  sharing the database, or an expiry, closes the socket within the cache TTL plus that. A socket that does not take the close frame within
  ``events_close_grace_seconds`` is aborted. Client frames are read and ignored.
* A client that stops reading: the delivery's sends are shielded (:mod:`routes.live_send`), so
  ending it mid-send (4408, 4401, 1001) keeps the connection's drain intact for the close and
  its grace; frames queued before the run's end still reach a client that reads late. A client
  gone without taking its frames (its close frame, a missed heartbeat) is disconnected at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from multidict import CIMultiDict

from rundial_collector.live import hub
from rundial_collector.live.hub import HUB, Subscription
from rundial_collector.live.hub import MIN_POLL_SECONDS
from rundial_collector.live.messages import (Message, Position, keepalive, log_messages,
                                             metrics_messages, parse_start, replay_done,
                                             span_messages, state_message)
from rundial_collector.live.pump import RUN_FINISHED
from rundial_collector.routes.heartbeat import authorised_run
from rundial_collector.routes.live_send import ShieldedSender, close_socket, drop_unsent
from rundial_collector.web import auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG, STORE

log = logging.getLogger("rundial.events")

WS_PATH = "/api/v1/runs/{runId}/events/ws"
STREAM_SCOPES = frozenset({"project:read", "stream:read"})
HEARTBEAT_SECONDS = 30.0
KEY_RECHECK_SECONDS = 1.0  # an open socket re-checks its API key this often
KEEPALIVE_POLLS = 5  # a quiet socket gets a keepalive frame every this many event polls
REPLAY_CHUNKS = 256
REPLAY_LINES = 1000
REPLAY_SPANS = 500
MAX_CLIENT_FRAME_BYTES = 64 * 1024
INTERNAL = (1011, "internal error")
KEY_REVOKED = (4401, "the API key was revoked")


@dataclass(frozen=True)
class Target:
    """One run's stream: whose, from where, under which key."""

    project_id: str
    run_id: str
    cursor: Position | None  # None: ``tail`` (start at the subscription's position)
    key_id: str


class Sender(Protocol):
    """Where a stream's frames go: the WebSocket, or a wrapper around it."""

    async def send_str(self, data: str) -> None: ...


NextMessage = Callable[[hub.Subscriber], Awaitable[Message]]


def setup_routes(app: web.Application) -> None:
    """Register the stream route and give the app its events hub."""
    hub.install(app)
    app.router.add_get(WS_PATH, events_ws, allow_head=False)


async def events_ws(request: web.Request) -> web.StreamResponse:
    """Upgrade, check the caller, replay, stream live; always answers with a WebSocket."""
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, compress=False,
                               max_msg_size=MAX_CLIENT_FRAME_BYTES)
    if not ws.can_prepare(request).ok:
        raise errors.invalid("this route needs a WebSocket upgrade")
    try:
        target: Target | tuple[int, str] = await _target(request)
    except errors.ApiError as err:
        target = (4000 + err.status, err.message)
    await ws.prepare(request)
    if isinstance(target, tuple):
        await close_socket(request, ws, target)
        return ws
    outcome = await _serve(request, ws, target)
    if outcome is not None:
        await close_socket(request, ws, outcome)
    else:
        drop_unsent(request)
    return ws


async def authenticate_ws(request: web.Request) -> auth.Principal:
    """:func:`auth.authenticate` on the header, else on the ``token`` query parameter."""
    token = request.query.get("token", "").strip()
    if token and "Authorization" not in request.headers:
        headers = CIMultiDict(request.headers)
        headers["Authorization"] = f"Bearer {token}"
        return await auth.authenticate(request.clone(headers=headers))
    return await auth.authenticate(request)


async def _target(request: web.Request) -> Target:
    """The run to stream; :class:`errors.ApiError` (401/403/404/409/400) when refused."""
    principal = await authenticate_ws(request)
    cursor = parse_start(request.query.get("cursor", "").strip())
    run = await authorised_run(request, principal, request.query.get("projectId", "").strip(),
                               STREAM_SCOPES)
    return Target(run.project_id, run.run_id, cursor, principal.key_id)


async def _serve(request: web.Request, ws: web.WebSocketResponse, target: Target
                 ) -> tuple[int, str] | None:
    """Subscribe and run the session; the close to send (None: the client is gone)."""
    try:
        subscription = await request.app[HUB].subscribe(target.project_id, target.run_id)
    except LookupError:
        return 4404, f"run {target.run_id} was not found"
    except ConnectionAbortedError:
        return hub.SHUTTING_DOWN
    except Exception:
        log.exception("event stream of run %s: subscribe failed", target.run_id)
        return INTERNAL
    try:
        return await _session(request, ws, target, subscription)
    finally:
        request.app[HUB].unsubscribe(subscription)


async def _session(request: web.Request, ws: web.WebSocketResponse, target: Target,
                   subscription: Subscription) -> tuple[int, str] | None:
    """Deliver while reading (and ignoring) client frames and watching the key; stop at
    whichever ends first."""
    delivery = asyncio.create_task(_deliver(request, ws, target, subscription))
    if subscription.live is not None:
        subscription.live.on_end = delivery.cancel
    reader = asyncio.create_task(_consume(ws))
    watcher = asyncio.create_task(watch_key(request))
    revoked: list[tuple[int, str]] = []

    def on_revoked() -> None:
        revoked.append(KEY_REVOKED)
        if subscription.live is not None:
            subscription.live.end(*KEY_REVOKED)  # drops what is queued, cancels the delivery
        delivery.cancel()

    try:
        with auth.on_revocation(request.app, target.key_id, on_revoked):
            await asyncio.wait({delivery, reader, watcher},
                               return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, delivery, watcher):
            task.cancel()
        await asyncio.gather(reader, delivery, watcher, return_exceptions=True)
    if revoked:
        return revoked[0]
    if watcher.done() and not watcher.cancelled():
        return watcher.result()
    return _outcome(delivery, subscription, target.run_id)


async def watch_key(request: web.Request) -> tuple[int, str]:
    """Return the 4401 close once the socket's key stops authenticating (revoked, expired).

    A failing store read is not a revocation: the key is checked again at the next round.
    """
    while True:
        await asyncio.sleep(KEY_RECHECK_SECONDS)
        try:
            await authenticate_ws(request)
        except errors.ApiError as err:
            if err.status == 401:
                return 4401, err.message
        except Exception:
            log.warning("event stream: re-checking the API key failed; retrying", exc_info=True)


def _outcome(delivery: asyncio.Task[tuple[int, str]], subscription: Subscription,
             run_id: str) -> tuple[int, str] | None:
    """The close a finished delivery asks for; None when the client went away first."""
    if subscription.live is not None and subscription.live.ended is not None:
        return subscription.live.ended
    if delivery.cancelled():
        return None
    error = delivery.exception()
    if error is None:
        return delivery.result()
    if isinstance(error, ConnectionError):
        return None
    log.error("event stream of run %s failed", run_id, exc_info=error)
    return INTERNAL


async def _consume(ws: web.WebSocketResponse) -> None:
    """Read client frames until the client closes (pings and pongs are handled by aiohttp)."""
    async for _ in ws:
        pass


async def _deliver(request: web.Request, ws: web.WebSocketResponse, target: Target,
                   subscription: Subscription) -> tuple[int, str]:
    """:func:`deliver` with a keepalive frame after every quiet interval; every send shielded
    (the session cancels the delivery when the inbox ends)."""
    quiet_seconds = KEEPALIVE_POLLS * max(MIN_POLL_SECONDS,
                                          request.app[CONFIG].events_poll_seconds)
    sender = ShieldedSender(ws)

    def next_message(inbox: hub.Subscriber) -> Awaitable[Message]:
        return _next_or_keepalive(sender, inbox, target.run_id, quiet_seconds)

    return await deliver(request, sender, target, subscription, next_message)


async def deliver(request: web.Request, ws: Sender, target: Target,
                  subscription: Subscription, next_message: NextMessage) -> tuple[int, str]:
    """Replay, ``state``, ``replay_done``, then the live messages ``next_message`` takes from
    the inbox that the replay did not cover, until the inbox's close sentinel; returns its
    (code, reason) (1000 "run finished" at once for a run that was already terminal). Raises
    what sending raises (``ConnectionError`` when the client is gone)."""
    upto = subscription.position
    start = upto if target.cursor is None else target.cursor.clamp(upto)
    await _replay(request, ws, target, start, upto)
    await ws.send_str(state_message(subscription.run, upto, replay=True).text)
    await ws.send_str(replay_done(target.run_id, upto).text)
    live = subscription.live
    if live is None:
        return RUN_FINISHED
    sent_status: str | None = subscription.run.status
    while True:
        message = await next_message(live)
        if message.close is not None:
            return message.close
        if message.covered_by(upto) or (message.kind == "state"
                                        and message.status == sent_status):
            continue
        sent_status = message.status if message.kind == "state" else sent_status
        await ws.send_str(message.text)


async def _next_or_keepalive(ws: Sender, live: hub.Subscriber, run_id: str,
                             quiet_seconds: float) -> Message:
    """The inbox's next message; a keepalive frame goes out every ``quiet_seconds`` until it
    comes. The inbox read is never cancelled by the timeout (a message cannot be lost)."""
    pending = asyncio.ensure_future(live.next())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=quiet_seconds)
            if done:
                return pending.result()
            await ws.send_str(keepalive(run_id, quiet_seconds))
    finally:
        pending.cancel()


async def _replay(request: web.Request, ws: Sender, target: Target,
                  start: Position, upto: Position) -> None:
    """Stored metric chunks, log lines and spans with ``start < id <= upto``; every message
    carries ``start`` as its cursor (a socket lost mid-replay resumes from there)."""
    if start.chunk_id < upto.chunk_id:
        series = await request.app[STORE].run_series(target.project_id, target.run_id)
        for series_id, key in series:
            await _replay_series(request, ws, target.run_id, start, (series_id, key),
                                 upto.chunk_id)
    if start.log_id < upto.log_id:
        await _replay_lines(request, ws, target, start, upto.log_id)
    if start.span_id < upto.span_id:
        await _replay_spans(request, ws, target, start, upto.span_id)


async def _replay_series(request: web.Request, ws: Sender, run_id: str,
                         start: Position, series: tuple[int, str], upto: int) -> None:
    after = start.chunk_id
    while True:
        chunks = await request.app[STORE].series_chunks(series[0], series[1], (after, upto),
                                                        REPLAY_CHUNKS)
        await _send_all(ws, metrics_messages(run_id, chunks, start, replay=True, exact=False))
        if len(chunks) < REPLAY_CHUNKS:
            return
        after = chunks[-1].chunk_id


async def _replay_lines(request: web.Request, ws: Sender, target: Target,
                        start: Position, upto: int) -> None:
    key: tuple[int, int, int] | None = None
    while True:
        rows = await request.app[STORE].replay_lines(target.project_id, target.run_id,
                                                     (start.log_id, upto), key, REPLAY_LINES)
        await _send_all(ws, log_messages(target.run_id, rows, start, replay=True,
                                         exact=False))
        if len(rows) < REPLAY_LINES:
            return
        key = (rows[-1].timestamp_ms, rows[-1].sequence, rows[-1].log_id)


async def _replay_spans(request: web.Request, ws: Sender, target: Target,
                        start: Position, upto: int) -> None:
    after = start.span_id
    while True:
        rows = await request.app[STORE].replay_spans(target.project_id, target.run_id,
                                                     (after, upto), REPLAY_SPANS)
        await _send_all(ws, span_messages(target.run_id, rows, start, replay=True,
                                          exact=False))
        if len(rows) < REPLAY_SPANS:
            return
        after = rows[-1].span_pk


async def _send_all(ws: Sender, messages: Iterable[Message]) -> None:
    for message in messages:
        await ws.send_str(message.text)
