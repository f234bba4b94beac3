"""Does ``run.log`` ever wait at realistic rates? Paced loops against a real collector.

Run from the repo root:  PYTHONPATH=. .venv/bin/python benchmarks/queue_pace.py

With the default ``on_queue_full="wait"``, a full queue makes ``log`` wait for the worker (at most
``queue_full_wait_seconds``) instead of dropping. The promise is that a loop at a realistic rate
(up to 50k calls/s) never waits, and that an unpaced loop loses nothing. Each condition logs
``--keys`` floats per call for ``--seconds`` at a target rate, in one of two pacings:

* ``sleep``: calls come in bursts of one millisecond's worth, then the thread sleeps to the next
  tick. The GIL is free between bursts, as it is while a training step runs in numpy or torch.
* ``spin``: the thread busy-waits between calls and never releases the GIL by itself, the worst
  case for the worker (a pure-Python loop that does nothing else).

Printed per condition (medians over rounds): the achieved rate, how often and how long ``log``
waited, and the points dropped. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess

RATES = {"sleep": (10_000, 20_000, 50_000, 100_000),  # calls per second
         "spin": (10_000, 20_000, 50_000, 0)}  # 0: as fast as possible, never pausing


def paced_sleep(run: rd.Run, rate: int, seconds: float, payload: dict[str, float]) -> int:
    """Bursts of one millisecond's calls, then sleep to the next tick; returns the calls made."""
    per_tick = max(1, rate // 1000)
    start = time.perf_counter()
    step = 0
    tick = 0
    while time.perf_counter() - start < seconds:
        for _ in range(per_tick):
            run.log(payload, step=step)
            step += 1
        tick += 1
        delay = start + tick / 1000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return step


def paced_spin(run: rd.Run, rate: int, seconds: float, payload: dict[str, float]) -> int:
    """One call every 1/rate seconds, busy-waiting in between (rate 0: no wait at all)."""
    period = 1 / rate if rate else 0.0
    clock = time.perf_counter
    start = clock()
    step = 0
    while clock() - start < seconds:
        run.log(payload, step=step)
        step += 1
        due = start + step * period
        while clock() < due:
            pass
    return step


PACINGS = {"sleep": paced_sleep, "spin": paced_spin}


def one_round(collector: CollectorProcess, spool: Path, pacing: str, rate: int,
              seconds: float, keys: int) -> dict[str, float]:
    payload = {f"k{i}": float(i) for i in range(keys)}
    run = rd.init(endpoint=collector.url, api_key=collector.api_key, project=collector.project,
                  spool_directory=str(spool), system_metrics=False)
    started = time.perf_counter()
    calls = PACINGS[pacing](run, rate, seconds, payload)
    elapsed = time.perf_counter() - started
    diag = run.diagnostics()
    run.finish()
    return {"rate": calls / elapsed, "waits": diag.queue_full_waits,
            "wait_s": diag.queue_full_wait_seconds, "dropped": diag.dropped_points_queue_full}


def median_of(rounds: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--pacing", choices=(*PACINGS, "both"), default="both")
    args = parser.parse_args()
    pacings = list(PACINGS) if args.pacing == "both" else [args.pacing]
    with tempfile.TemporaryDirectory() as tmp:
        collector = CollectorProcess(Path(tmp) / "data")
        collector.start()
        try:
            print(f"{'pacing':6} {'target/s':>9} {'achieved/s':>11} {'waits':>6} "
                  f"{'wait s':>7} {'dropped':>8}")
            for pacing in pacings:
                for rate in RATES[pacing]:
                    rounds: list[dict[str, Any]] = [
                        one_round(collector, Path(tmp) / f"spool{i}", pacing, rate,
                                  args.seconds, args.keys) for i in range(args.rounds)]
                    target = f"{rate:,}" if rate else "max"
                    print(f"{pacing:6} {target:>9} {median_of(rounds, 'rate'):>11,.0f} "
                          f"{median_of(rounds, 'waits'):>6.0f} {median_of(rounds, 'wait_s'):>7.3f} "
                          f"{median_of(rounds, 'dropped'):>8,.0f}")
        finally:
            collector.stop()


if __name__ == "__main__":
    main()
