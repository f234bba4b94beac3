"""Collector CPU per request by kind of request, for source trees (or settings) side by side:
what a request costs before its points do.

Run from the repository root, e.g.::

    PYTHONPATH=. .venv/bin/python -m benchmarks.ingest_request_cpu \\
        branch=.,asyncio=.:RUNDIAL_COLLECTOR_EVENT_LOOP=asyncio --rounds 4

Sides are given as for :mod:`benchmarks.ingest_ab` (``name=tree``, then ``:NAME=value``
environment settings). Each side is two collectors behind nginx on their own database of one
PostgreSQL 15 cluster (fsync on); 4 keep-alive clients send each kind of request, sides
alternated (the order flipped every round; round 0 warms up), and the collectors' CPU (user +
system, from ``/proc``) is divided by the requests sent:

* ``caps``: ``GET /api/v1/cli/capabilities`` (HTTP, routing, middleware; no auth, no database);
* ``ready``: ``GET /health/ready`` (the same plus one read transaction: three round trips);
* ``tiny``: a gzip wide-rows ingest of one point (auth, body, one statement: the per-request
  part of an ingest);
* ``rows``: a gzip wide-rows ingest of 5,000 points (benchmarks/collector_ingest.py's batch);
* ``columns``: the same 5,000 points as a gzip columns body (docs/protocol.md §4.16).

It prints medians per side and kind with ratios to the first side. Linux only.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import threading
import time
import zlib
from pathlib import Path

import orjson

from benchmarks.collector_ingest import FORMATS, ROWS, project_id
from benchmarks.ingest_ab import cpu_seconds, side_env
from tests.helpers.cluster import CollectorPair
from tests.helpers.postgres import PgCluster

KINDS = ("caps", "ready", "tiny", "rows", "columns")
REQUESTS_PER_CLIENT = {"caps": 200, "ready": 200, "tiny": 200, "rows": 40, "columns": 40}
CLIENTS = 4
Request = tuple[str, str, bytes | None, dict[str, str]]
_GZIP_JSON = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def one_point(pid: str, run: str, step: int) -> bytes:
    return zlib.compress(orjson.dumps({"projectId": pid, "runId": run, "rows": [
        [step, 1_700_000_000_000 + step, {"loss": 1.0}]]}), 1, wbits=31)


def requests_of(kind: str, pid: str, run: str, first: int, count: int) -> list[Request]:
    if kind == "caps":
        return [("GET", "/api/v1/cli/capabilities", None, {})] * count
    if kind == "ready":
        return [("GET", "/health/ready", None, {})] * count
    if kind == "tiny":
        return [("POST", "/api/v1/ingest/metrics", one_point(pid, run, first + i), _GZIP_JSON)
                for i in range(count)]
    batch, content_type = FORMATS[kind]
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    return [("POST", "/api/v1/ingest/metrics", batch(pid, run, (first + i) * ROWS), headers)
            for i in range(count)]


def send(port: int, api_key: str, requests: list[Request]) -> None:
    """Send ``requests`` over one keep-alive connection; each must answer 2xx."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for method, path, body, headers in requests:
        conn.request(method, path, body, {"Authorization": f"Bearer {api_key}", **headers})
        response = conn.getresponse()
        payload = response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{path} answered {response.status}: {payload[:300]!r}")
    conn.close()


def cpu_ms_per_request(pair: CollectorPair, pid: str, kind: str) -> float:
    """One trial: :data:`CLIENTS` clients in parallel; the collectors' CPU per request."""
    count = REQUESTS_PER_CLIENT[kind]
    run = f"cpu-{kind}-{time.time_ns()}"
    per_client = [requests_of(kind, pid, run, c * count, count) for c in range(CLIENTS)]
    pids = [pair.a.pid, pair.b.pid]
    before = sum(map(cpu_seconds, pids))
    front = pair.front
    threads = [threading.Thread(target=send, args=(front.port, front.api_key, reqs))
               for reqs in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (sum(map(cpu_seconds, pids)) - before) / (CLIENTS * count) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sides", help="name=tree[:NAME=value...],...")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    cluster = PgCluster(fsync=True)
    cluster.start()
    pairs: list[tuple[str, CollectorPair, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rundial-cpu-") as tmp:
            for part in args.sides.split(","):
                name, spec = part.split("=", 1)
                pair = CollectorPair(Path(tmp) / name, cluster.new_database(name),
                                     side_env(spec))
                pairs.append((name, pair, ""))
                pair.start()
                pairs[-1] = (name, pair, project_id(pair.front))
            report(pairs, kinds, run_rounds(pairs, kinds, args.rounds))
    finally:
        for _, pair, _ in pairs:
            pair.stop()
        cluster.destroy()


def run_rounds(pairs: list[tuple[str, CollectorPair, str]], kinds: list[str], rounds: int
               ) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {(n, k): [] for n, _, _ in pairs for k in kinds}
    for round_no in range(rounds + 1):
        order = pairs if round_no % 2 == 0 else pairs[::-1]
        for kind in kinds:
            for name, pair, pid in order:
                figure = cpu_ms_per_request(pair, pid, kind)
                if round_no:  # round 0 warms up (pools, prepared statements, caches)
                    results[(name, kind)].append(figure)
    return results


def report(pairs: list[tuple[str, CollectorPair, str]], kinds: list[str],
           results: dict[tuple[str, str], list[float]]) -> None:
    for kind in kinds:
        base = statistics.median(results[(pairs[0][0], kind)])
        for name, _, _ in pairs:
            values = results[(name, kind)]
            med = statistics.median(values)
            print(f"{kind:5s} {name:10s} {med:6.3f} ms CPU per request ({med / base:.2f}x "
                  f"{pairs[0][0]}); rounds: {' '.join(f'{v:.2f}' for v in values)}", flush=True)


if __name__ == "__main__":
    main()
