"""Ingest latency under many concurrent writers (issue 16), for benchmarks/collector_ingest.py.

:func:`concurrent_writers`: ``writers`` threads (spread over :data:`WRITER_PROCESSES` client
processes, so the client's GIL cannot queue the replies), each with its own keep-alive
connection (:mod:`benchmarks.lean_http`) and run, post gzip batches of ``rows`` rows x 10 keys (default :data:`WRITER_ROWS`:
5,000 points, the SDK's ``max_batch_points``; wide rows, or with ``fmt="columns"`` the same
points as a columns body, docs/protocol.md §4.16) with an ``Idempotency-Key`` for
``duration_s`` seconds: back to back (closed loop: the latency is then the writers' count over
the server's request rate, Little's law), or each at most one batch per ``interval_s`` (an SDK
flushing on its interval, default 1 s; a writer that falls behind sends at once). A 429/503 or
a dropped connection is retried with the same key (as the SDK does), and counted; a batch's
latency runs from its first attempt to its 2xx. At the end every run is read back: arrived must
equal sent (zero loss). The CPU pressure during the writers (:func:`cpu_stall_us`) is printed
beside the latencies.

Before the clock starts:

* every writer builds its bodies ahead (``prebuilt_per_second`` per second of the window when
  back to back, one per interval when paced; :func:`prebuilt_count`). A 5,000-point columns
  body costs ~0.5 ms of CPU (mostly gzip): at 500 batches/s, building them as they were sent
  took a quarter of one of the machine's two cores from the server being measured, while the
  SDK clients the writers stand for run on other machines. A writer that runs out builds the
  rest as it sends; the summary says how many bodies were built in the window.
* the page cache is written out (``os.sync``): the data an earlier stage wrote (the SQLite
  target's database, the throughput rounds) was otherwise written back by the kernel about
  30 s later, in the writers' window, and every PostgreSQL commit's WAL ``fdatasync`` queued
  behind those tens of MB on the shared disk (150-380 ms measured), while SQLite's commits
  (``synchronous=NORMAL``) do not sync.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import queue
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import orjson

from benchmarks.lean_http import LeanConnection
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.columns_body import CONTENT_TYPE as COLUMNS_TYPE
from tests.helpers.columns_body import columns_body

KEYS = 10
WRITER_ROWS = 500  # 5,000 points per writer batch: one full SDK batch (max_batch_points)
# The writers are threads spread over this many client processes, so that one GIL shared by 50
# threads cannot add to the measured latency (measured: it did not, within this machine's noise;
# p99 805 ms with one process, 798 ms with five, through nginx on PostgreSQL).
WRITER_PROCESSES = 5
# Back-to-back bodies built ahead per writer and second of the window: twice the fastest rate
# a writer reached here (15,275 batches by 50 writers in 30 s: 10 per second).
PREBUILT_PER_SECOND = 20.0
START_DELAY_S = 0.5  # between the last process's "built" and the clock's start
BUILD_TIMEOUT_S = 600.0

_shared: dict[str, Any] = {}  # a writer process's start signals (set by :func:`_ready`)


@dataclass
class WritersResult:
    latencies_s: list[float] = field(default_factory=list)
    sent_points: int = 0
    retries: int = 0
    built_in_window: int = 0  # bodies built while the clock ran (the prebuilt ran out)
    runs: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    cpu_pressure: float | None = None  # share of the window some task waited for a CPU
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0

    def summary(self, arrived: int) -> str:
        loss = "zero loss" if arrived == self.sent_points else "LOSS"
        return (f"{len(self.latencies_s):,} batches, p50 {self.percentile_ms(0.5):.1f} ms, "
                f"p99 {self.percentile_ms(0.99):.1f} ms, max {max(self.latencies_s) * 1e3:.0f}"
                f" ms, {self.sent_points / self.elapsed_s:,.0f} points/s, {self.retries} "
                f"retries, {self.built_in_window} bodies built in the window; sent "
                f"{self.sent_points:,}, arrived {arrived:,} ({loss}), CPU "
                f"pressure {'n/a' if self.cpu_pressure is None else f'{self.cpu_pressure:.0%}'}   "
                f"goal p99 <= 200 ms: {'OK' if self.percentile_ms(0.99) <= 200 else 'MISS'}")


def prebuilt_count(duration_s: float, interval_s: float, per_second: float) -> int:
    """Bodies a writer builds before the clock: one per send it can make in the window when
    paced, else ``per_second`` per second (0: none, every body built as it is sent)."""
    rate = 1.0 / interval_s if interval_s else per_second
    return math.ceil(duration_s * rate) + 1 if rate else 0


def concurrent_writers(front: CollectorProcess, pid: str, writers: int, duration_s: float,
                       interval_s: float = 0.0, processes: int = WRITER_PROCESSES,
                       rows: int = WRITER_ROWS, fmt: str = "rows",
                       prebuilt_per_second: float = PREBUILT_PER_SECOND) -> WritersResult:
    """Run the writers against ``front`` (see the module docstring); not yet read back.
    Raises what a writer process raised (a non-2xx other than 429/503, a build timeout)."""
    groups = [list(range(first, writers, processes)) for first in range(min(processes, writers))]
    context = multiprocessing.get_context("spawn")
    built, go, start_at = context.Queue(), context.Event(), context.Value("d", 0.0)
    with context.Pool(len(groups), _ready, (built, go, start_at)) as pool:
        # start_at and deadline relative to the shared start, which is set once all are built
        plan = WriterPlan(front.port, front.api_key, pid, 0.0, duration_s, interval_s, rows,
                          fmt, prebuilt_count(duration_s, interval_s, prebuilt_per_second))
        tasks = [(plan, [(f"writers-{i}-{time.time_ns()}", i / writers) for i in group])
                 for group in groups]
        pending = pool.map_async(_writer_group, tasks, chunksize=1)
        _wait_built(built, len(groups), pending)
        os.sync()  # no earlier stage's dirty pages written back in the window (docstring)
        start_at.value = time.monotonic() + START_DELAY_S
        go.set()
        stalled_us, started = cpu_stall_us(), time.monotonic()
        parts = pending.get()
        result = WritersResult(cpu_pressure=_share(stalled_us, cpu_stall_us(),
                                                   time.monotonic() - started))
    for latencies_s, sent_points, retries, built, runs, elapsed_s in parts:
        result.latencies_s.extend(latencies_s)
        result.sent_points += sent_points
        result.retries += retries
        result.built_in_window += built
        result.runs.extend(runs)
        result.elapsed_s = max(result.elapsed_s, elapsed_s)
    return result


def _wait_built(built: Any, count: int, pending: Any) -> None:
    """Wait for ``count`` "built" messages; a writer process that failed raises here."""
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while count:
        try:
            built.get(timeout=1.0)
            count -= 1
        except queue.Empty:
            if pending.ready():
                pending.get()  # raises the worker's exception
            if time.monotonic() > deadline:
                raise TimeoutError("the writers did not build their bodies in time") from None


def cpu_stall_us() -> int | None:
    """Microseconds in which at least one runnable task waited for a CPU, since boot (Linux
    PSI, ``/proc/pressure/cpu`` "some" total); None where the kernel does not report it. Printed
    beside the latencies: the writers at 1 s pace need about a quarter of a 2-core machine, so
    a high pressure means other jobs (or a saturating pace) made every process queue for the
    CPU, and the tail measures that queue rather than a stall of the server."""
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()
    except OSError:
        return None
    return int(some[-1].split("=")[1]) if some and some[-1].startswith("total=") else None


def _share(before_us: int | None, after_us: int | None, elapsed_s: float) -> float | None:
    if before_us is None or after_us is None or elapsed_s <= 0:
        return None
    return (after_us - before_us) / (elapsed_s * 1e6)


def _ready(built: Any, go: Any, start_at: Any) -> None:
    """A writer process's initializer (its imports are done by then): keeps the start signals,
    and freezes everything imported out of the garbage collector's reach: a full collection
    of those ~50,000 objects cost 53-64 ms of CPU (up to 560 ms of wall time on a loaded
    machine) and stopped all of the process's writers while their replies waited, which was
    the client's pause, not the server's latency (docs/collector.md, "Ingest p99 under 50
    writers")."""
    _shared.update(built=built, go=go, start_at=start_at)
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class WriterPlan:
    """What every writer process needs (picklable): where to send, when to start and stop
    (``time.monotonic``, one clock for every process; relative to the shared start until the
    processes are told it), the pace (0: back to back) and the bodies to build ahead."""

    port: int
    api_key: str
    pid: str
    start_at: float
    deadline: float
    interval_s: float
    rows: int
    fmt: str = "rows"  # or "columns"
    prebuilt: int = 0


GroupResult = tuple[list[float], int, int, int, list[str], float]  # picklable WritersResult


def _writer_group(task: tuple[WriterPlan, list[tuple[str, float]]]) -> GroupResult:
    """One client process: builds every writer's bodies, reports "built", waits for the shared
    start, then runs a thread per (run, phase), started together (a paced writer's first send
    is ``phase`` intervals later: the writers' phases are spread evenly over one interval, as
    unsynchronised SDK clients are); returns its latencies, points sent, retries, bodies built
    in the window, runs and seconds."""
    plan, runs = task
    bodies = {run: [_writer_body(plan, run, n * plan.rows) for n in range(plan.prebuilt)]
              for run, _ in runs}
    _shared["built"].put(len(runs))
    _shared["go"].wait()
    shift = _shared["start_at"].value
    plan = replace(plan, start_at=plan.start_at + shift, deadline=plan.deadline + shift)
    result = WritersResult()
    threads = [threading.Thread(target=_writer, args=(plan, run, phase, result,
                                                      iter(bodies.pop(run))))
               for run, phase in runs]
    time.sleep(max(0.0, plan.start_at - time.monotonic()))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (result.latencies_s, result.sent_points, result.retries, result.built_in_window,
            result.runs, time.monotonic() - plan.start_at)


def _writer(plan: WriterPlan, run: str, phase: float, result: WritersResult,
            prebuilt: Iterator[tuple[bytes, str]]) -> None:
    conn = LeanConnection("127.0.0.1", plan.port)
    step, latencies, retries, built = 0, [], 0, 0
    next_send = plan.start_at + phase * plan.interval_s  # paced writers start spread out
    while time.monotonic() < plan.deadline:
        if plan.interval_s:
            time.sleep(max(0.0, next_send - time.monotonic()))
            next_send += plan.interval_s
        ready = next(prebuilt, None)
        if ready is None:
            built += 1
        body, content_type = ready or _writer_body(plan, run, step)
        latency_s, attempts = _send(conn, plan, body, content_type)
        latencies.append(latency_s)
        retries += attempts - 1
        step += plan.rows
    conn.close()
    with result.lock:
        result.latencies_s.extend(latencies)
        result.sent_points += step * KEYS
        result.built_in_window += built
        result.runs.append(run)


def _send(conn: LeanConnection, plan: WriterPlan, body: bytes, content_type: str
          ) -> tuple[float, int]:
    """Post one batch until a 2xx (a 429/503 or a dropped connection retried with the same
    key); returns the seconds from the first attempt to the 2xx, and the attempts made."""
    headers = {"Authorization": f"Bearer {plan.api_key}", "Content-Type": content_type,
               "Content-Encoding": "gzip", "Idempotency-Key": uuid.uuid4().hex}
    started, attempts = time.perf_counter(), 0
    while True:
        attempts += 1
        try:
            reply = conn.post("/api/v1/ingest/metrics", body, headers)
        except OSError:
            continue  # closed: the next post reconnects and resends with the same key
        if reply.status in (200, 202):
            return time.perf_counter() - started, attempts
        if reply.status in (429, 503):
            time.sleep(float(reply.headers.get("retry-after") or 0.05))
            continue
        raise RuntimeError(f"ingest answered {reply.status}: {reply.body[:300]!r}")


def _writer_body(plan: WriterPlan, run: str, step: int) -> tuple[bytes, str]:
    """A writer's gzip batch from ``step`` and its content type."""
    target = {"projectId": plan.pid, "runId": run}
    if plan.fmt == "columns":
        steps = np.arange(step, step + plan.rows, dtype=np.int64)
        values = steps[None, :] * 0.5 + np.arange(KEYS)[:, None]
        raw = columns_body(target, [f"m{k}" for k in range(KEYS)], steps,
                           steps + 1_700_000_000_000, values)
        return zlib.compress(raw, 1, wbits=31), COLUMNS_TYPE
    rows = [[s, 1_700_000_000_000 + s, {f"m{k}": s * 0.5 + k for k in range(KEYS)}]
            for s in range(step, step + plan.rows)]
    return (zlib.compress(orjson.dumps({**target, "rows": rows}), 1, wbits=31),
            "application/json")
