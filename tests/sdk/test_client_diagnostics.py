"""``clientDiagnostics`` on ingest bodies (docs/protocol.md §4.13): built by the worker, at most
once per interval plus on the final drain, with the published field names and clamps."""

from __future__ import annotations

from typing import Any

import pytest

from rundial._diagnostics import Counters
from rundial._pipeline.client_diag import (DIAGNOSTICS_INTERVAL_SECONDS, VALUE_MAX,
                                           wire_diagnostics)
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun

PUBLISHED = {"capturedAtMs", "queueDepth", "droppedPoints", "droppedPointsQueueFull",
             "droppedPointsSpoolEviction", "droppedPointsNonRetryable",
             "droppedPointsRetryExhausted", "droppedPointsNonFinite", "nonFiniteDroppedByMetric",
             "spoolSegments", "spoolBytes", "retryAttempts", "failedFlushAttempts",
             "systemSamplesCollected", "systemSamplesSkippedBackpressure", "logLinesTruncated",
             "droppedLogLinesQueueFull", "droppedLogLinesInvalid"}


def _snapshots(double: CollectorDouble) -> list[Any]:
    return [doc.get("clientDiagnostics") for _m, path, doc in double.calls
            if "/ingest/" in path and doc is not None]


@pytest.mark.filterwarnings("ignore:rundial. dropping non-finite")
def test_diagnostics_ride_one_batch_per_interval_and_the_final_drain(
        make_run: MakeRun, double: CollectorDouble, clock: FakeClock, wall: FakeClock) -> None:
    run = make_run()
    run.log({"a": 1.0, "bad": float("nan")})
    run._worker.cycle()
    run.log({"a": 2.0})
    run._worker.cycle()  # within the interval: no snapshot
    clock.advance(DIAGNOSTICS_INTERVAL_SECONDS)
    run.log({"a": 3.0})
    run._worker.cycle()
    run.log({"a": 4.0})
    assert run.finish() is True
    snapshots = _snapshots(double)
    assert len(snapshots) == 4
    assert snapshots[1] is None
    for snapshot in (snapshots[0], snapshots[2], snapshots[3]):
        assert snapshot is not None and PUBLISHED <= set(snapshot)
        assert snapshot["droppedPointsNonFinite"] == 1 == snapshot["droppedPoints"]
        assert snapshot["nonFiniteDroppedByMetric"] == {"bad": 1}
    assert snapshots[0]["capturedAtMs"] == int(wall() * 1000)
    assert [r[1] for r in double.rows] == [0, 1, 2, 3]  # the bodies' rows are intact


def test_wire_diagnostics_clamps_and_sums() -> None:
    counters = Counters(retry_attempts=-3, log_lines_truncated=VALUE_MAX * 5)
    counters.drop("queue_full", VALUE_MAX)
    counters.drop("rejected", 2)
    counters.drop("server_rejected", 3)
    counters.non_finite["loss"] = 7
    out = wire_diagnostics(counters, queue_depth=4, spool_segments=2, spool_bytes=1 << 50,
                           captured_at_ms=5)
    assert out["retryAttempts"] == 0 and out["logLinesTruncated"] == VALUE_MAX
    assert out["droppedPointsNonRetryable"] == 5 and out["droppedPoints"] == VALUE_MAX
    assert out["spoolBytes"] == 1 << 40 and out["queueDepth"] == 4
    assert out["nonFiniteDroppedByMetric"] == {"loss": 7}
