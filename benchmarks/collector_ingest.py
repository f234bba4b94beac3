"""Ingest throughput of a real collector subprocess, against raw SQLite baselines.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python benchmarks/collector_ingest.py``
(``--connections``, ``--batches``, ``--rounds`` to change the load).

* HTTP: N keep-alive connections (one thread each, ``http.client``) post pre-built gzip batches
  of 5,000 points, either wide rows (500 rows x 10 keys) or rc1 ``points``. Points/s is the
  median over rounds; every round writes its own run and is verified by read-back.
* Raw (a): ``executemany`` of a row-per-point table ``(run, key, step, value, ts, seq)`` with an
  index on (run, key, step, seq), WAL + synchronous=NORMAL, 5,000-row transactions.
* Raw (b): pre-packed chunk rows into the collector's own schema (10 chunks per transaction).
"""

from __future__ import annotations

import argparse
import http.client
import sqlite3
import statistics
import tempfile
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

from rundial_collector.store.series_math import Points, pack
from rundial_collector.store.sqlite.data import DATA_SCHEMA
from tests.helpers.collector_proc import CollectorProcess

ROWS, KEYS = 500, 10
POINTS_PER_BATCH = ROWS * KEYS
GOAL_POINTS_PER_S = 250_000
GOAL_RATIO = 0.75


def wide_batch(pid: str, run: str, first_step: int) -> bytes:
    rows = [[s, 1_700_000_000_000 + s, {f"train/m{k}": s * 0.001 + k for k in range(KEYS)}]
            for s in range(first_step, first_step + ROWS)]
    return zlib.compress(orjson.dumps({"projectId": pid, "runId": run, "rows": rows}), 1,
                         wbits=31)


def points_batch(pid: str, run: str, first_step: int) -> bytes:
    points = [{"projectId": pid, "runId": run, "metricKey": f"train/m{k}", "step": s,
               "timestampMs": 1_700_000_000_000 + s, "value": s * 0.001 + k}
              for s in range(first_step, first_step + ROWS) for k in range(KEYS)]
    return zlib.compress(orjson.dumps({"points": points}), 1, wbits=31)


def post_all(proc: CollectorProcess, bodies: list[bytes]) -> None:
    """Send ``bodies`` over one keep-alive connection; every reply must be 202."""
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=60)
    headers = {"Authorization": f"Bearer {proc.api_key}", "Content-Type": "application/json",
               "Content-Encoding": "gzip"}
    for body in bodies:
        conn.request("POST", "/api/v1/ingest/metrics", body, headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 202:
            raise RuntimeError(f"ingest answered {response.status}: {payload[:300]!r}")
    conn.close()


def http_round(proc: CollectorProcess, pid: str, fmt: str, connections: int, batches: int,
               round_no: int) -> float:
    """Points/s of one round (all connections in parallel), verified by read-back."""
    run = f"bench-{fmt}-{round_no}-{time.time_ns()}"
    build = wide_batch if fmt == "rows" else points_batch
    per_conn = [[build(pid, run, (c * batches + b) * ROWS) for b in range(batches)]
                for c in range(connections)]
    threads = [threading.Thread(target=post_all, args=(proc, bodies)) for bodies in per_conn]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    expected = connections * batches * POINTS_PER_BATCH
    stored = read_back(proc, pid, run)
    if stored != expected:
        raise RuntimeError(f"read-back found {stored} points, expected {expected}")
    return expected / elapsed


def read_back(proc: CollectorProcess, pid: str, run: str) -> int:
    query = urllib.parse.urlencode({"projectId": pid, "runId": run, "limit": 100})
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=60)
    conn.request("GET", f"/api/v1/metrics/keys?{query}", headers={
        "Authorization": f"Bearer {proc.api_key}"})
    payload = orjson.loads(conn.getresponse().read())
    conn.close()
    return sum(int(k["pointCount"]) for k in payload["keys"])


def project_id(proc: CollectorProcess) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=30)
    conn.request("POST", "/api/v1/runs/resolve-target",
                 orjson.dumps({"workspace": proc.workspace, "project": proc.project}),
                 {"Authorization": f"Bearer {proc.api_key}", "Content-Type": "application/json"})
    payload = orjson.loads(conn.getresponse().read())
    conn.close()
    return str(payload["projectId"])


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def raw_rows(total_points: int, directory: Path) -> float:
    """Baseline (a): row-per-point executemany, 5,000-row transactions; rows/s."""
    conn = _connect(directory / "raw_rows.sqlite3")
    conn.execute("CREATE TABLE points (run TEXT, key TEXT, step INTEGER, value REAL,"
                 " ts INTEGER, seq INTEGER)")
    conn.execute("CREATE INDEX points_idx ON points(run, key, step, seq)")
    batches = [[("run-1", f"train/m{k}", s, s * 0.001 + k, 1_700_000_000_000 + s, s)
                for s in range(b * ROWS, (b + 1) * ROWS) for k in range(KEYS)]
               for b in range(total_points // POINTS_PER_BATCH)]
    started = time.perf_counter()
    for batch in batches:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)", batch)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return total_points / elapsed


def raw_chunks(total_points: int, directory: Path) -> float:
    """Baseline (b): pre-packed chunk rows into our schema, 10 chunks per transaction; pts/s."""
    conn = _connect(directory / "raw_chunks.sqlite3")
    conn.execute("CREATE TABLE runs (run_id TEXT, project_id TEXT)")
    for statement in DATA_SCHEMA:
        conn.executescript(statement)
    conn.executemany("INSERT INTO series (project_id, run_id, metric_key) VALUES (?, ?, ?)",
                     [("p", "r", f"train/m{k}") for k in range(KEYS)])
    batches = []
    for b in range(total_points // POINTS_PER_BATCH):
        steps = np.arange(b * ROWS, (b + 1) * ROWS, dtype=np.int64)
        batches.append([(k + 1, len(steps), int(steps[0]), int(steps[-1]), 0, 1, 0,
                         *pack(Points(steps, steps * 0.001 + k, steps))) for k in range(KEYS)])
    sql = ("INSERT INTO metric_chunks (series_id, point_count, step_min, step_max, ts_min,"
           " ts_max, received_ms, steps, vals, timestamps) VALUES (?,?,?,?,?,?,?,?,?,?)")
    started = time.perf_counter()
    for batch in batches:
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return total_points / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batches", type=int, default=20, help="batches per connection/round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    total = args.connections * args.batches * POINTS_PER_BATCH
    with tempfile.TemporaryDirectory(prefix="rundial-bench-") as tmp:
        directory = Path(tmp)
        proc = CollectorProcess(directory / "collector")
        proc.start()
        try:
            pid = project_id(proc)
            results = {fmt: [http_round(proc, pid, fmt, args.connections, args.batches, r)
                             for r in range(args.rounds)] for fmt in ("rows", "points")}
        finally:
            proc.stop()
        raw_a = median_rate(raw_rows, total, directory, args.rounds)
        raw_b = median_rate(raw_chunks, total, directory, args.rounds)
    report(results, raw_a, raw_b, args, total)


def median_rate(baseline: Callable[[int, Path], float], total: int, directory: Path,
                rounds: int) -> float:
    """Median rate of ``baseline`` over ``rounds`` runs, each on a fresh database."""
    rates = []
    for r in range(rounds):
        fresh = directory / f"{baseline.__name__}-{r}"
        fresh.mkdir()
        rates.append(baseline(total, fresh))
    return statistics.median(rates)


def report(results: dict[str, list[float]], raw_a: float, raw_b: float,
           args: argparse.Namespace, total: int) -> None:
    print(f"collector ingest: {args.connections} connections x {args.batches} batches x "
          f"{POINTS_PER_BATCH} points = {total:,} points per round, {args.rounds} rounds")
    print(f"raw (a) row-per-point executemany + index, 5k-row txns: {raw_a:12,.0f} rows/s")
    print(f"raw (b) pre-packed chunks into our schema:              {raw_b:12,.0f} points/s")
    for fmt, rates in results.items():
        median = statistics.median(rates)
        verdict = "OK" if median >= GOAL_POINTS_PER_S and median / raw_a >= GOAL_RATIO else "MISS"
        print(f"HTTP {fmt:6s}: median {median:12,.0f} points/s  (rounds: "
              f"{', '.join(f'{r:,.0f}' for r in rates)})  ratio to raw (a): {median / raw_a:.2f}"
              f"  goal >= {GOAL_POINTS_PER_S:,} and >= {GOAL_RATIO}: {verdict}")


if __name__ == "__main__":
    main()
