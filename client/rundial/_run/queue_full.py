"""What a producer does when the run's queue is over ``queue_capacity`` (``log``'s rare branch).

``on_queue_full="wait"`` (the default): the producer wakes the worker and waits for it to make
room, at most ``queue_full_wait_seconds``, so a loop faster than the worker runs at the worker's
pace and loses nothing. A wait that times out means the worker is stuck, not behind: the record
just queued is dropped, and every record that finds the queue full afterwards is dropped at once,
without waiting, until the worker has drained the queue to half its capacity or less. A wedged
worker therefore costs one bounded wait per episode, never one per call.

Threads that cannot wait drop at once, as in drop mode: the worker thread itself (a hook that
logs), manual mode (no thread drains) and a worker that is not running.

``on_queue_full="drop"``: the oldest queued records are dropped at once (rc1 behaviour).

Every drop is counted by points under ``queue_full``; dropped training steps are recorded as
step ranges (``diagnostics().lost_step_ranges``, also sent with the final status). The wait is
summed in ``diagnostics().queue_full_wait_seconds``. Nothing here runs unless the queue is full.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rundial._diagnostics import REASON_QUEUE_FULL, Counters
from rundial._run.producers import drop_points

Warn = Callable[[str, str], None]
_FULL_MESSAGE = ("rundial: the log queue is full (the worker cannot keep up); dropping the "
                 "{which} records, see diagnostics().dropped_points_queue_full")


class QueueFull:
    """The queue-full policy of one pipeline (queue, worker, counters); see the module docstring.

    ``room`` is set by the worker after every drain; ``half_drains()`` counts the drains that
    left the queue at half its capacity or less (the end of a stall episode).
    """

    def __init__(self, queue: deque[Any], counters: Counters, wake: threading.Event,
                 room: threading.Event, worker_thread: Callable[[], threading.Thread | None],
                 half_drains: Callable[[], int], *,
                 run_id: str, capacity: int, wait_seconds: float, waits: bool,
                 warn: Warn) -> None:
        self._queue = queue
        self._counters = counters
        self._wake = wake
        self._room = room
        self._worker_thread = worker_thread
        self._half_drains = half_drains
        self._run_id = run_id
        self._capacity = capacity
        self._wait_seconds = wait_seconds
        self._waits = waits
        self._warn = warn
        self._stalled_at: int | None = None  # half_drains() when a wait timed out

    def handle(self) -> None:
        """The queue is over capacity: wait for room (bounded) or drop, per the policy."""
        if self._waits and self._may_wait():
            self._wait_or_drop()
        else:
            self.drop_oldest(len(self._queue) - self._capacity)

    def _may_wait(self) -> bool:
        thread = self._worker_thread()
        return (thread is not None and thread is not threading.current_thread()
                and thread.is_alive())

    def _wait_or_drop(self) -> None:
        if self._stalled_at is not None:
            if self._half_drains() == self._stalled_at:  # not drained to half since the timeout
                self._drop_newest()
                return
            self._stalled_at = None
        started = time.monotonic()
        made_room = self._wait_for_room(started + self._wait_seconds)
        self._counters.waited(time.monotonic() - started, timed_out=not made_room)
        if not made_room:
            self._stalled_at = self._half_drains()
            self._drop_newest()

    def _wait_for_room(self, deadline: float) -> bool:
        """Wait until the queue is back within capacity; False at ``deadline``."""
        queue, capacity, room = self._queue, self._capacity, self._room
        while len(queue) > capacity:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            room.clear()
            if len(queue) <= capacity:  # drained between the check and the clear
                break
            self._wake.set()
            room.wait(remaining)
        return True

    def _drop_newest(self) -> None:
        """Drop records from the newest end until the queue is within capacity."""
        self._drop(self._queue.pop, len(self._queue) - self._capacity, "newest")

    def drop_oldest(self, count: int) -> None:
        """Drop up to ``count`` records from the oldest end (fewer when the worker drains)."""
        self._drop(self._queue.popleft, count, "oldest")

    def _drop(self, pop: Callable[[], Any], count: int, which: str) -> None:
        for _ in range(count):
            try:
                record = pop()
            except IndexError:  # the worker drained meanwhile
                break
            self._counters.add_enqueued(drop_points(record, self._counters, REASON_QUEUE_FULL))
            if type(record) is tuple:  # a training row (system rows have epoch-second steps)
                self._counters.lost_range(self._run_id, record[0], record[0])
        if count > 0:
            self._warn("queue_full", _FULL_MESSAGE.format(which=which))
