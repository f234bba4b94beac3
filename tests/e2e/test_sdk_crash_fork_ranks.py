"""End to end: SIGKILL mid-run and replay by the next process, fork, and the rank policies."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import point_count, read_points, run_details, series_stats

FLUSH_S = 0.2
RATE_PER_S = 2000

LOGGER = textwrap.dedent("""
    import os, struct, sys, time
    import rundial as rd
    url, key, ws, proj, spool, progress, run_id = sys.argv[1:8]
    fd = os.open(progress, os.O_RDWR | os.O_CREAT)
    run = rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, run_id=run_id,
                  spool_directory=spool, flush_interval_seconds={flush})
    start = time.monotonic()
    for step in range(10**9):
        run.log({{"a": float(step)}}, step=step)
        os.pwrite(fd, struct.pack("q", step), 0)
        time.sleep(max(0.0, start + step / {rate} - time.monotonic()))
""").format(flush=FLUSH_S, rate=RATE_PER_S)

REPLAYER = textwrap.dedent("""
    import sys
    import rundial as rd
    url, key, ws, proj, spool = sys.argv[1:6]
    with rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, spool_directory=spool) as run:
        run.log({"started": 1.0})
""")


@pytest.mark.serial
def test_kill_9_loses_at_most_one_flush_interval_and_the_next_process_replays(
        collector: CollectorProcess, tmp_path: Path) -> None:
    """SIGKILL a logging process; a new process on the same spool sends what was spooled."""
    spool, progress, run_id = tmp_path / "spool", tmp_path / "progress", "run_killed_once"
    args = [collector.url, collector.api_key, collector.workspace, collector.project, str(spool)]
    child = subprocess.Popen([sys.executable, "-c", LOGGER, *args, str(progress), run_id])
    try:
        wait_until(lambda: point_count(collector, run_id, "a") >= 2000, 30, message="delivery started")
        collector.stop()  # so the last batches are only in the spool when the kill comes
        wait_until(lambda: any(spool.rglob("*.json.gz")), 10, message="a spooled batch")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    last_step = struct.unpack("q", progress.read_bytes()[:8])[0]
    collector.start()
    subprocess.run([sys.executable, "-c", REPLAYER, *args], check=True, timeout=60)
    steps = sorted(read_points(collector, run_id, ["a"])["a"])
    assert steps == list(range(len(steps))), "delivered steps must be a contiguous prefix"
    lost = last_step + 1 - len(steps)
    assert 0 <= lost <= RATE_PER_S * FLUSH_S * 1.5 + 50, (last_step, len(steps))
    assert series_stats(collector, run_id, ["a"])["a"][1] == 0
    assert not (spool / run_id).exists() or not list((spool / run_id).rglob("*.json.gz"))
    print(f"killed at step {last_step}: {len(steps)} delivered, {lost} lost (bound {RATE_PER_S * FLUSH_S:.0f})")


def test_fork_child_and_parent_both_deliver(shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """A forked child logs through its own queue and worker; parent and child data all arrive."""
    proc = shared_collector
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(tmp_path / "spool"))
    for step in range(100):
        run.log({"parent": float(step)}, step=step)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for step in range(100):
                run.log({"child": float(step)}, step=step)
            code = 0 if run.finish(timeout_s=10) else 2
        finally:
            os._exit(code)
    for step in range(100, 200):
        run.log({"parent": float(step)}, step=step)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert run.finish(timeout_s=10)
    points = read_points(proc, run.id, ["parent", "child"])
    assert sorted(points["parent"]) == list(range(200)) and sorted(points["child"]) == list(range(100))
    assert run_details(proc, run.id)[1]["status"] == "completed"


def test_rank0_policy_only_rank_zero_logs(shared_collector: CollectorProcess, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """distributed="rank0" (default): with RANK=1 nothing reaches the collector."""
    proc = shared_collector
    monkeypatch.setenv("RANK", "1")
    other = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                    api_key=proc.api_key, spool_directory=str(tmp_path / "spool"),
                    run_id="run_rank0_policy")
    other.log({"a": 1.0})
    assert other.finish()
    assert isinstance(other, rd.NoopRun)
    assert run_details(proc, "run_rank0_policy")[0] == 404


def test_all_policy_every_rank_logs_with_its_rank(shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """distributed="all": two ranks share a run; each point carries its rank."""
    proc = shared_collector
    for rank in (0, 1):
        with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                     api_key=proc.api_key, spool_directory=str(tmp_path / f"spool{rank}"),
                     run_id="run_all_ranks", distributed="all", distributed_rank=rank) as run:
            for step in range(50):
                run.log({"loss": float(rank * 1000 + step)}, step=step)
    for rank in (0, 1):
        got = read_points(proc, "run_all_ranks", ["loss"], rank=rank)["loss"]
        assert got == {step: float(rank * 1000 + step) for step in range(50)}
    assert run_details(proc, "run_all_ranks")[1]["status"] == "completed"
