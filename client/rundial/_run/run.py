"""A logging run: the ``log`` hot path and the run's lifecycle.

Hot path: ``log`` checks its arguments' types (not each key), copies the mapping, stamps the
wall clock and appends one record to a deque — no lock, no I/O. Only when the queue holds
``flush_at_records`` or more does it take the rare branch: wake the worker (checking
``is_set()`` first), start it lazily (``start_worker_on_init=False``, or after a fork), and,
beyond ``queue_capacity``, apply the queue-full policy (``_queue_full``): wait for the worker
(bounded by ``queue_full_wait_seconds``, the default) or drop the oldest records at once
(``on_queue_full="drop"``); drops are counted (``queue_full``).
Values are validated by the worker: NaN/inf and non-numeric values are dropped there, counted
per key and warned about once per key. Nothing here waits for the network or the disk.

Log lines, spans and system samples share that queue (``_run_events``, ``_events``): the
worker tells records apart by type, so ``log`` pays nothing for them.

Exit (``_run_end``): ``flush``, ``finish``/``fail``/``abort`` and ``with run:``; they never hang.
``atexit`` finishes runs left open; a SIGTERM makes the status ``killed`` (``_signals``).
Fork: the child gets a fresh queue and worker (see ``_fork``).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rundial._artifacts.handle import ArtifactHandle
from rundial._config import Settings
from rundial._diagnostics import REASON_AFTER_FINISH, Counters, Diagnostics, snapshot
from rundial._http.transport import HttpTransport, Transport
from rundial._pipeline.registrar import DONE, FAILED, PENDING
from rundial._pipeline.worker import Worker
from rundial._run import exit as _exit
from rundial._run import fork as _fork
from rundial._run.artifacts import RunArtifacts
from rundial._run.end import RunEnd
from rundial._run.producers import RunEventMethods, RunEvents, drop_points
from rundial._run.queue_full import QueueFull
from rundial._run.runconfig import Summary, flatten_config
from rundial._run.validate import as_metrics, as_step, as_time_ms
from rundial._warn import warn_user

QUEUE_SLACK_RECORDS = 1024  # deque maxlen headroom: concurrent producers can't overshoot unnoticed
_time_ns = time.time_ns


class Run(RunEventMethods, RunEnd):
    """A run that logs. Create it with :func:`rundial.init`; use it as a context manager.

    ``log`` never does I/O, never raises for network or disk trouble, and waits only while the
    queue is full (bounded by ``queue_full_wait_seconds``). See the module docstrings
    (here and ``_run_end``) for queue-full, exit and fork behaviour, and ``docs/sdk.md`` for the
    whole contract.
    """

    __slots__ = ("_queue", "_wake", "_wake_at", "_steps", "_capacity", "_flush_at", "_worker",
                 "_counters", "_settings", "_doc", "_header", "_registering", "_closed", "_result",
                 "_status", "_transport", "_clocks", "_manual", "_lock", "_config", "_warned",
                 "_artifacts", "_events", "_kill", "_full", "summary", "id", "rank", "__weakref__")

    def __init__(self, settings: Settings, doc: dict[str, Any], header: dict[str, Any], *,
                 rank: int = 0, registering: bool = True, transport: Transport | None = None,
                 clock: Any = time.monotonic, wall: Any = time.time, manual: bool = False) -> None:
        self._settings = settings
        self._doc = doc
        self._header = header
        self._registering = registering
        self._transport = transport
        self._clocks = (clock, wall)
        self._manual = manual
        self._capacity = settings.queue_capacity
        self._flush_at = min(settings.flush_at_records, settings.queue_capacity)
        self._steps = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._result: bool | None = None
        self._status: str | None = None
        self._warned: set[str] = set()
        self._config, cuts = flatten_config(settings.config)
        self.summary = Summary()
        self.id: str = doc["runId"]
        self.rank = rank
        self._kill: tuple[str, str] | None = None
        self._artifacts = RunArtifacts(settings, header, self.id)
        self._counters = Counters(config_truncations=cuts)
        self._events = RunEvents(settings, push=self._push, push_console=self._push_console,
                                 depth=lambda: len(self._queue), counters=lambda: self._counters,
                                 uploader=self._artifacts.blob_uploader)
        self._new_pipeline(self._counters)
        self._events.start_console()
        _exit.track(self)
        _fork.on_fork_in_child(self._after_fork_in_child)

    def _new_pipeline(self, counters: Counters, force_lazy: bool = False) -> None:
        self._counters = counters
        self._queue: deque[Any] = deque(maxlen=self._capacity + QUEUE_SLACK_RECORDS)
        self._wake = threading.Event()
        room = threading.Event()
        self._header = {**self._header, "writerId": "w_" + uuid.uuid4().hex[:12]}
        clock, wall = self._clocks
        s = self._settings
        self._worker = Worker(s, self._doc, self._header,
                              writer_id=self._header["writerId"], queue=self._queue,
                              wake=self._wake, counters=counters, registering=self._registering,
                              transport=self._transport, clock=clock, wall=wall,
                              on_row=self.summary.last.update,
                              media_sink=self._artifacts.route_media,
                              on_cycle=self._events.poll, room=room)
        worker = self._worker
        self._full = QueueFull(self._queue, counters, self._wake, room, lambda: worker.thread,
                               lambda: worker.half_drains, run_id=self.id, capacity=self._capacity,
                               wait_seconds=s.queue_full_wait_seconds,
                               waits=s.on_queue_full == "wait" and not self._manual,
                               warn=self._warn_once)
        lazy = self._manual or force_lazy or not self._settings.start_worker_on_init
        self._wake_at = self._flush_at if self._manual else (0 if lazy else self._flush_at)
        if not lazy:
            self._start_worker()

    def _start_worker(self) -> None:
        """Start the worker thread, and system metrics with it (never in manual mode)."""
        self._worker.start()
        if not self._manual:
            self._events.start_sampler()

    # -- hot path ------------------------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None,
            time_ms: int | None = None, context: Mapping[str, str] | None = None) -> bool:
        """Queue one row of metrics; returns True. Never does I/O.

        ``step=None`` takes the next value of this run's counter (0, 1, 2, ...); explicit steps
        must be non-negative ints and do not advance it. Raises TypeError/ValueError only for an
        unusable argument (not a mapping, empty, bad step or time). When the queue is full it
        waits for the worker, at most ``queue_full_wait_seconds`` per stall episode, then drops
        and counts (``on_queue_full="drop"``: drops the oldest at once; see ``_queue_full``).
        ``context`` is accepted for compatibility and ignored (with one warning).
        """
        if type(metrics) is dict and metrics:
            row = metrics.copy()
        else:
            row = as_metrics(metrics)
        if step is None:
            step = next(self._steps)
        elif type(step) is not int or step < 0:
            step = as_step(step)
        queue = self._queue
        queue.append((step, _time_ns() // 1_000_000 if time_ms is None else as_time_ms(time_ms), row))
        if len(queue) >= self._wake_at or context is not None:
            self._on_threshold(context)
        return True

    def log_metric(self, key: str, value: Any = None, step: int | None = None, *,
                   time_ms: int | None = None, timestamp_ms: int | None = None,
                   context: Mapping[str, str] | None = None) -> bool:
        """Log one metric: ``log({key: value}, step=step, time_ms=time_ms)``."""
        if not isinstance(key, str) or not key:
            raise TypeError("key must be a non-empty str")
        return self.log({key: value}, step, time_ms if time_ms is not None else timestamp_ms, context)

    def _on_threshold(self, context: Mapping[str, str] | None = None) -> None:
        """Rare branch of ``log``: closed run, lazy start, wake the worker, queue over capacity."""
        if context is not None:
            self._warn_once("context", "rundial: log(context=...) is not supported yet; ignored")
            if len(self._queue) < self._wake_at:
                return
        if self._closed:
            self._drop_after_finish()
            return
        if self._worker.thread is None and not self._manual:
            self._wake_at = self._flush_at
            self._start_worker()
        if not self._wake.is_set():
            self._wake.set()
        if len(self._queue) > self._capacity:
            self._full.handle()

    def _drop_after_finish(self) -> None:
        try:
            record = self._queue.pop()
        except IndexError:
            return
        drop_points(record, self._counters, REASON_AFTER_FINISH)
        self._warn_once("after_finish", "rundial: log() after finish() is ignored (counted in "
                        "diagnostics().dropped['after_finish'])")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn_user(message)

    # -- artifacts (see _run_artifacts: a dedicated uploader, started on first use) -------
    def log_artifact(self, path: str | Path, name: str | None = None, type: str | None = None,
                     metadata: Mapping[str, Any] | None = None, aliases: list[str] | None = None,
                     retention_policy: Mapping[str, Any] | None = None) -> bool:
        """Queue a file or directory for upload; returns at once (False when the queue is full).

        Raises ``ValueError`` when ``path`` does not exist. Hashing and upload happen on the
        artifact worker; an interrupted upload is resumed by the next process or ``rundial sync``.
        """
        return self._artifacts.log_artifact(path, name=name, type=type, metadata=metadata,
                                            aliases=aliases, retention_policy=retention_policy)

    def checkpoint(self, path: str | Path, step: int | None = None, name: str = "checkpoint",
                   metadata: Mapping[str, Any] | None = None, keep_last: int | None = 5) -> bool:
        """Queue a checkpoint (type ``checkpoint``, alias ``latest``, keep the last ``keep_last``)."""
        return self._artifacts.checkpoint(path, step=step, name=name, metadata=metadata,
                                          keep_last=keep_last)

    def use_artifact(self, ref: str) -> ArtifactHandle:
        """Resolve ``name:alias``, ``name:vN`` or ``name`` and record that this run used it.

        Blocking (one request). The handle's ``download(dir)`` verifies every file's sha256.
        """
        return self._artifacts.use_artifact(ref)

    # -- configuration and state ----------------------------------------------------------
    def update_config(self, config: Mapping[str, Any]) -> bool:
        """Merge ``config`` (flattened per protocol §11.6) into the run's config.

        Sent by the worker after registration (merged into the start request before it);
        returns True once queued — delivery failures show up in ``diagnostics().last_error``.
        """
        flat, cuts = flatten_config(config)
        self._counters.config_truncations += cuts
        self._config.update(flat)
        self._worker.registrar.update_config(flat)
        return True

    @property
    def config(self) -> dict[str, Any]:
        """The run's flattened config (a copy)."""
        return dict(self._config)

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def name(self) -> str | None:
        return self._settings.name

    @property
    def project(self) -> str | None:
        return self._settings.project

    @property
    def workspace(self) -> str | None:
        return self._settings.workspace

    @property
    def mode(self) -> str:
        return self._settings.mode

    @property
    def state(self) -> str:
        """``starting`` (registration pending), ``running``, ``registration_failed``, ``offline``,
        or after finishing ``completed``/``failed``/``aborted``."""
        if self._status is not None:
            return self._status
        if self._settings.mode == "offline":
            return "offline"
        registrar = self._worker.registrar.state
        return {PENDING: "starting", FAILED: "registration_failed"}.get(registrar, "running")

    def diagnostics(self) -> Diagnostics:
        """A snapshot of the delivery pipeline's counters (cheap; safe from any thread)."""
        spool = self._worker.spool
        return snapshot(self._counters, mode=self._settings.mode, queue_depth=len(self._queue),
                        spool_segments=len(spool), spool_bytes=spool.total_bytes,
                        worker_running=self._worker.alive or self._manual, state=self.state,
                        artifacts=self._artifacts.diagnostics())

    def __repr__(self) -> str:
        return f"<rundial.Run {self.id} {self.state}>"

    # -- fork ----------------------------------------------------------------------------
    def _after_fork_in_child(self) -> None:
        """Fresh queue, event, lock, writer and counters; the parent's files are never touched."""
        old = self._worker
        old.spool.own.forget_after_fork()
        for queue in old.spool.adopted:
            queue.forget_after_fork()
        self._lock = threading.Lock()
        self._artifacts.forget_after_fork()
        self._registering = False
        if isinstance(self._transport, HttpTransport):
            self._transport = None
        self._new_pipeline(Counters(), force_lazy=True)
        self._events.forget_after_fork(self._counters)
        if self._closed:
            self._wake_at = -1
