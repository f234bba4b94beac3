"""End to end with the real collector: adopted orphans are delivered before any eviction, and
for one run an older writer's batches reach the collector before a newer writer's
(issue 13 items 16 and 22)."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from pathlib import Path

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import init_run, point_count, read_points

STEPS = 10_000
KEYS = ("a", "b", "c", "d")
FAST_RETRY = {"retry_base_delay_seconds": 0.05, "retry_max_delay_seconds": 0.5,
              "flush_interval_seconds": 0.1}


def spool_bytes(spool: Path) -> int:
    return sum(p.stat().st_size for p in spool.rglob("*.json.gz"))


def test_an_adopter_with_a_small_spool_delivers_an_orphan_instead_of_evicting_it(
        collector: CollectorProcess, tmp_path: Path) -> None:
    """An offline run spools 40,000 points; an unrelated online process whose own spool bound
    is far smaller adopts them and delivers every point."""
    spool = tmp_path / "spool"
    rng = random.Random(7)
    offline = init_run(collector, spool, mode="offline", spool_max_bytes=50_000_000)
    for step in range(STEPS):
        offline.log({key: rng.random() for key in KEYS}, step=step)
    assert offline.finish(timeout_s=30)
    orphan_bytes = spool_bytes(spool)
    small = max(4096, orphan_bytes // 4)
    adopter = init_run(collector, spool, spool_max_bytes=small)
    adopter.log({"x": 1.0}, step=0)
    assert adopter.finish(timeout_s=30)
    assert adopter.diagnostics().dropped_points_spool_eviction == 0
    assert point_count(collector, offline.run_id, "a") == STEPS
    got = read_points(collector, offline.run_id, list(KEYS))
    assert sum(len(series) for series in got.values()) == STEPS * len(KEYS)
    assert not (spool / offline.run_id).exists()


DYING_WRITER = """
import os, sys, rundial as rd
endpoint, key, ws, proj, spool, run_id = sys.argv[1:7]
run = rd.init(workspace=ws, project=proj, endpoint=endpoint, api_key=key, run_id=run_id,
              resume="allow", spool_directory=spool, system_metrics=False)
for step in range(10):
    run.log({"loss": 1.0}, step=step)
run.flush(timeout_s=1.0)  # the collector is down: the batch is spooled, not sent
print("SPOOLED", flush=True)
os._exit(0)  # dies: no finish, no final status
"""


def test_an_older_writers_spooled_batches_never_overwrite_a_newer_writers(
        collector: CollectorProcess, tmp_path: Path) -> None:
    """Process 1 logs loss=1.0 at steps 0-9 offline and dies; process 2 resumes the run and
    logs 2.0 at steps 5-9; when the collector returns, steps 5-9 read 2.0."""
    spool, run_id = tmp_path / "spool", "resumed-" + uuid.uuid4().hex[:8]
    collector.stop()
    dying = subprocess.run([sys.executable, "-c", DYING_WRITER, collector.url, collector.api_key,
                            collector.workspace, collector.project, str(spool), run_id],
                           capture_output=True, text=True, timeout=60)
    assert "SPOOLED" in dying.stdout, dying.stderr
    second = init_run(collector, spool, run_id=run_id, resume="allow", **FAST_RETRY)
    for step in range(5, 10):
        second.log({"loss": 2.0}, step=step)
    second.flush(timeout_s=0.5)  # spooled behind the outage
    collector.start()
    assert second.finish(timeout_s=30)
    wait_until(lambda: point_count(collector, run_id, "loss") == 10, 10.0, message="10 steps")
    got = read_points(collector, run_id, ["loss"])["loss"]
    assert got == {**{s: 1.0 for s in range(5)}, **{s: 2.0 for s in range(5, 10)}}
