"""Chart data for the web UI's dashboard over HTTP: ``query/chart`` against ``query/series``.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python benchmarks/chart_data.py``
(``--runs``, ``--keys``, ``--points``, ``--big-points``, ``--repeats``, ``--batch`` to change
the load; ``--batch 1000`` stores chunks of 1,000 points, closer to a live run's flushes).

Data (written once into a real collector's database with the collector's own chunk writer,
``write_chunks``, which is what the ingest route runs, so every chunk gets its aggregates): 20
runs x 16 keys x 100k steps, logged in batches of 10,000 steps (one chunk per key and batch);
every 10th batch re-logs the previous batch's steps with new values (10% duplicate steps, as a
run resumed from a checkpoint does). Plus one run with a 1M-step key, logged the same way.

Measured against a real collector subprocess, medians of ``--repeats``:

* dashboard, new: every series at 1,000 buckets through ``query/chart``, as one request of all
  320 series and as 4 parallel requests of 80 series (4 keep-alive connections);
* dashboard, baseline (today's path): ``query/series`` ``mode=downsample`` with 3,000 points per
  series (1,000 buckets of min, max and last), one request per run, 4 in parallel;
* 1M series: ``query/chart`` full range at 1,000 buckets, a 1% zoom, and the baseline downsample.

``--duplicates`` measures instead the server's chart read alone (the store's ``read_chart``, in
process, database in the OS page cache) of a 1M-point series under each duplicate pattern of
:func:`duplicate_patterns` (10% of the logged points re-log an earlier step), full range and a
1% zoom, 1,000 buckets, against the same series without duplicates.

"Cold" is the first read after a collector restart (the process warmed by one ``metrics/keys``
call; the OS page cache stays warm); "warm" repeats the same read. Goals (issue 15): dashboard
data well under 1.5 s, a 1M-point chart ≤ 300 ms, a zoom ≤ 250 ms (browser time included there).
"""

from __future__ import annotations

import argparse
import http.client
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.query_series import timed
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points
from rundial_collector.store.sqlite.chart_read import read_chart
from rundial_collector.store.sqlite.metrics import METRICS_SCHEMA, series_id_of, write_chunks
from tests.helpers.collector_proc import CollectorProcess

BATCH = 10_000
BUCKETS = 1000
PARALLEL = 4
BIG_RUN, BIG_KEY = "run-big", "train/loss"


class Client:
    """A keep-alive JSON client for one collector."""

    def __init__(self, proc: CollectorProcess) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=300)
        self.auth = {"Authorization": f"Bearer {proc.api_key}", "Content-Type": "application/json"}

    def json(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        body = None if payload is None else orjson.dumps(payload)
        self.conn.request(method, path, body, self.auth)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{path} answered {response.status}: {data[:300]!r}")
        return orjson.loads(data)


def batches(points: int, seed: int, batch: int = BATCH) -> list[Points]:
    """The chunks of one series: ``batch``-step batches, every 10th re-logging the one before."""
    rng = np.random.default_rng(seed)
    out: list[Points] = []
    step = written = 0
    while written < points:
        first = step - batch if written and (written // batch) % 10 == 9 else step
        steps = np.arange(first, first + batch, dtype=np.int64)
        values = np.cumsum(rng.normal(size=batch)) + rng.normal() * 10
        out.append(Points(steps, values, 1_700_000_000_000 + steps * 37))
        step = max(step, first + batch)
        written += batch
    return out


def _cut(steps: np.typing.NDArray[np.int64], seed: int, batch: int) -> list[Points]:
    """``steps`` as logged, a random walk of values, cut into chunks of ``batch`` points."""
    values = np.cumsum(np.random.default_rng(seed).normal(size=len(steps)))
    stamps = 1_700_000_000_000 + np.arange(len(steps), dtype=np.int64) * 37
    return [Points(steps[i:i + batch], values[i:i + batch], stamps[i:i + batch])
            for i in range(0, len(steps), batch)]


def duplicate_patterns(points: int, batch: int = BATCH) -> dict[str, list[Points]]:
    """The chunks of a ``points``-point series (``batch`` points per chunk) per pattern: no
    duplicates, and three ways of re-logging 10% of the points (0.9 ``points`` distinct steps).

    * ``steps``: after every 9 new steps, the step logged 20 steps earlier is logged again, so
      every chunk re-logs a few steps of the chunk before (their step ranges overlap);
    * ``resume``: a run logs 55% of its steps, is resumed from a checkpoint 10% of the steps
      back (not at a chunk boundary) and logs the rest;
    * ``batches``: every 10th batch of ``batch`` steps re-logs the batch before (:func:`batches`).
    """
    distinct = points - points // 10
    new = np.arange(distinct, dtype=np.int64)[:distinct // 9 * 9].reshape(-1, 9)
    relog = np.maximum(new[:, -1:] - 20, 0)
    resumed_at = distinct * 45 // 100 + 1234
    return {
        "no duplicates": _cut(np.arange(points, dtype=np.int64), 0, batch),
        "steps": _cut(np.concatenate([new, relog], axis=1).ravel(), 1, batch),
        "resume": (_cut(np.arange(resumed_at + points // 10, dtype=np.int64), 2, batch)
                   + _cut(np.arange(resumed_at, distinct, dtype=np.int64), 3, batch)),
        "batches": batches(points, 4, batch),
    }


def store_reads(points: int, batch: int, repeats: int) -> None:
    """Median ms of the store's chart read per duplicate pattern (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="rundial-chart-dup-") as tmp:
        for number, (name, chunks) in enumerate(duplicate_patterns(points, batch).items()):
            conn = sqlite3.connect(Path(tmp) / f"{number}.sqlite3", isolation_level=None)
            conn.executescript(METRICS_SCHEMA[0])
            conn.execute("BEGIN")
            for chunk in chunks:
                write_chunks(conn, [SeriesChunk("p", "r", "k", chunk)], now_ms=0)
            conn.execute("COMMIT")
            series_id = series_id_of(conn, "p", "r", "k")
            assert series_id is not None
            whole = read_chart(conn, series_id, None, None, BUCKETS)
            assert whole.first_step is not None and whole.last_step is not None
            low = (whole.first_step + whole.last_step) // 2
            high = low + (whole.last_step - whole.first_step) // 100
            full = timed(lambda: read_chart(conn, series_id, None, None, BUCKETS), repeats)
            zoom = timed(lambda: read_chart(conn, series_id, low, high, BUCKETS), repeats)
            print(f"  {name:<14} full {full:7.1f} ms   1% zoom {zoom:6.1f} ms   "
                  f"({whole.in_range:,} steps, {whole.superseded:,} superseded)", flush=True)
            conn.close()


def fill(db_path: Path, pid: str, runs: int, keys: int, points: int, big_points: int,
         batch: int) -> None:
    """Write the dashboard runs and the big series, batch by batch as ingest would."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    series = [(f"run-{r:02d}", f"train/m{k:02d}") for r in range(runs) for k in range(keys)]
    series.append((BIG_RUN, BIG_KEY))
    for number, (run, key) in enumerate(series):
        count = big_points if run == BIG_RUN else points
        conn.execute("BEGIN")
        for chunk in batches(count, number, batch):
            write_chunks(conn, [SeriesChunk(pid, run, key, chunk)], now_ms=0)
        conn.execute("COMMIT")
    conn.close()


class Bench:
    """The collector under test, its clients, and the requests of each measurement."""

    def __init__(self, proc: CollectorProcess, pid: str, runs: int, keys: int) -> None:
        self.proc, self.pid = proc, pid
        self.refs = [{"runId": f"run-{r:02d}", "metricKey": f"train/m{k:02d}"}
                     for r in range(runs) for k in range(keys)]
        self.runs = [f"run-{r:02d}" for r in range(runs)]
        self.keys = [f"train/m{k:02d}" for k in range(keys)]
        self.pool = ThreadPoolExecutor(PARALLEL)
        self.clients: list[Client] = []

    def restart(self) -> None:
        self.proc.stop()
        self.proc.start()
        self.connect()
        self.clients[0].json("GET", f"/api/v1/metrics/keys?projectId={self.pid}&limit=1")

    def connect(self) -> None:
        self.clients = [Client(self.proc) for _ in range(PARALLEL)]

    def chart(self, client: Client, refs: list[dict[str, str]], **extra: Any) -> Any:
        return client.json("POST", "/api/v1/query/chart", {"projectId": self.pid,
                                                            "buckets": BUCKETS, "series": refs,
                                                            **extra})

    def dashboard_one(self) -> None:
        reply = self.chart(self.clients[0], self.refs)
        assert len(reply["series"]) == len(self.refs)

    def dashboard_parallel(self) -> None:
        size = -(-len(self.refs) // PARALLEL)
        parts = [self.refs[i * size:(i + 1) * size] for i in range(PARALLEL)]
        list(self.pool.map(self.chart, self.clients, [p for p in parts if p]))

    def downsample(self, client: Client, run: str, keys: list[str]) -> Any:
        return client.json("POST", "/api/v1/query/series", {
            "projectId": self.pid, "runId": run, "metricKeys": keys, "mode": "downsample",
            "maxPointsPerSeries": 3 * BUCKETS})

    def dashboard_baseline(self) -> None:
        def per_connection(index: int) -> None:
            for run in self.runs[index::PARALLEL]:
                self.downsample(self.clients[index], run, self.keys)
        list(self.pool.map(per_connection, range(PARALLEL)))

    def big(self, **extra: Any) -> None:
        reply = self.chart(self.clients[0], [{"runId": BIG_RUN, "metricKey": BIG_KEY}], **extra)
        assert reply["series"][0]["mode"] in ("buckets", "raw")

    def big_baseline(self) -> None:
        self.downsample(self.clients[0], BIG_RUN, [BIG_KEY])


def measure(bench: Bench, name: str, fn: Callable[[], object], repeats: int) -> None:
    cold = timed(fn, repeats, before=bench.restart)
    warm = timed(fn, repeats)
    print(f"  {name:<52} cold {cold:8.1f} ms   warm {warm:8.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keys", type=int, default=16)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--big-points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="steps per logged batch (= points per stored chunk)")
    parser.add_argument("--duplicates", action="store_true",
                        help="only the store's chart reads of the duplicate patterns")
    args = parser.parse_args()
    if args.duplicates:
        print(f"store chart read of {args.big_points:,} logged points, {args.batch:,} per chunk,"
              f" {BUCKETS} buckets (medians of {args.repeats})")
        store_reads(args.big_points, args.batch, args.repeats)
        return
    with tempfile.TemporaryDirectory(prefix="rundial-chart-bench-") as tmp:
        proc = CollectorProcess(Path(tmp) / "data")
        proc.start()
        client = Client(proc)
        pid = client.json("POST", "/api/v1/runs/resolve-target",
                          {"workspace": proc.workspace, "project": proc.project})["projectId"]
        proc.stop()
        started = time.perf_counter()
        fill(Path(tmp) / "data" / "rundial.sqlite3", pid, args.runs, args.keys, args.points,
             args.big_points, args.batch)
        raw = int(args.runs * args.keys * args.points * 1.1)
        print(f"wrote {raw:,} raw points in {args.runs * args.keys} series and "
              f"{int(args.big_points * 1.1):,} in one, {args.batch:,} per chunk "
              f"({time.perf_counter() - started:.1f} s)")
        proc.start()
        bench = Bench(proc, pid, args.runs, args.keys)
        bench.connect()
        try:
            print(f"dashboard: {args.runs} runs x {args.keys} keys x {args.points:,} steps, "
                  f"{BUCKETS} buckets (medians of {args.repeats})")
            measure(bench, "baseline query/series downsample, 4 parallel",
                    bench.dashboard_baseline, args.repeats)
            measure(bench, "query/chart, 1 request of all series", bench.dashboard_one,
                    args.repeats)
            measure(bench, "query/chart, 4 parallel requests", bench.dashboard_parallel,
                    args.repeats)
            middle = args.big_points // 2
            zoom = {"startStep": middle, "endStep": middle + args.big_points // 100 - 1}
            print(f"one series of {args.big_points:,} steps (+10% duplicates)")
            measure(bench, "baseline query/series downsample", bench.big_baseline, args.repeats)
            measure(bench, "query/chart full range", bench.big, args.repeats)
            measure(bench, "query/chart 1% zoom", lambda: bench.big(**zoom), args.repeats)
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
