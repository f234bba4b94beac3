"""One writer's pipeline for a run: its queue, wake event, worker and queue-full policy.

A run builds one when it starts and a fresh one in a forked child (``_run.fork``): a new queue,
event and writer id over the counters it is given, so a child never touches its parent's queue
or spool files. Building starts nothing: the run decides when the worker starts.
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
from rundial._http.transport import Transport
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
