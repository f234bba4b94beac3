"""End to end: collector outages, 500s and 429s, and the spool bound during a long outage."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import fault_proxy, point_count, read_points, series_stats

FAST_RETRY = {"retry_base_delay_seconds": 0.05, "retry_max_delay_seconds": 0.5,
              "flush_interval_seconds": 0.1, "system_metrics": False}  # exact point counts


def timed_logs(run: rd.Run, steps: range) -> list[float]:
    latencies = []
    for step in steps:
        started = time.perf_counter()
        run.log({"a": float(step), "b": 1.0}, step=step)
        latencies.append(time.perf_counter() - started)
    return latencies


@pytest.mark.serial
def test_collector_down_then_up_delivers_everything(collector: CollectorProcess, tmp_path: Path) -> None:
    """Logging goes on while the collector is stopped; after restart every point arrives once."""
    run = rd.init(workspace=collector.workspace, project=collector.project, endpoint=collector.url,
                  api_key=collector.api_key, spool_directory=str(tmp_path / "spool"), **FAST_RETRY)
    up = timed_logs(run, range(0, 2000))
    wait_until(lambda: point_count(collector, run.id, "a") == 2000, 20, message="first 2000 steps")
    collector.stop()
    down = timed_logs(run, range(2000, 6000))
    wait_until(lambda: run.diagnostics().spool_segments > 0 and run.diagnostics().failed_flush_attempts > 0,
               10, message="batches spooled during the outage")
    collector.start()
    assert run.finish(timeout_s=20) is True
    stats = series_stats(collector, run.id, ["a", "b"])
    assert stats == {"a": (6000, 0), "b": (6000, 0)}
    assert read_points(collector, run.id, ["a"])["a"] == {s: float(s) for s in range(6000)}
    diag = run.diagnostics()
    assert diag.dropped == {} and diag.retry_attempts > 0
    # log() never waited on the network: no call came anywhere near a connect timeout
    assert max(down) < 1.0
    print(f"log p50 up {statistics.median(up) * 1e6:.2f} us, down {statistics.median(down) * 1e6:.2f} us")


def test_init_with_collector_down_then_recovery(collector: CollectorProcess, tmp_path: Path) -> None:
    """rd.init while the collector is down returns at once; registration and data follow later."""
    collector.stop()
    started = time.perf_counter()
    run = rd.init(workspace=collector.workspace, project=collector.project, endpoint=collector.url,
                  api_key=collector.api_key, spool_directory=str(tmp_path / "spool"), name="late",
                  **FAST_RETRY)
    init_s = time.perf_counter() - started
    timed_logs(run, range(1000))
    wait_until(lambda: run.diagnostics().failed_flush_attempts > 0 or run.diagnostics().retry_attempts > 0,
               10, message="a failed attempt")
    assert run.state == "starting"
    collector.start()
    wait_until(lambda: point_count(collector, run.id, "a") == 1000, 30, message="delivery after restart")
    assert run.state == "running"
    assert run.finish(timeout_s=10)
    print(f"init with the collector down: {init_s * 1e3:.2f} ms")


def test_500s_and_429s_back_off_and_honour_retry_after(collector: CollectorProcess, tmp_path: Path) -> None:
    """Two 500s then a 429 with Retry-After: 1: retried with backoff, the hint respected, no loss."""
    script = [(500, {}), (500, {}), (429, {"Retry-After": "1"})]
    with fault_proxy(collector.url, script) as proxy:
        run = rd.init(workspace=collector.workspace, project=collector.project, endpoint=proxy.url,
                      api_key=collector.api_key, spool_directory=str(tmp_path / "spool"), **FAST_RETRY)
        timed_logs(run, range(300))
        assert run.flush(timeout_s=20)
        attempts = proxy.ingest_log()
        assert [s for _t, s in attempts[:3]] == [500, 500, 429]
        assert all(200 <= s < 300 for _t, s in attempts[3:]) and len(attempts) > 3
        assert attempts[3][0] - attempts[2][0] >= 1.0  # Retry-After honoured
        assert run.finish(timeout_s=10)
    assert series_stats(collector, run.id, ["a"]) == {"a": (300, 0)}
    diag = run.diagnostics()
    assert diag.retry_attempts == 3 and diag.failed_flush_attempts == 3 and diag.dropped == {}


def test_spool_bound_holds_during_a_long_outage(collector: CollectorProcess, tmp_path: Path) -> None:
    """With the collector down, the spool stays under spool_max_bytes; lost steps are reported exactly."""
    collector.stop()
    bound = 64 * 1024
    spool = tmp_path / "spool"
    run = rd.init(workspace=collector.workspace, project=collector.project, endpoint=collector.url,
                  api_key=collector.api_key, spool_directory=str(spool), spool_max_bytes=bound,
                  flush_at_records=500, **FAST_RETRY)
    peak = 0
    for chunk in range(40):
        for step in range(chunk * 500, chunk * 500 + 500):
            run.log({f"k{i}": step * 1.000001 + i for i in range(10)}, step=step)
        run.flush(timeout_s=0.05)  # let the worker spool this chunk
        on_disk = sum(p.stat().st_size for p in spool.rglob("*.json.gz"))
        peak = max(peak, on_disk)
    wait_until(lambda: run.diagnostics().queue_depth == 0, 10, message="queue drained to the spool")
    diag = run.diagnostics()
    assert peak <= bound and diag.spool_bytes <= bound
    assert diag.dropped_points_spool_eviction > 0 and diag.lost_step_ranges
    lost = {s for _run, lo, hi in diag.lost_step_ranges for s in range(lo, hi + 1)}
    assert diag.dropped_points_spool_eviction == 10 * len(lost)
    collector.start()
    assert run.finish(timeout_s=20)
    delivered = set(read_points(collector, run.id, ["k0"])["k0"])
    assert delivered == set(range(20_000)) - lost
    print(f"peak spool {peak} B (bound {bound}); evicted {len(lost)} steps")
