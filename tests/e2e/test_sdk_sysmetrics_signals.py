"""End to end: system metrics (with a stub nvidia-smi), crashes, SIGTERM and the idle heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import (init_run, point_count, read_logs, read_points, run_details,
                                   series_stats)

NVIDIA_STUB = """#!/bin/sh
echo "0, 87, 41, 20480, 81920, 65, 301.52"
echo "1, 12, 3, 1024, 81920, 40, 75.00"
"""

SAMPLED = textwrap.dedent("""
    import sys, time
    import rundial as rd
    url, key, ws, proj, spool, run_id, resume = sys.argv[1:8]
    with rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, spool_directory=spool,
                 run_id=run_id, resume=resume, system_metrics_interval_seconds=2) as run:
        run.log({"loss": 1.0})
        deadline = time.monotonic() + 20  # the first sample is taken as the run starts
        while not run.diagnostics().system_samples_collected and time.monotonic() < deadline:
            time.sleep(0.02)
    diag = run.diagnostics()
    assert diag.system_samples_collected and diag.accepted_points > 12, diag
""")

GPU_KEYS = [f"system/gpu.{i}.{f}" for i in (0, 1)
            for f in ("util", "mem_util", "mem_used_mb", "mem_total_mb", "temp_c", "power_w")]
HOST_KEYS = ["system/cpu.percent", "system/memory.percent", "system/process.rss_mb",
             "system/net.sent_mb", "system/net.recv_mb"]


def _args(proc: CollectorProcess, tmp_path: Path) -> list[str]:
    return [proc.url, proc.api_key, proc.workspace, proc.project, str(tmp_path / "spool")]


def test_system_metrics_with_a_stub_nvidia_smi(shared_collector: CollectorProcess,
                                               tmp_path: Path) -> None:
    """Host and per-GPU system/* series arrive at epoch-second steps, and a resumed process adds
    its own samples instead of overwriting the first process's."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    (stub_dir / "nvidia-smi").write_text(NVIDIA_STUB)
    (stub_dir / "nvidia-smi").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub_dir}{os.pathsep}{os.environ['PATH']}"}
    run_id = f"run_sys_{os.getpid()}_{time.time_ns()}"
    argv = [sys.executable, "-c", SAMPLED, *_args(shared_collector, tmp_path), run_id]
    before = time.time()
    subprocess.run([*argv, "allow"], env=env, check=True, timeout=60)
    first = read_points(shared_collector, run_id, GPU_KEYS + HOST_KEYS)
    assert all(first[key] for key in GPU_KEYS + HOST_KEYS), {k: len(v) for k, v in first.items()}
    assert first["system/gpu.0.util"] and set(first["system/gpu.0.util"].values()) == {87.0}
    assert set(first["system/gpu.1.power_w"].values()) == {75.0}
    step = min(first["system/cpu.percent"])
    assert int(before) <= step <= time.time()
    wait_until(lambda: int(time.time()) > max(first["system/cpu.percent"]), 3, message="next second")
    subprocess.run([*argv, "must"], env=env, check=True, timeout=60)  # resume the finished run
    again = read_points(shared_collector, run_id, ["system/gpu.0.util"])["system/gpu.0.util"]
    assert len(again) >= 2 and set(first["system/gpu.0.util"]) < set(again)
    assert series_stats(shared_collector, run_id, ["system/gpu.0.util"])["system/gpu.0.util"][1] == 0


def _init(proc: CollectorProcess, tmp_path: Path, **extra: Any) -> rd.Run:
    return init_run(proc, tmp_path / "spool", **extra)


def _failing_step() -> None:
    raise ValueError("loss became nan")


def test_an_exception_logs_its_traceback_and_fails_the_run(shared_collector: CollectorProcess,
                                                           tmp_path: Path) -> None:
    """An exception inside ``with`` logs the traceback as one error line, then marks failed."""
    with pytest.raises(ValueError):
        with _init(shared_collector, tmp_path) as run:
            run.log({"loss": 1.0})
            _failing_step()
    status, details = run_details(shared_collector, run.id)
    assert status == 200 and details["status"] == "failed"
    assert details["reason"] == "ValueError: loss became nan"
    errors = [r for r in read_logs(shared_collector, run.id) if r["level"] == "error"]
    assert len(errors) == 1
    text = errors[0]["message"]
    assert text.startswith("Traceback (most recent call last):") and "_failing_step" in text
    assert text.rstrip().endswith("ValueError: loss became nan")


def test_keyboard_interrupt_aborts_the_run(shared_collector: CollectorProcess,
                                           tmp_path: Path) -> None:
    """Ctrl+C (KeyboardInterrupt) inside ``with`` marks the run aborted."""
    with pytest.raises(KeyboardInterrupt):
        with _init(shared_collector, tmp_path) as run:
            run.log({"loss": 1.0})
            raise KeyboardInterrupt
    status, details = run_details(shared_collector, run.id)
    assert (details["status"], details["reason"]) == ("aborted", "KeyboardInterrupt")


PREEMPTED = textwrap.dedent("""
    import atexit, sys, time
    import rundial as rd
    url, key, ws, proj, spool, marks = sys.argv[1:7]
    atexit.register(lambda: open(marks, "a").write("atexit\\n"))
    try:
        with rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, spool_directory=spool,
                     system_metrics=False, flush_interval_seconds=0.1) as run:
            open(marks, "a").write(run.id + "\\n")
            for step in range(10**9):
                run.log({"loss": 1.0 / (step + 1)}, step=step)
                time.sleep(0.001)
    finally:
        open(marks, "a").write("finally\\n")
""")


def test_sigterm_marks_the_run_killed_and_exits_normally(shared_collector: CollectorProcess,
                                                         tmp_path: Path) -> None:
    """SIGTERM (preemption): status ``killed``, data delivered, ``finally`` and atexit ran,
    exit status 143."""
    marks = tmp_path / "marks"
    child = subprocess.Popen([sys.executable, "-c", PREEMPTED, *_args(shared_collector, tmp_path),
                              str(marks)])
    try:
        run_id = wait_until(lambda: marks.exists() and marks.read_text().split("\n")[0], 30,
                            message="the run started")
        wait_until(lambda: point_count(shared_collector, run_id, "loss") >= 100, 30,
                   message="points arriving")
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 143
    finally:
        if child.poll() is None:
            child.kill()
    assert marks.read_text().split("\n")[1:] == ["finally", "atexit", ""]
    status, details = run_details(shared_collector, run_id)
    assert (details["status"], details["reason"]) == ("killed", "SIGTERM")
    logged = len(read_points(shared_collector, run_id, ["loss"])["loss"])
    assert logged >= 100
    assert any("SIGTERM" in r["message"] for r in read_logs(shared_collector, run_id))


@pytest.fixture
def quick_lost(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A collector that reads a silent run as lost after 2 s."""
    proc = CollectorProcess(tmp_path / "quick-lost", extra_env={
        "RUNDIAL_COLLECTOR_LOST_AFTER_SECONDS": "2"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.serial
def test_an_idle_run_that_heartbeats_stays_running(quick_lost: CollectorProcess,
                                                   tmp_path: Path) -> None:
    """With heartbeats every 0.5 s an idle run stays ``running``; without them the same idle run
    reads ``lost`` after the 2 s grace window, and a heartbeat revives nothing terminal."""
    beating = _init(quick_lost, tmp_path, heartbeat_interval_seconds=0.5)
    silent = _init(quick_lost, tmp_path, heartbeat_interval_seconds=0)
    for run in (beating, silent):
        run.log({"loss": 1.0})
        assert run.flush(10)
    try:
        seen: list[str] = []

        def silent_is_lost() -> bool:
            seen.append(run_details(quick_lost, beating.id)[1]["status"])
            return run_details(quick_lost, silent.id)[1]["status"] == "lost"

        wait_until(silent_is_lost, 15, interval_seconds=0.2, message="the silent run is lost")
        deadline = time.monotonic() + 2.5  # beyond another full grace window
        while time.monotonic() < deadline:
            seen.append(run_details(quick_lost, beating.id)[1]["status"])
            time.sleep(0.2)
        assert set(seen) == {"running"}
        assert beating.diagnostics().heartbeats_sent >= 4
        assert beating.diagnostics().heartbeat_failures == 0
    finally:
        beating.finish(timeout_s=5)
        silent.finish(timeout_s=5)
    assert run_details(quick_lost, silent.id)[1]["status"] == "completed"
