"""System metrics: sampling, backpressure, failing probes, GPU tool parsing, epoch steps."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

import pytest

from rundial._diagnostics import Counters
from rundial._producers.gpu import CommandProbe, gpu_probes, parse_nvidia_csv, parse_rocm_json
from rundial._producers.sysmetrics import PsutilProbe, SystemSampler
from rundial._wire.records import SystemRow
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun

NVIDIA = "0, 87, 41, 20480, 81920, 65, 301.52\n1, [N/A], 3, 10, 81920, 40, [Not Supported]\n"
ROCM = {"card0": {"GPU use (%)": "12", "GPU memory use (%)": "7",
                  "Temperature (Sensor junction) (C)": "51.0",
                  "Temperature (Sensor edge) (C)": "45.0",
                  "Average Graphics Package Power (W)": "110.0",
                  "VRAM Total Memory (B)": str(64 * 2**30),
                  "VRAM Total Used Memory (B)": str(2**30)},
        "system": {"Driver version": "6.1"}}


def sampler(rows: list[SystemRow], counters: Counters, wall: FakeClock, depth: int = 0,
            probes: list[Any] | None = None, **kw: Any) -> SystemSampler:
    return SystemSampler(rows.append, lambda: depth, 100, counters, interval_s=0.5,
                         probes=probes if probes is not None else [lambda: {"system/x": 1.0}],
                         wall=wall, **kw)


def test_nvidia_csv_is_parsed_per_gpu() -> None:
    """Every reported field of every GPU; N/A fields are left out."""
    values = parse_nvidia_csv(NVIDIA)
    assert values["system/gpu.0.util"] == 87 and values["system/gpu.0.power_w"] == 301.52
    assert values["system/gpu.0.mem_used_mb"] == 20480 and values["system/gpu.0.temp_c"] == 65
    assert "system/gpu.1.util" not in values and "system/gpu.1.power_w" not in values
    assert values["system/gpu.1.mem_util"] == 3
    with pytest.raises(ValueError):
        parse_nvidia_csv("garbage output")


def test_rocm_json_is_parsed_defensively() -> None:
    """rocm-smi's card objects map to the same names; unknown keys and non-card entries are ignored."""
    values = parse_rocm_json(json.dumps(ROCM))
    assert values == {"system/gpu.0.util": 12.0, "system/gpu.0.mem_util": 7.0,
                      "system/gpu.0.temp_c": 45.0, "system/gpu.0.power_w": 110.0,
                      "system/gpu.0.mem_total_mb": 65536.0, "system/gpu.0.mem_used_mb": 1024.0}


def test_command_probe_runs_with_a_timeout_and_checks_the_exit_code() -> None:
    """The tool runs with a timeout; a non-zero exit raises (the sampler disables the probe)."""
    calls: list[dict[str, Any]] = []

    def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(kw)
        return subprocess.CompletedProcess(argv, 0 if len(calls) == 1 else 9, NVIDIA, "boom")

    probe = CommandProbe("nvidia-smi", ["nvidia-smi"], parse_nvidia_csv, run)
    assert probe()["system/gpu.0.util"] == 87 and calls[0]["timeout"] > 0
    with pytest.raises(RuntimeError, match="exited with 9"):
        probe()


def test_gpu_probes_only_for_tools_on_path() -> None:
    """No tool on PATH, no probe; both found, NVIDIA first."""
    assert gpu_probes(which=lambda name: None) == []
    found = gpu_probes(which=lambda name: f"/usr/bin/{name}")
    assert [p.name for p in found] == ["nvidia-smi", "rocm-smi"]


def test_samples_use_epoch_second_steps(wall: FakeClock) -> None:
    """Each sample is a SystemRow at step int(time.time()), so a resumed process cannot
    overwrite an earlier one's points."""
    rows: list[SystemRow] = []
    counters = Counters()
    s = sampler(rows, counters, wall)
    assert s.sample_once()
    wall.advance(10)
    assert s.sample_once()
    assert [r[0] for r in rows] == [1_700_000_000, 1_700_000_010]
    assert rows[0][1] == 1_700_000_000_000 and rows[0][2] == {"system/x": 1.0}
    assert counters.system_samples_collected == 2


def test_backpressure_skips_and_counts(wall: FakeClock) -> None:
    """At or above the threshold of the queue's capacity a sample is skipped, not added."""
    rows: list[SystemRow] = []
    counters = Counters()
    assert not sampler(rows, counters, wall, depth=80, threshold=0.8).sample_once()
    assert rows == [] and counters.system_samples_skipped_backpressure == 1


def test_a_failing_probe_is_disabled_with_one_warning(wall: FakeClock) -> None:
    """A probe that raises warns once and is dropped; the others keep sampling."""
    calls = []

    def broken() -> dict[str, float]:
        calls.append(1)
        raise OSError("no device")

    rows: list[SystemRow] = []
    s = sampler(rows, Counters(), wall, probes=[broken, lambda: {"system/ok": 1.0}])
    with pytest.warns(RuntimeWarning, match="broken failed and is disabled"):
        s.sample_once()
    s.sample_once()
    assert len(calls) == 1 and [r[2] for r in rows] == [{"system/ok": 1.0}] * 2


def test_psutil_probe_measures_the_machine() -> None:
    """psutil gives CPU, memory, RSS and (when available) disk and network counters."""
    values = PsutilProbe()()
    assert {"system/cpu.percent", "system/memory.percent", "system/process.rss_mb"} <= set(values)
    assert values["system/process.rss_mb"] > 1


def test_the_thread_samples_at_once_and_stops(wall: FakeClock) -> None:
    """start() takes the first sample immediately on its thread; stop() ends it."""
    rows: list[SystemRow] = []
    s = SystemSampler(rows.append, lambda: 0, 100, Counters(), interval_s=60,
                      provider=lambda: {"system/custom": 2.0})
    s.start()
    s.stop(timeout_s=5)
    assert [r[2] for r in rows] == [{"system/custom": 2.0}]


def test_system_rows_do_not_touch_training_steps(make_run: MakeRun, double: CollectorDouble) -> None:
    """System rows go in their own body: no out-of-order count, no summary entry."""
    run = make_run()
    run.log({"loss": 1.0})
    run._push(SystemRow((1_700_000_000, 1, {"system/cpu.percent": 5.0})))
    run.log({"loss": 0.5})
    run._worker.cycle()
    assert [b["rows"][0][0] for b in double.bodies] == [0, 1_700_000_000]
    diag = run.diagnostics()
    assert diag.out_of_order_step_writes == 0 and "system/cpu.percent" not in run.summary
    assert diag.accepted_points == 3


def test_the_first_cpu_sample_is_measured_over_a_real_window() -> None:
    """#13.11: with a core kept busy, the probe's very first CPU value is above zero (it was
    always 0.0: psutil was primed a moment before, so the window held no clock tick)."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    busy = threading.Thread(target=spin, daemon=True)
    busy.start()
    try:
        first = PsutilProbe()()["system/cpu.percent"]
    finally:
        stop.set()
        busy.join()
    assert first > 0.0


@pytest.mark.parametrize("probe_seconds", [0.0, 0.05])
def test_a_run_stopped_at_once_still_records_its_first_sample(probe_seconds: float) -> None:
    """#13.11: stop() right after start() (a run shorter than one probe) keeps the first sample,
    whether the thread had not begun it yet or was still measuring."""
    rows: list[SystemRow] = []

    def slow_provider() -> dict[str, float]:
        time.sleep(probe_seconds)  # the probe's own duration, not synchronisation
        return {"system/custom": 2.0}

    s = SystemSampler(rows.append, lambda: 0, 100, Counters(), interval_s=60,
                      provider=slow_provider)
    s.start()
    s.stop(timeout_s=5)
    assert [r[2] for r in rows] == [{"system/custom": 2.0}]


def test_a_sample_finishing_after_stop_gave_up_is_discarded() -> None:
    """A probe slower than stop()'s timeout never enqueues into a finished run."""
    rows: list[SystemRow] = []
    release = threading.Event()
    s = SystemSampler(rows.append, lambda: 0, 100, Counters(), interval_s=60,
                      provider=lambda: {"system/custom": float(release.wait(10))})
    s.start()
    s.stop(timeout_s=0.05)
    release.set()
    assert s._thread is not None
    s._thread.join(5)
    assert rows == []
