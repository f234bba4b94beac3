"""One writer's pipeline for a run: its queue, wake event, worker and queue-full policy.

A run builds one when it starts and a fresh one in a forked child (``_run.fork``): a new queue,
event and writer id over the counters it is given, so a child never touches its parent's queue
or spool files. Building starts nothing: the run decides when the worker starts.
:class:`RunWriters` holds what every build of one run needs, and forgets in a child what the
child must not reuse.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rundial._config import Settings
from rundial._diagnostics import Counters
from rundial._http.transport import HttpTransport, Transport
from rundial._pipeline.worker import Worker
from rundial._run.queue_full import QueueFull, Warn
from rundial._wire.batch import MediaSink

QUEUE_SLACK_RECORDS = 1024  # deque maxlen headroom: concurrent producers can't overshoot unnoticed


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What :func:`build_pipeline` made; the run keeps each part in a slot of its own."""

    queue: deque[Any]
    wake: threading.Event
    worker: Worker
    full: QueueFull
    header: dict[str, Any]  # the run's batch header, with this writer's id


def build_pipeline(settings: Settings, doc: dict[str, Any], header: dict[str, Any],
                   counters: Counters, *, registering: bool, transport: Transport | None,
                   clocks: tuple[Callable[[], float], Callable[[], float]], manual: bool,
                   on_row: Callable[[dict[str, Any]], None], media_sink: MediaSink,
                   on_cycle: Callable[[], None], warn: Warn) -> Pipeline:
    """A new writer (id ``w_`` + 12 hex digits) with its queue (``queue_capacity`` plus slack),
    worker and queue-full policy (waits only for ``on_queue_full="wait"``, never in manual mode)."""
    queue: deque[Any] = deque(maxlen=settings.queue_capacity + QUEUE_SLACK_RECORDS)
    wake, room = threading.Event(), threading.Event()
    header = {**header, "writerId": "w_" + uuid.uuid4().hex[:12]}
    clock, wall = clocks
    worker = Worker(settings, doc, header, writer_id=header["writerId"], queue=queue, wake=wake,
                    counters=counters, registering=registering, transport=transport, clock=clock,
                    wall=wall, on_row=on_row, media_sink=media_sink, on_cycle=on_cycle, room=room)
    full = QueueFull(queue, counters, wake, room, lambda: worker.thread,
                     lambda: worker.half_drains, run_id=str(doc["runId"]),
                     capacity=settings.queue_capacity, wait_seconds=settings.queue_full_wait_seconds,
                     waits=settings.on_queue_full == "wait" and not manual, warn=warn)
    return Pipeline(queue, wake, worker, full, header)


class RunWriters:
    """Builds the writers of one run (:func:`build_pipeline`), handed everything a build needs:
    the run's settings, document and header, transport, ``(monotonic, wall)`` clocks and the
    worker's callbacks. ``registering`` is False for a run that must not register itself."""

    __slots__ = ("_settings", "_doc", "_header", "_registering", "_transport", "_clocks",
                 "_manual", "_on_row", "_media_sink", "_on_cycle", "_warn")

    def __init__(self, settings: Settings, doc: dict[str, Any], header: dict[str, Any], *,
                 registering: bool, transport: Transport | None,
                 clocks: tuple[Callable[[], float], Callable[[], float]], manual: bool,
                 on_row: Callable[[dict[str, Any]], None], media_sink: MediaSink,
                 on_cycle: Callable[[], None], warn: Warn) -> None:
        self._settings, self._doc, self._header = settings, doc, header
        self._registering, self._transport = registering, transport
        self._clocks, self._manual = clocks, manual
        self._on_row, self._media_sink, self._on_cycle, self._warn = on_row, media_sink, on_cycle, warn

    def build(self, counters: Counters) -> Pipeline:
        """A new writer over ``counters`` (see :func:`build_pipeline`); starts nothing."""
        return build_pipeline(self._settings, self._doc, self._header, counters,
                              registering=self._registering, transport=self._transport,
                              clocks=self._clocks, manual=self._manual, on_row=self._on_row,
                              media_sink=self._media_sink, on_cycle=self._on_cycle, warn=self._warn)

    def forget_after_fork(self, parent: Worker) -> None:
        """In a forked child: leave the parent writer's spool files alone (never touched again),
        do not register again (the parent did), and open a new connection (an injected
        transport other than :class:`HttpTransport` is kept)."""
        parent.spool.own.forget_after_fork()
        for queue in parent.spool.adopted:
            queue.forget_after_fork()
        self._registering = False
        if isinstance(self._transport, HttpTransport):
            self._transport = None
