"""One watched run: its position, its last state, its subscribers and the pump task.

The pump is the only reader of a run's live rows: on every wake-up (a publish call) or poll it
reads the run's effective status, then every metric chunk, log line and span committed after the
channel's :class:`Position`, encodes them once and offers each message to every subscriber
without waiting. A subscriber that refuses (its inbox is full) is ended with 4408 "slow
consumer" and removed. A terminal status ends every subscriber after the last rows and the
state message, with 1000 "run finished".

Failure behaviour: a failing first read is raised to every waiting subscriber through
:attr:`RunChannel.ready`; a failing later cycle is logged and retried at the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from rundial_collector.live.messages import (Message, Position, close_message, log_messages,
                                             metrics_messages, span_messages, state_message)
from rundial_collector.store.control_base import TERMINAL_STATUSES, Run
from rundial_collector.web.appkeys import STORE

log = logging.getLogger("rundial.events")

TAIL_CHUNKS = 256  # metric chunks per live read
TAIL_LINES = 1000  # log lines per live read
TAIL_SPANS = 500  # spans per live read
SLOW_CONSUMER = (4408, "slow consumer")
RUN_FINISHED = (1000, "run finished")


class Inbox(Protocol):
    def offer(self, message: Message) -> bool: ...

    def end(self, code: int, reason: str) -> None: ...


class Hub(Protocol):
    app: web.Application

    def forget(self, channel: RunChannel) -> None: ...


class RunChannel:
    """The channel of one (project, run); created and owned by the hub."""

    def __init__(self, hub: Hub, project_id: str, run_id: str, poll_seconds: float) -> None:
        self.hub = hub
        self.project_id = project_id
        self.run_id = run_id
        self.poll_seconds = poll_seconds
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.wake = asyncio.Event()
        self.subscribers: set[Inbox] = set()
        self.position = Position()
        self.run: Run | None = None  # the last status read
        self.state: Message | None = None  # its encoded state message
        self.finished = False  # the run is terminal: joiners replay and close
        self.stopped = False  # nobody may join any more
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"events:{self.run_id}")

    def join(self, factory: Callable[[], Inbox]) -> tuple[Run, Position, Inbox | None] | None:
        """(run, position, inbox) for a new subscriber; inbox None on a terminal run;
        None when the channel stopped for another reason (the caller opens a new one)."""
        if self.run is None or (self.stopped and not self.finished):
            return None
        if self.finished:
            return self.run, self.position, None
        inbox = factory()
        self.subscribers.add(inbox)
        return self.run, self.position, inbox

    def leave(self, inbox: Inbox) -> None:
        self.subscribers.discard(inbox)
        if not self.subscribers and not self.stopped:
            self._retire()

    async def stop(self, code: int, reason: str) -> None:
        """End every subscriber with (code, reason) and stop the pump."""
        for inbox in list(self.subscribers):
            inbox.end(code, reason)
        self.subscribers.clear()
        task = self._task
        self._retire()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _retire(self) -> None:
        self.stopped = True
        self.hub.forget(self)
        if not self.ready.done():  # stopped during the first read (shutdown)
            self.ready.set_exception(ConnectionAbortedError("the event channel was closed"))
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def _run(self) -> None:
        try:
            await self._init()
        except Exception as exc:  # the subscribers waiting on ready get it
            self.stopped = True
            self.hub.forget(self)
            if not self.ready.done():
                self.ready.set_exception(exc)
            return
        self.ready.set_result(None)
        if self.finished:
            self._retire()
            return
        while not self.stopped:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
            self.wake.clear()
            if not self.subscribers:
                self._retire()
                return
            try:
                await self._cycle()
            except Exception:
                log.exception("event stream of run %s: read failed; retrying", self.run_id)

    async def _init(self) -> None:
        run = await self._read_run()
        self.position = Position(*await self.hub.app[STORE].event_head())
        self.run, self.state = run, state_message(run, self.position, replay=False)
        self.finished = run.status in TERMINAL_STATUSES

    async def _read_run(self) -> Run:
        run = await self.hub.app[STORE].get_run(self.run_id)
        if run is None or run.project_id != self.project_id:
            raise LookupError(f"run {self.run_id} was not found")
        return run

    async def _cycle(self) -> None:
        """Status first, then rows: rows committed before a terminal status are all sent."""
        run = await self._read_run()
        await self._drain()
        assert self.state is not None
        if run.status != self.state.status:
            self.state = state_message(run, self.position, replay=False)
            self._fan_out(self.state)
        self.run = run
        if run.status in TERMINAL_STATUSES:
            self.finished = True
            self._fan_out(close_message(*RUN_FINISHED))
            self.subscribers.clear()
            self._retire()

    async def _drain(self) -> None:
        """Deliver every row committed after :attr:`position`, page by page."""
        while True:
            start = self.position
            found = await self.hub.app[STORE].tail_events(
                self.project_id, self.run_id, (start.chunk_id, start.log_id, start.span_id),
                (TAIL_CHUNKS, TAIL_LINES, TAIL_SPANS))
            chunks, lines, spans = found.chunks, found.lines, found.spans
            for message in metrics_messages(self.run_id, chunks, start, replay=False):
                self._fan_out(message)
            if chunks:
                start = Position(chunks[-1].chunk_id, start.log_id, start.span_id)
            for message in log_messages(self.run_id, lines, start, replay=False):
                self._fan_out(message)
            if lines:
                start = Position(start.chunk_id, lines[-1].log_id, start.span_id)
            for message in span_messages(self.run_id, spans, start, replay=False):
                self._fan_out(message)
            if spans:
                start = Position(start.chunk_id, start.log_id, spans[-1].span_pk)
            self.position = start
            if (len(chunks) < TAIL_CHUNKS and len(lines) < TAIL_LINES
                    and len(spans) < TAIL_SPANS):
                return

    def _fan_out(self, message: Message) -> None:
        """Offer to every subscriber without waiting; a full one is dropped."""
        for inbox in list(self.subscribers):
            if not inbox.offer(message):
                self.subscribers.discard(inbox)
                inbox.end(*SLOW_CONSUMER)
