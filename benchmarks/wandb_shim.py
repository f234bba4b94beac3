"""``wandb.log`` through rundial.compat.wandb next to ``run.log``: mean cost per 10-float row.

Run from the repo root:  PYTHONPATH=. .venv/bin/python benchmarks/wandb_shim.py [--rows N]

Both run offline (spool in a temporary directory, worker thread live) in the same process,
interleaved over several rounds; each row is a fresh dict of 10 floats. The shim's extra work
per call is W&B's step/commit bookkeeping, sorting values (a fast path for plain ints/floats),
one lock and the summary's last values. Figures are medians over rounds; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import rundial as rd
import rundial.compat.wandb as wandb


def mean_microseconds(log: Callable[[dict[str, Any]], object], rows: int) -> float:
    data = [{f"k{i}": float(j + i) for i in range(10)} for j in range(rows)]
    start = time.perf_counter_ns()
    for row in data:
        log(row)
    return (time.perf_counter_ns() - start) / rows / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    spool = tempfile.mkdtemp(prefix="bench-wandb-")
    options: dict[str, Any] = {"project": "bench", "mode": "offline", "spool_directory": spool,
                               "system_metrics": False, "queue_capacity": 10 * args.rows,
                               "flush_at_records": 10 * args.rows}
    figures: dict[str, list[float]] = {"run.log": [], "wandb.log": []}
    for _ in range(args.rounds):
        run = rd.init(**options)
        figures["run.log"].append(mean_microseconds(run.log, args.rows))
        run.finish(timeout_s=60)
        shim = wandb.init(**options)
        figures["wandb.log"].append(mean_microseconds(wandb.log, args.rows))
        shim.finish()
    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"{name:10s} {value:8.2f} us/row (median of {args.rounds} rounds)")
    print(f"ratio wandb.log / run.log: {medians['wandb.log'] / medians['run.log']:.1f}")


if __name__ == "__main__":
    main()
