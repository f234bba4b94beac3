"""Sustained SDK-to-collector throughput on this machine, with zero loss checked by read-back.

Run from the repo root:  PYTHONPATH=. .venv/bin/python benchmarks/e2e_throughput.py

Each round: ``rd.init`` against a real collector subprocess, log ``--steps`` rows of 10 floats as
fast as one Python thread can, ``run.finish()``; the clock stops when finish returns (every point
acknowledged by the collector). Then the collector is asked for each series' resolved and
superseded counts: zero loss means every key has exactly ``--steps`` points and none twice.
Baseline printed alongside: the same rows pushed into a bare deque (the producer's ceiling).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
import time
from pathlib import Path

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.e2e_support import series_stats

KEYS = [f"m{k}" for k in range(10)]


def one_round(proc: CollectorProcess, steps: int, spool: Path) -> tuple[float, str, rd.Diagnostics]:
    started = time.perf_counter()
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(spool), queue_capacity=steps)
    log = run.log
    for step in range(steps):
        log({"m0": step * 0.5, "m1": 1.0, "m2": 2.0, "m3": 3.0, "m4": 4.0, "m5": 5.0, "m6": 6.0,
             "m7": 7.0, "m8": 8.0, "m9": 9.0})
    run.finish(timeout_s=120)
    return time.perf_counter() - started, run.id, run.diagnostics()


def producer_ceiling(steps: int) -> float:
    queue: collections.deque = collections.deque(maxlen=steps)
    started = time.perf_counter()
    for step in range(steps):
        queue.append((step, time.time_ns(), {"m0": step * 0.5, "m1": 1.0, "m2": 2.0, "m3": 3.0,
                                             "m4": 4.0, "m5": 5.0, "m6": 6.0, "m7": 7.0, "m8": 8.0,
                                             "m9": 9.0}))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    points = args.steps * len(KEYS)
    rates, losses = [], []
    with tempfile.TemporaryDirectory() as tmp:
        proc = CollectorProcess(Path(tmp) / "data")
        proc.start()
        try:
            for r in range(args.rounds):
                elapsed, run_id, diag = one_round(proc, args.steps, Path(tmp) / f"spool{r}")
                stats = series_stats(proc, run_id, KEYS)
                lost = sum(args.steps - total for total, _sup in stats.values())
                duplicated = sum(sup for _total, sup in stats.values())
                rates.append(points / elapsed)
                losses.append((lost, duplicated, sum(diag.dropped.values())))
                print(f"round {r}: {points:,} points in {elapsed:.3f} s = {points / elapsed:,.0f} points/s; "
                      f"lost {lost}, duplicated {duplicated}, client drops {diag.dropped}")
        finally:
            proc.stop()
    ceiling = statistics.median(points / producer_ceiling(args.steps) for _ in range(3))
    print(f"median {statistics.median(rates):,.0f} points/s end to end "
          f"(producer ceiling, bare deque: {ceiling:,.0f} points/s; ratio {statistics.median(rates) / ceiling:.3f})")
    print(f"zero loss in every round: {all(x == (0, 0, 0) for x in losses)}   goal: >= 300,000 points/s")


if __name__ == "__main__":
    main()
