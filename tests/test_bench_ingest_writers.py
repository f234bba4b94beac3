"""The ingest benchmark's writers (benchmarks/ingest_writers.py): the CPU pressure printed beside
the latencies, read from Linux PSI; bodies built ahead; processes started on one signal, every
point sent read back from a real collector."""

from __future__ import annotations

import os

import pytest

from benchmarks.collector_ingest import project_id, read_back
from benchmarks.ingest_writers import (KEYS, WritersResult, _share, concurrent_writers,
                                       cpu_stall_us, prebuilt_count)
from tests.helpers.collector_proc import CollectorProcess


@pytest.mark.skipif(not os.path.exists("/proc/pressure/cpu"), reason="no Linux PSI here")
def test_cpu_stall_counter_reads_and_never_goes_back() -> None:
    first = cpu_stall_us()
    sum(range(200_000))  # some CPU time between the two readings
    second = cpu_stall_us()
    assert first is not None and second is not None and second >= first


def test_share_of_the_window() -> None:
    assert _share(1_000_000, 1_500_000, 2.0) == pytest.approx(0.25)
    assert _share(None, 5, 1.0) is None and _share(1, 5, 0.0) is None


def test_summary_prints_the_pressure_or_na() -> None:
    result = WritersResult(latencies_s=[0.01, 0.02], sent_points=10, elapsed_s=1.0,
                           cpu_pressure=0.375)
    assert "CPU pressure 38%" in result.summary(10)
    assert "CPU pressure n/a" in WritersResult(latencies_s=[0.01], sent_points=1,
                                               elapsed_s=1.0).summary(1)


def test_prebuilt_count_covers_the_window() -> None:
    assert prebuilt_count(30.0, 1.0, 20.0) == 31  # paced: one body per interval, and one more
    assert prebuilt_count(30.0, 0.0, 20.0) == 601  # back to back: per second of the window
    assert prebuilt_count(30.0, 0.0, 0.0) == 0  # 0: every body built as it is sent


@pytest.mark.parametrize("prebuilt_per_second", [50.0, 0.0])
def test_writers_start_together_and_everything_sent_arrives(
        shared_collector: CollectorProcess, prebuilt_per_second: float) -> None:
    """Two writer processes build ahead, start on one signal and send back to back for a
    second; every point sent is read back, and bodies built in the window are counted."""
    pid = project_id(shared_collector)
    result = concurrent_writers(shared_collector, pid, writers=4, duration_s=1.0,
                                processes=2, rows=20, fmt="columns",
                                prebuilt_per_second=prebuilt_per_second)
    assert len(result.runs) == 4 and len(result.latencies_s) >= 4
    assert result.sent_points == len(result.latencies_s) * 20 * KEYS
    assert sum(read_back(shared_collector, pid, run) for run in result.runs) == result.sent_points
    assert 0.9 <= result.elapsed_s < 30.0
    if prebuilt_per_second:
        assert result.built_in_window == max(0, len(result.latencies_s) - 4 * 51)
    else:
        assert result.built_in_window == len(result.latencies_s)
