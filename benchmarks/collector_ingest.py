"""Ingest throughput of a real collector subprocess, against raw SQLite baselines; with
``--database-url``, the same on PostgreSQL (issue 16) beside SQLite, measured in the same run.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python benchmarks/collector_ingest.py``
(``--connections``, ``--batches``, ``--rounds`` to change the load). With
``--database-url postgresql://... `` (or ``auto``: a throwaway PostgreSQL 15, fsync on) the
targets are SQLite and two PostgreSQL collectors behind nginx (``--targets`` picks among
``sqlite``, ``postgres`` (one collector), ``nginx``; see benchmarks/bench_targets.py), and:

* Raw (c): a ``COPY`` of pre-packed chunk rows into the PostgreSQL store's own schema over
  ``--connections`` parallel connections, like the HTTP clients, alternated with each
  PostgreSQL target's rounds (one ``COPY`` round after each round of the formats: the same
  database, at the same time, so that neither side gets the fresh database or the quiet
  moments; measured after every target it was up to 0.4x off). The ratio of each target to
  the median of its own ``COPY`` rounds is printed;
* ``--writers N --duration S`` (default 50 writers for 30 s; 0 writers skips): ingest
  latency p50/p99 under N concurrent writers on every target, with arrived == sent checked by
  read-back (benchmarks/ingest_writers.py), each writer posting ``--writer-rows`` rows x 10 keys
  per batch (default 5,000 points, one full SDK batch). ``--writer-interval`` is a comma
  separated list of paces, each measured in turn: 0 is back to back, S > 0 at most one batch
  per S seconds per writer (default ``0,1``: back to back, and the SDK's 1 s flush interval).

* HTTP: N keep-alive connections (one thread each, ``benchmarks.lean_http``) post pre-built
  gzip batches of 5,000 points, in each of ``--formats`` (default all): wide ``rows`` (500 rows
  x 10 keys), rc1 ``points``, or the same 500 x 10 as a ``columns`` body (docs/protocol.md
  §4.16, built by the tests' encoder, tests/helpers/columns_body.py). Points/s is the median over rounds; every
  round writes its own run and is verified by read-back. ``--writer-format`` picks the writers'
  body: ``columns`` (default: what the SDK sends a collector that announces them, for a batch
  of plain Python floats) or ``rows``.
* Raw (a): ``executemany`` of a row-per-point table ``(run, key, step, value, ts, seq)`` with an
  index on (run, key, step, seq), WAL + synchronous=NORMAL, 5,000-row transactions.
* Raw (b): pre-packed chunk rows into the collector's own schema (10 chunks per transaction).
"""

from __future__ import annotations

import argparse
import http.client
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import orjson

from rundial_collector.store.series_math import Points, pack
from rundial_collector.store.sqlite.data import DATA_SCHEMA
from benchmarks.bench_targets import database_url_of, deployment, targets_of
from benchmarks.ingest_extra import raw_copy_rate
from benchmarks.lean_http import LeanConnection
from benchmarks.ingest_writers import (PREBUILT_PER_SECOND, WRITER_PROCESSES, WRITER_ROWS,
                                       concurrent_writers)
from rundial._config import FLUSH_INTERVAL_S
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.columns_body import CONTENT_TYPE as COLUMNS_TYPE
from tests.helpers.columns_body import columns_body

ROWS, KEYS = 500, 10
POINTS_PER_BATCH = ROWS * KEYS
GOAL_POINTS_PER_S = 250_000
PG_GOAL_POINTS_PER_S = 300_000  # issue 16: through nginx, two collectors on PostgreSQL
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


def columns_batch(pid: str, run: str, first_step: int) -> bytes:
    """:func:`wide_batch`'s points as a columns body (gzip)."""
    steps = np.arange(first_step, first_step + ROWS, dtype=np.int64)
    values = steps[None, :] * 0.001 + np.arange(KEYS)[:, None]
    body = columns_body({"projectId": pid, "runId": run}, [f"train/m{k}" for k in range(KEYS)],
                        steps, steps + 1_700_000_000_000, values)
    return zlib.compress(body, 1, wbits=31)


BodyBuilder = Callable[[str, str, int], bytes]
FORMATS: dict[str, tuple[BodyBuilder, str]] = {  # body kind: (batch builder, content type)
    "rows": (wide_batch, "application/json"), "points": (points_batch, "application/json"),
    "columns": (columns_batch, COLUMNS_TYPE)}


def post_all(proc: CollectorProcess, bodies: list[bytes], content_type: str = "application/json"
             ) -> None:
    """Send ``bodies`` over one keep-alive connection (:mod:`benchmarks.lean_http`: the
    client's CPU is taken from the measured cores); every reply must be 202."""
    conn = LeanConnection("127.0.0.1", proc.port)
    headers = {"Authorization": f"Bearer {proc.api_key}", "Content-Type": content_type,
               "Content-Encoding": "gzip"}
    for body in bodies:
        reply = conn.post("/api/v1/ingest/metrics", body, headers)
        if reply.status != 202:
            raise RuntimeError(f"ingest answered {reply.status}: {reply.body[:300]!r}")
    conn.close()


def http_round(proc: CollectorProcess, pid: str, fmt: str, connections: int, batches: int,
               round_no: int) -> float:
    """Points/s of one round (all connections in parallel), verified by read-back."""
    run = f"bench-{fmt}-{round_no}-{time.time_ns()}"
    build, content_type = FORMATS[fmt]
    per_conn = [[build(pid, run, (c * batches + b) * ROWS) for b in range(batches)]
                for c in range(connections)]
    threads = [threading.Thread(target=post_all, args=(proc, bodies, content_type))
               for bodies in per_conn]
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
    """Points stored for ``run`` (0 when none: 404; a 429/503 is retried after its
    ``Retry-After``)."""
    query = urllib.parse.urlencode({"projectId": pid, "runId": run, "limit": 100})
    for _ in range(20):
        conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=60)
        conn.request("GET", f"/api/v1/metrics/keys?{query}", headers={
            "Authorization": f"Bearer {proc.api_key}"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status == 200:
            return sum(int(k["pointCount"]) for k in orjson.loads(body)["keys"])
        if response.status == 404:
            return 0  # the run has no point stored at all
        if response.status not in (429, 503):
            break
        time.sleep(float(response.getheader("Retry-After") or 1))
    raise RuntimeError(f"read-back answered {response.status}: {body[:300]!r}")


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
    parser.add_argument("--batches", type=int, default=60, help="batches per connection/round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (or auto) to measure beside SQLite")
    parser.add_argument("--targets", help="comma separated: sqlite,postgres,nginx")
    parser.add_argument("--writers", type=int, default=50, help="concurrent writers (0: skip)")
    parser.add_argument("--duration", type=float, default=30.0, help="writers' seconds")
    parser.add_argument("--writer-interval", default=f"0,{FLUSH_INTERVAL_S:g}",
                        help="comma separated seconds between a writer's batches, each "
                             "measured in turn (0: back to back)")
    parser.add_argument("--writer-rows", type=int, default=WRITER_ROWS,
                        help="rows (x 10 keys) per writer batch")
    parser.add_argument("--writer-processes", type=int, default=WRITER_PROCESSES,
                        help="client processes the writers' threads are spread over")
    parser.add_argument("--writer-prebuilt", type=float, default=PREBUILT_PER_SECOND,
                        help="back-to-back bodies each writer builds before the clock, per "
                             "second of --duration (0: built as they are sent)")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma separated HTTP body kinds among {', '.join(FORMATS)}")
    parser.add_argument("--writer-format", choices=("rows", "columns"),
                        default="columns", help="the writers' body kind (default: what the "
                        "SDK sends for plain floats)")
    args = parser.parse_args()
    total = args.connections * args.batches * POINTS_PER_BATCH
    with tempfile.TemporaryDirectory(prefix="rundial-bench-") as tmp, ExitStack() as stack:
        directory = Path(tmp)
        url = database_url_of(args.database_url, stack)
        results: dict[str, dict[str, list[float]]] = {}
        raw_c: dict[str, list[float]] = {}  # PostgreSQL target: its alternated COPY rounds
        writers: list[tuple[str, float, str]] = []
        paces = [float(x) for x in args.writer_interval.split(",")]
        for target in targets_of(args.targets, url):
            with deployment(target, directory / target, url) as (front, _procs):
                pid = project_id(front)
                os.sync()  # no earlier target's dirty pages written back in these rounds
                results[target] = {fmt: [] for fmt in args.formats.split(",")}
                for r in range(args.rounds):
                    for fmt, rates in results[target].items():
                        rates.append(http_round(front, pid, fmt, args.connections,
                                                args.batches, r))
                    if target != "sqlite":
                        raw_c.setdefault(target, []).append(
                            raw_copy_rate(url, total // POINTS_PER_BATCH, args.connections))
                for pace in paces if args.writers else []:
                    run = concurrent_writers(front, pid, args.writers, args.duration, pace,
                                             args.writer_processes, args.writer_rows,
                                             args.writer_format, args.writer_prebuilt)
                    arrived = sum(read_back(front, pid, r) for r in run.runs)
                    writers.append((target, pace, run.summary(arrived)))
                    print(target, pace, writers[-1][2], flush=True)  # kept if a later part fails
        raw_a = median_rate(raw_rows, total, directory, args.rounds)
        raw_b = median_rate(raw_chunks, total, directory, args.rounds)
    report(results, raw_a, raw_b, raw_c, args, total)
    for target, pace, line in writers:
        mode = f"one batch per {pace:g} s each" if pace else "back to back"
        print(f"{args.writers} writers x {args.writer_rows * 10:,}-point {args.writer_format} "
              f"batches x "
              f"{args.duration:.0f} s, {mode:20s} on {target:8s}: {line}")


def median_rate(baseline: Callable[[int, Path], float], total: int, directory: Path,
                rounds: int) -> float:
    """Median rate of ``baseline`` over ``rounds`` runs, each on a fresh database."""
    rates = []
    for r in range(rounds):
        fresh = directory / f"{baseline.__name__}-{r}"
        fresh.mkdir()
        rates.append(baseline(total, fresh))
    return statistics.median(rates)


def report(results: dict[str, dict[str, list[float]]], raw_a: float, raw_b: float,
           raw_c: dict[str, list[float]], args: argparse.Namespace, total: int) -> None:
    """Print the figures; ``raw_c``: each PostgreSQL target's alternated (c) rounds."""
    print(f"collector ingest: {args.connections} connections x {args.batches} batches x "
          f"{POINTS_PER_BATCH} points = {total:,} points per round, {args.rounds} rounds")
    print(f"raw (a) row-per-point executemany + index, 5k-row txns: {raw_a:12,.0f} rows/s")
    print(f"raw (b) pre-packed chunks into our schema:              {raw_b:12,.0f} points/s")
    for target, copies in raw_c.items():
        print(f"raw (c) PostgreSQL COPY of pre-packed chunks, 5k-point txns, "
              f"{args.connections} connections, alternated with the {target} rounds: median "
              f"{statistics.median(copies):12,.0f} points/s  (rounds: "
              f"{', '.join(f'{r:,.0f}' for r in copies)})")
    for target, by_format in results.items():
        for fmt, rates in by_format.items():
            median = statistics.median(rates)
            if target == "sqlite":
                ratio, name, goal = median / raw_a, "raw (a)", GOAL_POINTS_PER_S
            else:
                ratio = median / statistics.median(raw_c[target])
                name, goal = "raw (c)", PG_GOAL_POINTS_PER_S
            verdict = "OK" if median >= goal and ratio >= GOAL_RATIO else "MISS"
            print(f"{target:8s} HTTP {fmt:7s}: median {median:12,.0f} points/s  (rounds: "
                  f"{', '.join(f'{r:,.0f}' for r in rates)})  ratio to {name}: {ratio:.2f}"
                  f"  goal >= {goal:,} and >= {GOAL_RATIO}: {verdict}")


if __name__ == "__main__":
    main()
