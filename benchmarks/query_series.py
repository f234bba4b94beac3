"""Chart and export reads of one 1M-point series (10% of steps written twice).

Run from the repository root: ``PYTHONPATH=. .venv/bin/python benchmarks/query_series.py``.

The series is ingested over HTTP (wide rows, 10,000 points per batch; every 10th batch re-logs
the previous batch's steps with new values), into a real collector subprocess. Then:

* resolve + downsample to 1,500 points, in process, on a cold cache (a fresh series cache per
  call: read every chunk blob, concatenate, stable-sort, downsample) and on a warm cache;
* the same over HTTP (``query/series`` ``mode=downsample``): cold (first series query after a
  collector restart, the process warmed by one ``metrics/keys`` call), after an append (one new chunk ingested before each call: only the new chunk is
  resolved on top of the cached series) and warm;
* a full-resolution export through ``export/metrics`` pages of 100,000 rows, as points/s served
  (request sent until the whole response body is read) and including the client's JSON parse.

Goals: downsample ≤ 150 ms; export ≥ 1M points/s. Medians of ``--repeats`` calls.

``--database-url postgresql://...`` (or ``auto``: a throwaway PostgreSQL 15, see
benchmarks/bench_targets.py) measures the same on a collector on PostgreSQL after SQLite, in
the same run (``--targets sqlite,postgres``); in process, PostgreSQL's figures go through the
store (``read_series``), cold being the first read of a freshly started store.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import sqlite3
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.bench_targets import database_url_of, deployment, targets_of
from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store
from rundial_collector.store.factory import open_store
from rundial_collector.store.series_cache import SeriesCache
from rundial_collector.store.series_math import downsample
from rundial_collector.store.sqlite.metrics import MetricReader
from tests.helpers.collector_proc import CollectorProcess

BATCH = 10_000
KEY = "train/loss"
BUDGET = 1500
PAGE = 100_000


class Client:
    """A keep-alive JSON client for one collector."""

    def __init__(self, proc: CollectorProcess) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=120)
        self.auth = {"Authorization": f"Bearer {proc.api_key}"}

    def post(self, path: str, body: bytes, gzip: bool = False) -> tuple[int, bytes]:
        headers = {**self.auth, "Content-Type": "application/json"}
        if gzip:
            headers["Content-Encoding"] = "gzip"
        self.conn.request("POST", path, body, headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        status, body = self.post(path, orjson.dumps(payload))
        if status >= 300:
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
        return dict(orjson.loads(body))


def ingest_series(client: Client, pid: str, run: str, points: int) -> int:
    """Write ``points`` raw points; returns the resolved (distinct step) count."""
    step = 0
    written = 0
    rng = np.random.default_rng(7)
    while written < points:
        first = step - BATCH if written and (written // BATCH) % 10 == 9 else step
        steps = range(first, first + BATCH)
        values = rng.normal(size=BATCH).tolist()
        rows = [[s, 1_700_000_000_000 + s, {KEY: v}] for s, v in zip(steps, values)]
        body = zlib.compress(orjson.dumps({"projectId": pid, "runId": run, "rows": rows}), 1,
                             wbits=31)
        status, reply = client.post("/api/v1/ingest/metrics", body, gzip=True)
        if status != 202:
            raise RuntimeError(f"ingest answered {status}: {reply[:300]!r}")
        step = max(step, first + BATCH)
        written += BATCH
    return step


def timed(fn: Callable[[], object], repeats: int, before: Callable[[], object] | None = None
          ) -> float:
    """Median milliseconds of ``fn`` (``before`` runs untimed ahead of each call)."""
    samples = []
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(samples)


def in_process(db: Path, pid: str, run: str, repeats: int) -> tuple[float, float]:
    """(cold ms, warm ms) of resolve + downsample through the store's reader code."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)

    def cold() -> None:
        resolved = MetricReader(SeriesCache()).read_series(conn, pid, run, KEY, None)
        downsample(resolved.points, BUDGET)

    warm_reader = MetricReader(SeriesCache())

    def warm() -> None:
        downsample(warm_reader.read_series(conn, pid, run, KEY, None).points, BUDGET)

    warm()
    return timed(cold, repeats), timed(warm, repeats)


def over_http(proc: CollectorProcess, pid: str, run: str, repeats: int, next_step: int
              ) -> tuple[float, float, float, int]:
    """(cold, after-append, warm ms, points returned) of query/series mode=downsample.

    cold: the first series query after a collector restart (empty series cache; one
    ``metrics/keys`` call first, so process warm-up is not counted); after-append: one
    new chunk was ingested just before (the cached resolution is extended); warm: unchanged.
    """
    query = {"projectId": pid, "runId": run, "metricKeys": [KEY], "mode": "downsample",
             "maxPointsPerSeries": BUDGET}
    extra = iter(range(next_step, next_step + repeats))
    client = Client(proc)

    def restart() -> None:
        """Empty every cache, then warm the process (auth, reader threads) on another route."""
        nonlocal client
        client.conn.close()
        proc.stop()
        proc.start()
        client = Client(proc)
        client.conn.request("GET", f"/api/v1/metrics/keys?projectId={pid}&runId={run}",
                            headers=client.auth)
        client.conn.getresponse().read()

    def append() -> None:
        s = next(extra)
        client.json("/api/v1/ingest/metrics", {"projectId": pid, "runId": run,
                                               "rows": [[s, s, {KEY: 0.0}]]})

    def call() -> None:
        client.json("/api/v1/query/series", query)

    cold = timed(call, repeats, before=restart)
    appended = timed(call, repeats, before=append)
    warm = timed(call, repeats)
    returned = len(client.json("/api/v1/query/series", query)["series"][0]["points"])
    return cold, appended, warm, returned


def export_rate(client: Client, pid: str, run: str, expected: int
                ) -> tuple[float, float, int]:
    """(points/s served, points/s including the client's JSON parse, pages) of a full export
    through export/metrics pages of PAGE rows."""
    body: dict[str, Any] = {"projectId": pid, "runId": run, "startMs": 0, "endMs": 2**62,
                            "limit": PAGE, "format": "json", "metricKeys": [KEY]}
    rows = pages = 0
    served = parsed = 0.0
    while True:
        started = time.perf_counter()
        status, raw = client.post("/api/v1/export/metrics", orjson.dumps(body))
        served += time.perf_counter() - started
        payload = orjson.loads(raw)
        parsed += time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"export answered {status}: {raw[:300]!r}")
        rows += len(payload["rows"])
        pages += 1
        if not payload["page"]["hasMore"]:
            break
        body["cursor"] = payload["page"]["nextCursor"]
    if rows != expected:
        raise RuntimeError(f"export returned {rows} rows, expected {expected}")
    return rows / served, rows / parsed, pages


def in_process_store(database_url: str, data_dir: Path, pid: str, run: str, repeats: int
                     ) -> tuple[float, float]:
    """(cold ms, warm ms) of resolve + downsample through a PostgreSQL store in this process
    (cold: the first read of each of ``repeats`` freshly started stores)."""
    async def measure() -> tuple[float, float]:
        config = CollectorConfig(data_dir=data_dir, database_url=database_url,
                                 database_pool_max_size=2)
        stores = [open_store(config) for _ in range(repeats)]
        for store in stores:
            await store.start()
        try:
            async def once(store: Store) -> float:
                started = time.perf_counter()
                downsample((await store.read_series(pid, run, KEY)).points, BUDGET)
                return (time.perf_counter() - started) * 1000.0

            cold = [await once(store) for store in stores]
            warm = [await once(stores[0]) for _ in range(repeats)]
            return statistics.median(cold), statistics.median(warm)
        finally:
            for store in stores:
                await store.close()

    return asyncio.run(measure())


def measure(target: str, directory: Path, url: str, args: argparse.Namespace) -> list[str]:
    """Every figure of one target, as printable lines."""
    with deployment(target, directory, url) as (proc, _procs):
        client = Client(proc)
        pid = client.json("/api/v1/runs/resolve-target", {
            "workspace": proc.workspace, "project": proc.project})["projectId"]
        run = f"bench-query-{time.time_ns()}"
        started = time.perf_counter()
        resolved = ingest_series(client, pid, run, args.points)
        ingest_s = time.perf_counter() - started
        if target == "sqlite":
            cold, warm = in_process(proc.data_dir / "rundial.sqlite3", pid, run, args.repeats)
        else:
            cold, warm = in_process_store(url, directory / "in-process", pid, run, args.repeats)
        http_cold, http_append, http_warm, returned = over_http(proc, pid, run, args.repeats,
                                                                resolved)
        client = Client(proc)
        rate, parsed_rate, pages = export_rate(client, pid, run, resolved + args.repeats)
    return [
        f"series: {args.points:,} raw points, {resolved:,} distinct steps "
        f"(ingested in {ingest_s:.2f} s = {args.points / ingest_s:,.0f} points/s)",
        f"resolve + downsample to {BUDGET}, in process: cold {cold:.1f} ms, warm {warm:.1f} ms",
        f"resolve + downsample over HTTP: cold {http_cold:.1f} ms (fresh process), after an "
        f"append {http_append:.1f} ms, warm {http_warm:.1f} ms ({returned} points returned)"
        f"   goal <= 150 ms: {'OK' if max(cold, http_cold) <= 150 else 'MISS'}",
        f"export/metrics full resolution: {rate:,.0f} points/s served over {pages} pages of "
        f"{PAGE:,} (request + response bytes)   goal >= 1,000,000: "
        f"{'OK' if rate >= 1_000_000 else 'MISS'}",
        f"  including the client's orjson.loads of every page: {parsed_rate:,.0f} points/s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_120_000, help="raw points to write")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (or auto) to measure beside SQLite")
    parser.add_argument("--targets", help="comma separated: sqlite,postgres (default: both "
                                          "with --database-url)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rundial-bench-") as tmp, ExitStack() as stack:
        url = database_url_of(args.database_url, stack)
        targets = targets_of(args.targets or ("sqlite,postgres" if url else "sqlite"), url)
        figures = {target: measure(target, Path(tmp) / target, url, args) for target in targets}
    for target, lines in figures.items():
        print(f"-- {target}")
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
