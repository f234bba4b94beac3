"""The ingest benchmark's writers summary (benchmarks/ingest_extra.py): the CPU pressure printed
beside the latencies, read from Linux PSI."""

from __future__ import annotations

import os

import pytest

from benchmarks.ingest_extra import WritersResult, _share, cpu_stall_us


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
