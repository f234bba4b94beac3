"""run.log latency: p50/p90/p99/p99.9/max with 10 floats, next to a bare deque-append floor.

Run from the repo root:  PYTHONPATH=. .venv/bin/python benchmarks/hotpath.py

Both loops are timed call by call with ``perf_counter_ns`` in the same process, interleaved over
several rounds, so the timer's own cost is in both columns. The floor is the design notes' hot
path: ``deque(maxlen=N).append((step, time.time_ns(), dict(payload)))``. ``run.log`` runs with its
worker live, sending to a real collector. Figures are medians over rounds; nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import gc
import statistics
import tempfile
import time
from pathlib import Path

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess

PERCENTILES = (50, 90, 99, 99.9)


def percentiles(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    out = {f"p{p}": ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] / 1000 for p in PERCENTILES}
    out["max"] = ordered[-1] / 1000
    out["mean"] = sum(ordered) / len(ordered) / 1000
    return out


def time_floor(calls: int, payload: dict[str, float]) -> list[int]:
    queue: collections.deque = collections.deque(maxlen=calls)
    clock, now_ns = time.perf_counter_ns, time.time_ns
    samples = [0] * calls
    for step in range(calls):
        t0 = clock()
        queue.append((step, now_ns(), dict(payload)))
        samples[step] = clock() - t0
    return samples


def time_log(run: rd.Run, calls: int, payload: dict[str, float]) -> list[int]:
    log, clock = run.log, time.perf_counter_ns
    samples = [0] * calls
    for step in range(calls):
        t0 = clock()
        log(payload)
        samples[step] = clock() - t0
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--system-metrics", choices=("on", "off"), default="on",
                        help="the run's system-metrics sampler (on by default, as for users)")
    args = parser.parse_args()
    payload = {f"train/metric_{i}": 0.5 + i for i in range(10)}
    with tempfile.TemporaryDirectory() as tmp:
        proc = CollectorProcess(Path(tmp) / "data")
        proc.start()
        try:
            run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key, spool_directory=str(Path(tmp) / "spool"),
                          queue_capacity=args.calls * 2,
                          system_metrics=args.system_metrics == "on")
            rows: dict[str, list[dict[str, float]]] = {"deque floor": [], "run.log": []}
            for _ in range(args.rounds):
                gc.collect()
                rows["deque floor"].append(percentiles(time_floor(args.calls, payload)))
                gc.collect()
                rows["run.log"].append(percentiles(time_log(run, args.calls, payload)))
                run.flush(timeout_s=30)
            run.finish(timeout_s=30)
            diag = run.diagnostics()
        finally:
            proc.stop()
    report(rows, args, diag)


def report(rows: dict[str, list[dict[str, float]]], args: argparse.Namespace, diag: rd.Diagnostics) -> None:
    columns = ["p50", "p90", "p99", "p99.9", "max", "mean"]
    print(f"hot path, {args.calls:,} calls x {args.rounds} rounds, 10 floats, system metrics "
          f"{args.system_metrics}, medians over rounds (us)")
    print(f"{'':14}" + "".join(f"{c:>10}" for c in columns))
    medians = {name: {c: statistics.median(r[c] for r in rounds) for c in columns}
               for name, rounds in rows.items()}
    for name, values in medians.items():
        print(f"{name:14}" + "".join(f"{values[c]:10.2f}" for c in columns))
    floor, log = medians["deque floor"], medians["run.log"]
    print(f"{'run.log - floor':14}" + "".join(f"{log[c] - floor[c]:10.2f}" for c in columns))
    print(f"goals: run.log p50 <= 1 us ({log['p50']:.2f}), p99.9 <= 20 us ({log['p99.9']:.2f})")
    print(f"delivered: accepted {diag.accepted_points:,} of {diag.enqueued_points:,} points, "
          f"dropped {diag.dropped}")


if __name__ == "__main__":
    main()
