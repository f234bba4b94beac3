"""Spooled columns bodies: diagnostics stamping, re-addressing, adoption, replay and eviction."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from rundial import MockTransport
from rundial._diagnostics import Counters
from rundial._pipeline.client_diag import DIAGNOSTICS_INTERVAL_SECONDS, with_diagnostics
from rundial._spool.send_as import retarget
from rundial._wire import columns
from tests.sdk.conftest import FakeClock, MakeRun, refused
from tests.sdk.test_columns import make_encoder
from tests.sdk.test_columns_delivery import FormatsDouble
from tests.sdk.test_spool import writer_files

FAST = {"retry_base_delay_seconds": 1e-3, "retry_max_delay_seconds": 1e-3}


def columns_body(steps: range) -> bytes:
    (batch,) = make_encoder(Counters()).encode([(s, 0, {"a": float(s), "b": 1.0}) for s in steps])
    return batch.body


def test_the_diagnostics_snapshot_rides_in_the_columns_header(make_run: MakeRun,
                                                              clock: FakeClock) -> None:
    double = FormatsDouble()
    run = make_run(transport_=MockTransport(double))
    run.log({"a": 1.0, "b": 2.0})
    run._worker.cycle()  # rows, stamped (first drain)
    clock.advance(DIAGNOSTICS_INTERVAL_SECONDS)
    for step in range(1, 6):
        run.log({"a": 1.0, "b": 2.0}, step=step)
    run._worker.cycle()  # columns, stamped (interval over)
    assert double.kinds() == ["rows", "columns"]
    stamped = double.bodies[1]["clientDiagnostics"]
    assert stamped["queueDepth"] == 0 and "droppedPoints" in stamped
    assert [r[1] for r in double.rows] == list(range(6))


def test_a_snapshot_too_big_for_the_columns_header_turns_the_body_into_rows() -> None:
    body = columns_body(range(3))
    small = gzip.decompress(with_diagnostics(body, {"queueDepth": 1}))
    assert columns.read_layout(small).header["clientDiagnostics"] == {"queueDepth": 1}
    huge = {"nonFiniteDroppedByMetric": {f"k{i:05d}" + "x" * 500: 1 for i in range(140)}}
    doc = orjson.loads(gzip.decompress(with_diagnostics(body, huge)))
    assert doc["clientDiagnostics"] == huge
    assert doc["rows"] == [[s, 0, {"a": float(s), "b": 1.0}] for s in range(3)]


def test_retarget_keeps_a_columns_body_columnar() -> None:
    body = columns_body(range(4))
    moved, key = retarget(body, "abc", "run_new")
    raw = gzip.decompress(moved)
    assert columns.is_columns(raw) and columns.meta(raw) == ("run_new", 8, 0, 3)
    assert columns.unpack(raw).values == columns.unpack(gzip.decompress(body)).values
    assert key.startswith("abc~") and retarget(body, "abc", "run_new")[1] == key


def leave_columns_orphan(make_run: MakeRun, batches: int) -> None:
    """An offline run ``run_old`` whose encoder had columns on: ``batches`` columns files."""
    old = make_run(run_id="run_old", mode="offline")
    old._worker.encoder.use_columns()
    for step in range(batches):
        old.log({"a": float(step), "b": 1.0}, step=step)
        old._worker.drain()
    assert old.finish()


def test_an_adopted_columns_spool_is_replayed_as_columns(make_run: MakeRun,
                                                         tmp_path: Path) -> None:
    leave_columns_orphan(make_run, 4)
    files = writer_files(tmp_path / "spool" / "run_old")
    assert [columns.is_columns_body(p.read_bytes()) for p in files] == [True] * 4
    double = FormatsDouble()
    run = make_run(run_id="run_new", transport_=MockTransport(double))
    run._worker.cycle()
    assert double.kinds() == ["columns"] * 4
    assert sorted(step for rid, step, _ts, _row in double.rows if rid == "run_old") == [0, 1, 2, 3]


@pytest.mark.parametrize("status", [400, 415])
def test_an_adopted_columns_spool_reaches_an_older_collector_as_rows(make_run: MakeRun,
                                                                     status: int) -> None:
    leave_columns_orphan(make_run, 3)
    double = FormatsDouble(formats=None, refuse_columns=status)
    run = make_run(run_id="run_new", transport_=MockTransport(double))
    run._worker.cycle()
    assert double.kinds() == ["columns", "rows"] * 3
    assert sorted(step for rid, step, _ts, _row in double.rows if rid == "run_old") == [0, 1, 2]
    assert run.diagnostics().batches_rejected == 0


def test_evicted_columns_orphans_are_counted_with_their_points_and_steps(
        make_run: MakeRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eviction reads an adopted columns file's metadata (its points and step range)."""
    from rundial._pipeline.client_diag import DiagnosticsStamp

    monkeypatch.setattr(DiagnosticsStamp, "stamp", lambda self, batches: None)
    leave_columns_orphan(make_run, 5)
    size = max(p.stat().st_size for p in writer_files(tmp_path / "spool" / "run_old"))
    double = FormatsDouble(script={"/ingest/metrics": [refused()] * 100})
    run = make_run(run_id="run_new", spool_max_bytes=3 * size, transport_=MockTransport(double),
                   **FAST)
    run._worker.cycle()  # the orphan's first send is tried and fails
    run.log({"x": 1.0}, step=0)
    run._worker.cycle()  # our own batch pushes the spool over its bound: orphans go first
    evicted = 5 - len(writer_files(tmp_path / "spool" / "run_old"))
    assert evicted >= 1
    assert run.diagnostics().dropped["adopted_spool_eviction"] == 2 * evicted
    assert run.diagnostics().lost_step_ranges[0] == ("run_old", 0, evicted - 1)
