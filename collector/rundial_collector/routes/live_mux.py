"""``GET /api/v1/projects/{projectId}/events/ws``: one socket for the live streams of many
runs of one project (docs/protocol.md §6.6).

Contract:

* Auth as the per-run stream (:mod:`routes.live`): Bearer header, ``?token=`` or the UI
  session cookie; the key needs ``project:read`` or ``stream:read`` on the project. A refused
  socket is closed with 4000 + the HTTP status (4401, 4403, 4404, 4409).
* The client sends ``{"type": "subscribe", "runId": ..., "cursor": ...}`` and
  ``{"type": "unsubscribe", "runId": ...}`` text frames. Each subscription behaves like the
  per-run socket: subscribe first, then replay up to the subscription's position, ``state``,
  ``replay_done``, then the live messages after it (every frame carries its ``runId`` and a
  per-run ``cursor``). A run's stream ends with ``{"type": "run_closed", "runId", "code",
  "reason"}`` (1000 "run finished"; the socket stays open for the other runs).
* A subscription that is refused gets ``{"type": "error", "runId", "code", "message"}``:
  4400 bad message or cursor, 4404 unknown run or a run of another project, 4413 more than
  :data:`MAX_RUNS_PER_SOCKET` runs; the socket stays open. A frame that is not a JSON object
  gets the same 4400 error frame without ``runId``.
* Bounded memory: every subscription has the per-run inbox bound and the socket's inboxes
  share one byte budget (:data:`hub.QUEUE_MAX_BYTES`); a run whose inbox overflows closes the
  whole socket with 4408 "slow consumer" (the client reconnects with its per-run cursors).
* A socket with nothing to send for the keepalive interval gets one ``keepalive`` frame
  (without ``runId``); 4401 once the key is revoked or expires; 1001 on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from rundial_collector.live import hub
from rundial_collector.live.hub import HUB, MIN_POLL_SECONDS
from rundial_collector.live.messages import Message, Position, parse_start
from rundial_collector.live.pump import RUN_FINISHED, SLOW_CONSUMER
from rundial_collector.routes import live
from rundial_collector.routes.live_send import close_socket, drop_unsent, send_shielded
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import CONFIG, STORE

log = logging.getLogger("rundial.events")

MUX_PATH = "/api/v1/projects/{projectId}/events/ws"
MAX_RUNS_PER_SOCKET = 100


def _frame(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


class _Budget:
    """The byte budget the inboxes of one socket share."""

    def __init__(self) -> None:
        self.queued_bytes = 0


class _SharedInbox(hub.Subscriber):
    """A per-run inbox that also counts against its socket's shared byte budget: an offer that
    would take the socket's inboxes together past :data:`hub.QUEUE_MAX_BYTES` is refused (the
    pump then ends this inbox with 4408, which closes the socket)."""

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget

    def offer(self, message: Message) -> bool:
        if self.ended is None and (self.budget.queued_bytes + message.size
                                   > hub.QUEUE_MAX_BYTES):
            return False
        before = self.queued_bytes
        accepted = super().offer(message)
        self.budget.queued_bytes += self.queued_bytes - before
        return accepted

    async def next(self) -> Message:
        message = await super().next()
        self.budget.queued_bytes -= message.size
        return message

    def end(self, code: int, reason: str) -> None:
        self.release()
        super().end(code, reason)

    def release(self) -> None:
        """Drop what is queued and give its bytes back to the budget (the run left the
        socket, or its inbox ended)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.budget.queued_bytes -= self.queued_bytes
        self.queued_bytes = 0


class _Mux:
    """The subscriptions of one socket and the tasks delivering them. It is the
    :class:`live.Sender` of every run's delivery, so the keepalive knows when the socket last
    sent anything."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse,
                 project_id: str) -> None:
        self.request, self.ws, self.project_id = request, ws, project_id
        self.budget = _Budget()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.done: asyncio.Future[tuple[int, str]] = (
            asyncio.get_running_loop().create_future())
        self.last_send = asyncio.get_running_loop().time()

    async def send_str(self, data: str) -> None:
        """Send one frame. The send itself is shielded: cancelling a run's delivery (its
        unsubscribe) while the socket is backed up would cancel aiohttp's drain waiter, which
        the other runs' sends share, and end their deliveries silently."""
        self.last_send = asyncio.get_running_loop().time()
        await send_shielded(self.ws, data)

    def finish(self, close: tuple[int, str]) -> None:
        """Close the whole socket with ``close`` (the first call wins)."""
        if not self.done.done():
            self.done.set_result(close)

    async def handle(self, raw: str) -> None:
        """One client frame: subscribe or unsubscribe; an error frame when it is bad."""
        try:
            frame = orjson.loads(raw)
        except orjson.JSONDecodeError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") not in ("subscribe", "unsubscribe"):
            await self.send_str(_frame(type="error", code=4400, message=(
                'a client frame is {"type": "subscribe"|"unsubscribe", "runId": ...}')))
            return
        run_id = frame.get("runId")
        if not isinstance(run_id, str) or not run_id:
            await self.send_str(_frame(type="error", code=4400,
                                       message="runId must be a string"))
            return
        if frame["type"] == "unsubscribe":
            task = self.tasks.pop(run_id, None)
            if task is not None:
                task.cancel()
            return
        await self.subscribe(run_id, frame.get("cursor", ""))

    async def subscribe(self, run_id: str, raw_cursor: object) -> None:
        """Start following ``run_id`` unless it is followed already; an error frame when the
        cursor is bad, the run is not this project's, or the socket is full."""
        if run_id in self.tasks:
            return  # already followed: nothing of it is missed
        if len(self.tasks) >= MAX_RUNS_PER_SOCKET:
            await self.send_str(_frame(type="error", runId=run_id, code=4413, message=(
                f"a socket follows at most {MAX_RUNS_PER_SOCKET} runs")))
            return
        try:
            if not isinstance(raw_cursor, str):
                raise errors.invalid("cursor must be a string", "cursor")
            cursor = parse_start(raw_cursor.strip())
            run = await self.request.app[STORE].get_run(run_id)
            if run is None or run.project_id != self.project_id:
                raise errors.not_found(f"run {run_id} was not found")
        except errors.ApiError as err:
            await self.send_str(_frame(type="error", runId=run_id, code=4000 + err.status,
                                       message=err.message))
            return
        self.tasks[run_id] = asyncio.create_task(self._follow(run_id, cursor))

    async def _follow(self, run_id: str, cursor: Position | None) -> None:
        """Deliver one run until it finishes (then ``run_closed``), is unsubscribed
        (cancelled) or its stream fails (then the socket closes)."""
        try:
            close = await self._stream(run_id, cursor)
        finally:
            if self.tasks.get(run_id) is asyncio.current_task():
                del self.tasks[run_id]
        if close is not None:
            await self.send_str(_frame(type="run_closed", runId=run_id, code=close[0],
                                       reason=close[1]))

    async def _stream(self, run_id: str, cursor: Position | None) -> tuple[int, str] | None:
        """The run's delivery; RUN_FINISHED, or None after an error frame or :meth:`finish`."""
        app = self.request.app
        try:
            subscription = await app[HUB].subscribe(
                self.project_id, run_id, lambda: _SharedInbox(self.budget))
        except LookupError:
            await self.send_str(_frame(type="error", runId=run_id, code=4404,
                                       message=f"run {run_id} was not found"))
            return None
        except ConnectionAbortedError:
            self.finish(hub.SHUTTING_DOWN)
            return None
        inbox = subscription.live
        if inbox is not None:  # 4408 or 1001 from the pump: the whole socket closes at once
            inbox.on_end = lambda: self.finish(inbox.ended or SLOW_CONSUMER)
        target = live.Target(self.project_id, run_id, cursor, "")
        try:
            close = await live.deliver(self.request, self, target, subscription,
                                       lambda queued: queued.next())
        except ConnectionError:
            self.finish((1000, "client gone"))
            return None
        except Exception:
            log.exception("multiplexed event stream of run %s failed", run_id)
            self.finish(live.INTERNAL)
            return None
        finally:
            app[HUB].unsubscribe(subscription)
            if isinstance(inbox, _SharedInbox):
                inbox.release()
        if close != RUN_FINISHED:
            self.finish(close)
            return None
        return close

    async def keepalive(self) -> None:
        """Send a ``keepalive`` frame whenever the socket sent nothing for the interval."""
        quiet_seconds = live.KEEPALIVE_POLLS * max(
            MIN_POLL_SECONDS, self.request.app[CONFIG].events_poll_seconds)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, self.last_send + quiet_seconds - loop.time()))
            if loop.time() - self.last_send >= quiet_seconds:
                await self.send_str(_frame(type="keepalive",
                                           intervalMs=round(quiet_seconds * 1000)))

    async def read(self) -> tuple[int, str]:
        """Handle client frames until the client closes."""
        async for message in self.ws:
            if message.type == web.WSMsgType.TEXT:
                await self.handle(message.data)
            elif message.type == web.WSMsgType.BINARY:
                await self.send_str(_frame(type="error", code=4400,
                                           message="client frames are JSON text"))
        return 1000, "client gone"

    async def close_all(self) -> None:
        """Cancel every run's delivery and wait for them to leave their channels."""
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def setup_routes(app: web.Application) -> None:
    """Register the multiplexed stream route (the hub is installed by :mod:`routes.live`)."""
    app.router.add_get(MUX_PATH, events_mux_ws, allow_head=False)


async def events_mux_ws(request: web.Request) -> web.StreamResponse:
    """Upgrade, check the caller and the project, then serve subscriptions until closed."""
    ws = web.WebSocketResponse(heartbeat=live.HEARTBEAT_SECONDS, compress=False,
                               max_msg_size=live.MAX_CLIENT_FRAME_BYTES)
    if not ws.can_prepare(request).ok:
        raise errors.invalid("this route needs a WebSocket upgrade")
    try:
        principal = await live.authenticate_ws(request)
        project = await auth.resolve_project(request, principal,
                                             project_id=request.match_info["projectId"])
        principal.require_any(live.STREAM_SCOPES, project)
        refused: tuple[int, str] | None = None
    except errors.ApiError as err:
        refused = (4000 + err.status, err.message)
    await ws.prepare(request)
    if refused is not None:
        await close_socket(request, ws, refused)
        return ws
    close = await _serve(request, ws, project.project_id, principal.key_id)
    if close is not None:
        await close_socket(request, ws, close)
    else:
        drop_unsent(request)
    return ws


async def _serve(request: web.Request, ws: web.WebSocketResponse, project_id: str,
                 key_id: str) -> tuple[int, str] | None:
    mux = _Mux(request, ws, project_id)
    reader = asyncio.create_task(mux.read())
    watcher = asyncio.create_task(live.watch_key(request))
    beat = asyncio.create_task(mux.keepalive())
    waited: set[asyncio.Future[Any]] = {reader, watcher, beat, mux.done}
    try:
        with auth.on_revocation(request.app, key_id, lambda: mux.finish(live.KEY_REVOKED)):
            await asyncio.wait(waited,
                               return_when=asyncio.FIRST_COMPLETED)
    finally:
        await mux.close_all()
        for task in (reader, watcher, beat):
            task.cancel()
        await asyncio.gather(reader, watcher, beat, return_exceptions=True)
    if mux.done.done():
        return mux.done.result()
    if watcher.done() and not watcher.cancelled() and watcher.exception() is None:
        return watcher.result()
    return None
