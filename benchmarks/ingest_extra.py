"""The issue-16 parts of benchmarks/collector_ingest.py: a raw ``COPY`` baseline into the
PostgreSQL store's own schema, and ingest latency under many concurrent writers.

* :func:`raw_copy_rate`: pre-packed chunk rows (the same rows the store writes, built with the
  store's own ``prepared_chunks`` before the clock starts) appended with asyncpg's
  ``copy_records_to_table`` into ``metric_chunks`` of the benchmark's database, one
  transaction per 5,000-point batch (10 chunks), as one ingest request writes them, over as
  many parallel connections as the HTTP measurement's clients (``--connections``): with one
  connection, every commit waited for its own WAL flush, while the collectors' concurrent
  requests share flushes (group commit), so the baseline was slower than it should be.
* :func:`concurrent_writers`: ``writers`` threads (spread over :data:`WRITER_PROCESSES` client
  processes, so the client's GIL cannot queue the replies), each with its own keep-alive
  connection and run, post gzip batches of ``rows`` rows x 10 keys (default
  :data:`WRITER_ROWS`: 5,000 points, the SDK's ``max_batch_points``; wide rows, or with
  ``fmt="columns"`` the same points as a columns body, docs/protocol.md §4.16) with an
  ``Idempotency-Key`` for ``duration_s`` seconds: back to back (closed loop: the latency is then
  the writers' count over the server's request rate, Little's law), or each at most one batch
  per ``interval_s`` (an SDK flushing on its interval, default 1 s; a writer that falls behind
  sends at once). A 429/503 or a dropped connection is retried with the same key (as
  the SDK does), and counted; a batch's latency runs from its first attempt to its 2xx (the
  body is built before the clock starts). At the end every run is read back: arrived must equal
  sent (zero loss). The CPU pressure during the writers (:func:`cpu_stall_us`) is printed
  beside the latencies. The page cache is written out (``os.sync``) before the clock starts:
  the data an earlier stage wrote (the SQLite target's database, the throughput rounds) was
  otherwise written back by the kernel about 30 s later, in the writers' window, and every
  PostgreSQL commit's WAL ``fdatasync`` queued behind those tens of MB on the shared disk
  (150-380 ms measured), while SQLite's commits (``synchronous=NORMAL``) do not sync.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import multiprocessing
import os
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field

import asyncpg
import numpy as np
import orjson

from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.columns_body import CONTENT_TYPE as COLUMNS_TYPE
from tests.helpers.columns_body import columns_body

KEYS = 10
ROWS = 500
WRITER_ROWS = 500  # 5,000 points per writer batch: one full SDK batch (max_batch_points)
# The writers are threads spread over this many client processes, so that one GIL shared by 50
# threads cannot add to the measured latency (measured: it did not, within this machine's noise;
# p99 805 ms with one process, 798 ms with five, through nginx on PostgreSQL).
WRITER_PROCESSES = 5
START_DELAY_S = 2.0  # the started client processes receive their task before the clock starts


def raw_copy_rate(database_url: str, batches: int, connections: int) -> float:
    """Points/s of a raw COPY of ``batches`` pre-packed 5,000-point batches over
    ``connections`` parallel connections (as many as the HTTP clients that send them)."""
    return asyncio.run(_raw_copy(database_url, batches, connections))


async def _raw_copy(database_url: str, batches: int, connections: int) -> float:
    from rundial_collector.store.postgres.metrics_write import series_ids  # writers: light
    run = f"raw-copy-{time.time_ns()}"
    keys = [("bench-raw", run, f"train/m{k}") for k in range(KEYS)]
    conns = [await asyncpg.connect(database_url) for _ in range(connections)]
    try:
        async with conns[0].transaction():
            ids = await series_ids(conns[0], sorted(keys))
        prepared = _prepared_batches(keys, ids, batches)
        started = time.perf_counter()
        await asyncio.gather(*(_copy_all(conn, prepared[n::connections])
                               for n, conn in enumerate(conns)))
        elapsed = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return batches * ROWS * KEYS / elapsed


def _prepared_batches(keys: list[tuple[str, str, str]], ids: dict[tuple[str, str, str], int],
                      batches: int) -> list[list[tuple[object, ...]]]:
    """The chunk records of each batch, built with the store's own ``prepared_chunks``."""
    from rundial_collector.store.postgres.metrics_write import prepared_chunks
    now_ms = int(time.time() * 1000)
    prepared = []
    for b in range(batches):
        steps = np.arange(b * ROWS, (b + 1) * ROWS, dtype=np.int64)
        chunks = prepared_chunks([SeriesChunk(
            p, r, m, Points(steps, steps * 0.001 + k, steps + 1_700_000_000_000))
            for k, (p, r, m) in enumerate(keys)])
        prepared.append([(ids[c.key], *c.row[:6], now_ms, *c.row[6:]) for c in chunks])
    return prepared


async def _copy_all(conn: asyncpg.Connection, batches: list[list[tuple[object, ...]]]) -> None:
    """One transaction per batch, one after the other on ``conn``."""
    from rundial_collector.store.postgres.metrics_write import CHUNK_COLUMNS
    for records in batches:
        async with conn.transaction():
            await conn.copy_records_to_table("metric_chunks", records=records,
                                             columns=CHUNK_COLUMNS)


@dataclass
class WritersResult:
    latencies_s: list[float] = field(default_factory=list)
    sent_points: int = 0
    retries: int = 0
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
                f"retries; sent {self.sent_points:,}, arrived {arrived:,} ({loss}), CPU "
                f"pressure {'n/a' if self.cpu_pressure is None else f'{self.cpu_pressure:.0%}'}   "
                f"goal p99 <= 200 ms: {'OK' if self.percentile_ms(0.99) <= 200 else 'MISS'}")


def concurrent_writers(front: CollectorProcess, pid: str, writers: int, duration_s: float,
                       interval_s: float = 0.0, processes: int = WRITER_PROCESSES,
                       rows: int = WRITER_ROWS, fmt: str = "rows") -> WritersResult:
    """Run the writers against ``front`` (see the module docstring); not yet read back."""
    groups = [list(range(first, writers, processes)) for first in range(min(processes, writers))]
    with multiprocessing.get_context("spawn").Pool(len(groups), _ready) as pool:
        pool.map(_ready, range(len(groups)), chunksize=1)  # every worker up before the clock
        start_at = time.monotonic() + START_DELAY_S
        plan = WriterPlan(front.port, front.api_key, pid, start_at, start_at + duration_s,
                          interval_s, rows, fmt)
        tasks = [(plan, [(f"writers-{i}-{time.time_ns()}", i / writers) for i in group])
                 for group in groups]
        os.sync()  # no earlier stage's dirty pages written back in the window (docstring)
        stalled_us, started = cpu_stall_us(), time.monotonic()
        parts = pool.map(_writer_group, tasks, chunksize=1)
        result = WritersResult(cpu_pressure=_share(stalled_us, cpu_stall_us(),
                                                   time.monotonic() - started))
    for latencies_s, sent_points, retries, runs, elapsed_s in parts:
        result.latencies_s.extend(latencies_s)
        result.sent_points += sent_points
        result.retries += retries
        result.runs.extend(runs)
        result.elapsed_s = max(result.elapsed_s, elapsed_s)
    return result


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


def _ready(_n: int = 0) -> None:
    """A worker's initializer (its imports are done by then), and a short task mapped once per
    worker, so that the clock starts when every worker is up. Everything the worker imported is
    frozen out of the garbage collector's reach: a full collection of those ~50,000 objects
    cost 53-64 ms of CPU (up to 560 ms of wall time on a loaded machine) and stopped all of the
    process's writers while their replies waited, which was the client's pause, not the
    server's latency (docs/collector.md, "Ingest p99 under 50
    writers")."""
    gc.collect()
    gc.freeze()
    time.sleep(0.3)


@dataclass(frozen=True)
class WriterPlan:
    """What every writer process needs (picklable): where to send, when to start and stop
    (``time.monotonic``, one clock for every process), and the pace (0: back to back)."""

    port: int
    api_key: str
    pid: str
    start_at: float
    deadline: float
    interval_s: float
    rows: int
    fmt: str = "rows"  # or "columns"


def _writer_group(task: tuple[WriterPlan, list[tuple[str, float]]]
                  ) -> tuple[list[float], int, int, list[str], float]:
    """One client process: a thread per (run, phase), started together at ``plan.start_at``
    (a paced writer's first send is ``phase`` intervals later: the writers' phases are spread
    evenly over one interval, as unsynchronised SDK clients are); returns its latencies, points
    sent, retries, runs and seconds (picklable)."""
    plan, runs = task
    result = WritersResult()
    threads = [threading.Thread(target=_writer, args=(plan, run, phase, result))
               for run, phase in runs]
    time.sleep(max(0.0, plan.start_at - time.monotonic()))  # every process ready before
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (result.latencies_s, result.sent_points, result.retries, result.runs,
            time.monotonic() - plan.start_at)


def _writer(plan: WriterPlan, run: str, phase: float, result: WritersResult) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", plan.port, timeout=60)
    step, latencies, retries = 0, [], 0
    next_send = plan.start_at + phase * plan.interval_s  # paced writers start spread out
    while time.monotonic() < plan.deadline:
        if plan.interval_s:
            time.sleep(max(0.0, next_send - time.monotonic()))
            next_send += plan.interval_s
        body, content_type = _writer_body(plan, run, step)
        headers = {"Authorization": f"Bearer {plan.api_key}", "Content-Type": content_type,
                   "Content-Encoding": "gzip", "Idempotency-Key": uuid.uuid4().hex}
        started = time.perf_counter()
        while True:
            try:
                conn.request("POST", "/api/v1/ingest/metrics", body, headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()  # reconnect, resend with the same key
                retries += 1
                continue
            if response.status in (200, 202):
                break
            if response.status in (429, 503):
                retries += 1
                time.sleep(float(response.getheader("Retry-After") or 0.05))
                continue
            raise RuntimeError(f"ingest answered {response.status}: {payload[:300]!r}")
        latencies.append(time.perf_counter() - started)
        step += plan.rows
    conn.close()
    with result.lock:
        result.latencies_s.extend(latencies)
        result.sent_points += step * KEYS
        result.retries += retries
        result.runs.append(run)


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
