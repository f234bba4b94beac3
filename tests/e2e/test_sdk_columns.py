"""End to end: the SDK and the real collector negotiate columns bodies; every point arrives
exactly as logged, whichever format carried it, live or through ``rundial sync`` after kill -9."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rundial._wire.body import body_meta
from rundial._wire.columns import is_columns_body
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import init_run, read_points, series_stats

KEYS = [f"m{i}" for i in range(10)]
STEPS = 20_000
RAGGED, NAN, TEXT = 5_000, 12_345, 17_000  # rows that send their drain group as wide rows
RELOGGED = range(100, 600)  # logged twice: the second value wins


def row(step: int, again: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {key: step + i / 10 + (1000.0 if again else 0.0)
                              for i, key in enumerate(KEYS)}
    if step == RAGGED:
        return {KEYS[0]: values[KEYS[0]]}
    if step == NAN:
        values["m3"] = math.nan
    if step == TEXT:
        values["m7"] = "text"
    return values


def expected() -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {key: {} for key in KEYS}
    for step in range(STEPS):
        for key, value in row(step, again=step in RELOGGED).items():
            if isinstance(value, float) and math.isfinite(value):
                out[key][step] = value
    return out


@pytest.mark.filterwarnings("ignore:rundial. dropping")
def test_a_run_mixing_both_formats_stores_every_point_as_logged(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """20,000 rows of 10 keys with a ragged row, a NaN and a string among them, 500 steps
    logged twice: columns bodies after the first reply, wide rows for the odd groups."""
    proc = shared_collector
    run = init_run(proc, tmp_path / "spool")
    run.log(row(0), step=0)
    assert run.flush(timeout_s=20)  # the reply announces the collector's formats
    for step in range(1, STEPS):
        run.log(row(step), step=step)
    for step in RELOGGED:
        run.log(row(step, again=True), step=step)
    assert run.finish(timeout_s=60)
    diag = run.diagnostics()
    assert diag.dropped == {"non_finite": 1, "invalid": 1}, diag
    assert diag.columns_batches >= 1 and diag.columns_fallbacks == 0, diag
    assert diag.batches_sent >= diag.columns_batches + 2, diag  # the first and the ragged group
    assert read_points(proc, run.id, KEYS) == expected()
    stats = series_stats(proc, run.id, KEYS)
    assert all(superseded == len(RELOGGED) for _count, superseded in stats.values()), stats


WRITER = textwrap.dedent("""
    import sys, rundial as rd
    endpoint, api_key, workspace, project, spool, steps = sys.argv[1:7]
    run = rd.init(workspace=workspace, project=project, endpoint=endpoint, api_key=api_key,
                  spool_directory=spool, system_metrics=False, flush_interval_seconds=0.05,
                  retry_base_delay_seconds=0.05, retry_max_delay_seconds=0.2)
    print(run.id, flush=True)
    run.log({"loss": 1.0, "acc": 0.0}, step=0)
    print("DELIVERED" if run.flush(timeout_s=20) else "STUCK", flush=True)
    sys.stdin.readline()  # the collector is stopped now
    for step in range(1, int(steps)):
        run.log({"loss": 1.0 / (step + 1), "acc": step / int(steps)}, step=step)
    run.flush(timeout_s=0.2)
    sys.stdin.read()  # wait to be killed
""")


def spooled_points(spool: Path) -> int:
    return sum(body_meta(p.read_bytes())[1] for p in spool.rglob("*.json.gz")
               if not p.name.startswith("."))


@pytest.mark.both_stores
def test_columns_spooled_during_an_outage_survive_kill_9_and_sync(
        collector: CollectorProcess, tmp_path: Path) -> None:
    steps = 6_000
    spool = tmp_path / "spool"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, collector.url, collector.api_key, collector.workspace,
         collector.project, str(spool), str(steps)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdin is not None
        run_id = writer.stdout.readline().strip()
        assert writer.stdout.readline().strip() == "DELIVERED"
        collector.stop()
        writer.stdin.write("go\n")
        writer.stdin.flush()
        wait_until(lambda: spooled_points(spool) == 2 * (steps - 1), 30,
                   message="every step spooled")
        assert any(is_columns_body(p.read_bytes()) for p in spool.rglob("*.json.gz"))
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    finally:
        writer.kill()
        writer.wait(10)
    collector.start()
    sync = subprocess.run([sys.executable, "-m", "rundial.cli", "sync", str(spool), "--json",
                           "--endpoint", collector.url, "--api-key", collector.api_key],
                          capture_output=True, text=True, timeout=120)
    assert sync.returncode == 0, sync.stderr
    points = read_points(collector, run_id, ["loss", "acc"])
    assert points["loss"] == {s: 1.0 / (s + 1) for s in range(steps)}
    assert points["acc"] == {0: 0.0, **{s: s / steps for s in range(1, steps)}}
    assert series_stats(collector, run_id, ["loss"]) == {"loss": (steps, 0)}
