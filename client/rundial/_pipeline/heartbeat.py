"""Liveness: the worker's heartbeat, ``POST /api/v1/runs/{runId}/heartbeat`` when idle.

Every accepted ingest request already counts as a heartbeat on the collector, so the worker
only calls the route after ``interval_s`` (default 30 s) without a delivered batch — a run
that is idle (waiting on a long eval, a data loader) keeps reading ``running`` instead of
``lost``. Online only, after the run is registered. A failed heartbeat is counted
(``heartbeat_failures``) and tried again one interval later; it never raises, never backs
off ingest and never sets ``last_error``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rundial._diagnostics import Counters
from rundial._http.calls import call, quote
from rundial._http.transport import Transport

INTERVAL_S = 30.0  # well inside the collector's default 300 s lost_after window


class Heartbeat:
    """When to send the next heartbeat, and sending it. Owned by the worker thread."""

    def __init__(self, run_id: str, api_key: str | None, interval_s: float, counters: Counters,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._path = f"/api/v1/runs/{quote(run_id)}/heartbeat"
        self._api_key = api_key
        self.interval_s = interval_s
        self._counters = counters
        self._clock = clock
        self.next_at = clock() + interval_s
        self._seen_batches = counters.batches_sent

    def observe(self) -> None:
        """Push the next heartbeat back when a batch was delivered since the last look."""
        sent = self._counters.batches_sent
        if sent != self._seen_batches:
            self._seen_batches = sent
            self.next_at = self._clock() + self.interval_s

    def due(self) -> bool:
        return self._clock() >= self.next_at

    def postpone(self) -> None:
        """Wait another interval (an ingest request is about to count as the heartbeat)."""
        self.next_at = self._clock() + self.interval_s

    def tick(self, transport: Transport, has_work: Callable[[], bool],
             timeout: Callable[[], float]) -> None:
        """The worker's heartbeat cadence, once the run is registered: send when nothing was
        delivered for an interval, postponed instead when ``has_work()`` (a send is coming, and
        ingest counts as a heartbeat). ``timeout()`` is read only when sending. Never raises
        for a failed heartbeat (see :meth:`send`)."""
        self.observe()
        if not self.due():
            return
        if has_work():
            self.postpone()
        else:
            self.send(transport, timeout())

    def send(self, transport: Transport, timeout: float) -> bool:
        """One heartbeat; True when the collector answered 2xx."""
        self.next_at = self._clock() + self.interval_s
        result = call(transport, self._api_key, "POST", self._path, {}, timeout, "heartbeat")
        if result.ok:
            self._counters.heartbeats_sent += 1
        else:
            self._counters.heartbeat_failures += 1
        return result.ok
