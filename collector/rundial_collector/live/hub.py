"""In-process pub/sub for the live event stream (docs/protocol.md §6).

Wiring (the only calls other modules make; each is sync, never awaits, never raises and costs a
dict look-up when nobody watches the run). Call them AFTER the store write has committed:

* ``routes.ingest.ingest_metrics``, right after ``outcome = await write_or_429(...)``::

      hub.publish_ingest(request.app, chunks)  # live: publish after commit

* ``routes.ingest._ingest_events`` (logs and traces), right after its ``write_or_429``::

      hub.publish_ingest(request.app, records)  # live: publish after commit

* ``routes.runs.set_status`` and ``routes.runs.start_run``, right after their
  ``write_or_429``::

      hub.publish_run(request.app, run)  # live: publish after commit

* each of those modules imports it with
  ``from rundial_collector.live import hub  # live: publish after commit``.

Design: one :class:`RunChannel` per watched (project, run). A publish only **wakes** the
channel; its single pump task then reads the rows committed after the channel's position (one
read per run, however many subscribers) and fans the encoded messages out with ``put_nowait``
into each subscriber's bounded queue (:data:`QUEUE_MAX_MESSAGES` messages and
:data:`QUEUE_MAX_BYTES` bytes). A subscriber that is full is dropped at once ("slow consumer",
close code 4408): publishing never waits for a subscriber, so ingest is never slowed down. The
pump also polls every ``config.events_poll_seconds`` (``RUNDIAL_COLLECTOR_EVENTS_POLL_SECONDS``): that
turns a run ``lost`` without any request, and delivers rows whose publish call was missed.
When the run becomes terminal the pump delivers the last rows, the state and an end sentinel.
A store shared by several collectors (PostgreSQL) reports their commits through
``on_remote_commit``, which wakes the channel like a local publish; the poll stays the
fallback for a notification that never came.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from rundial_collector.live.messages import Message, Position, close_message
from rundial_collector.live.pump import RunChannel
from rundial_collector.store.control_base import Run
from rundial_collector.web.appkeys import CONFIG, STORE


QUEUE_MAX_MESSAGES = 1000
QUEUE_MAX_BYTES = 8 * 1024 * 1024
MIN_POLL_SECONDS = 0.05  # floor for events_poll_seconds, so a typo cannot spin the loop


SHUTTING_DOWN = (1001, "server shutting down")


class _Item(Protocol):
    """Anything that names a run: a metric chunk, log line, span or run."""

    @property
    def project_id(self) -> str: ...

    @property
    def run_id(self) -> str: ...


class Subscriber:
    """One socket's bounded inbox. ``end`` stops it at once; ``on_end`` is then called."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_MAX_MESSAGES)
        self.queued_bytes = 0
        self.ended: tuple[int, str] | None = None
        self.on_end: Callable[[], object] | None = None

    def offer(self, message: Message) -> bool:
        """Queue without waiting; False (and nothing queued) when the inbox is full."""
        if self.ended is not None:
            return True
        if self.queue.full() or self.queued_bytes + message.size > QUEUE_MAX_BYTES:
            return False
        self.queue.put_nowait(message)
        self.queued_bytes += message.size
        return True

    async def next(self) -> Message:
        message = await self.queue.get()
        self.queued_bytes -= message.size
        return message

    def end(self, code: int, reason: str) -> None:
        """Drop everything queued, remember why, and tell the socket (once)."""
        if self.ended is not None:
            return
        self.ended = (code, reason)
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        self.queue.put_nowait(close_message(code, reason))
        if self.on_end is not None:
            self.on_end()


@dataclass
class Subscription:
    """What a new subscriber starts from: the run's last read and the channel's position (the
    replay covers rows up to it; ``live`` delivers everything after it). ``live`` is None
    when the run was already terminal: replay, then close."""

    run: Run
    position: Position
    live: Subscriber | None
    channel: RunChannel


class EventsHub:
    """Channels by (project id, run id); see the module docstring."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.channels: dict[tuple[str, str], RunChannel] = {}
        self.closed = False

    async def subscribe(self, project_id: str, run_id: str,
                        inbox: Callable[[], Subscriber] = Subscriber) -> Subscription:
        """Join (or open) the run's channel with a new ``inbox`` (a :class:`Subscriber` or a
        subclass). Raises what the channel's first read raised."""
        while not self.closed:
            key = (project_id, run_id)
            channel = self.channels.get(key)
            if channel is None:
                poll = max(MIN_POLL_SECONDS, self.app[CONFIG].events_poll_seconds)
                channel = self.channels[key] = RunChannel(self, project_id, run_id, poll)
                channel.start()
            await asyncio.shield(channel.ready)
            joined = channel.join(inbox)
            if joined is not None:
                run, position, live = joined
                assert live is None or isinstance(live, Subscriber)
                return Subscription(run, position, live, channel)
        raise ConnectionAbortedError("the collector is shutting down")

    def unsubscribe(self, subscription: Subscription) -> None:
        """Leave; the channel stops when its last subscriber leaves."""
        if subscription.live is not None:
            subscription.channel.leave(subscription.live)

    def forget(self, channel: RunChannel) -> None:
        if self.channels.get((channel.project_id, channel.run_id)) is channel:
            del self.channels[(channel.project_id, channel.run_id)]

    def wake(self, project_id: str, run_id: str) -> None:
        channel = self.channels.get((project_id, run_id))
        if channel is not None:
            channel.wake.set()

    async def close(self) -> None:
        """Stop every channel and end every subscriber with 1001."""
        self.closed = True
        for channel in list(self.channels.values()):
            await channel.stop(*SHUTTING_DOWN)


HUB = web.AppKey("rundial_events_hub", EventsHub)


def install(app: web.Application) -> None:
    """Give ``app`` a hub, closed on shutdown (before the store is). Commits that other
    collectors report through the store (``on_remote_commit``) wake a run's channel exactly
    as a local publish does."""
    hub = app[HUB] = EventsHub(app)
    app[STORE].on_remote_commit(hub.wake)

    async def _close(app: web.Application) -> None:
        await app[HUB].close()

    app.on_shutdown.append(_close)


def publish_ingest(app: web.Application, items: Iterable[_Item]) -> None:
    """Committed metric chunks, log lines or spans: wake the channels of their runs."""
    hub = app.get(HUB)
    if hub is None or not hub.channels:
        return
    for project_id, run_id in {(item.project_id, item.run_id) for item in items}:
        hub.wake(project_id, run_id)


def publish_state(app: web.Application, project_id: str, run_id: str) -> None:
    """A committed status change (finish, reopen) or heartbeat of one run."""
    hub = app.get(HUB)
    if hub is not None:
        hub.wake(project_id, run_id)


def publish_run(app: web.Application, run: _Item) -> None:
    """:func:`publish_state` for a run object (anything with ``project_id`` and ``run_id``)."""
    publish_state(app, run.project_id, run.run_id)
