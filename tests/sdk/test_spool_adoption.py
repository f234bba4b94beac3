"""Adopted orphans: never evicted before a send was tried, evicted only under the adopter's own
space pressure and counted against the run that wrote them (issue 13 item 22); for one run, older
writers' batches are sent before newer ones (item 16)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

import rundial as rd
from rundial import MockTransport
from rundial._pipeline.client_diag import DiagnosticsStamp
from tests.sdk.conftest import CollectorDouble, MakeRun, refused
from tests.sdk.test_spool import writer_files

FAST = {"retry_base_delay_seconds": 1e-3, "retry_max_delay_seconds": 1e-3}


@pytest.fixture(autouse=True)
def _same_size_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The byte bounds below assume batches of ~125 bytes: no clientDiagnostics stamp (~235
    bytes more on one batch per interval, tests/sdk/test_client_diagnostics.py)."""
    monkeypatch.setattr(DiagnosticsStamp, "stamp", lambda self, batches: None)


def leave_orphan(make_run: MakeRun, batches: int) -> None:
    """An offline run ``run_old`` that spooled ``batches`` batches and exited."""
    old = make_run(run_id="run_old", mode="offline")
    for step in range(batches):
        old.log({"a": float(step), "b": 1.0}, step=step)
        old._worker.drain()
    assert old.finish()


def test_adoption_evicts_nothing_even_over_the_adopters_bound(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path) -> None:
    leave_orphan(make_run, 5)
    double.script["/ingest/metrics"] = [refused()] * 100
    run = make_run(run_id="run_new", spool_max_bytes=100, spool_max_age_seconds=1e-6, **FAST)
    run._worker.cycle()
    assert len(writer_files(tmp_path / "spool" / "run_old")) == 5
    assert sum(run.diagnostics().dropped.values()) == 0


def test_untried_orphans_stay_while_the_adopter_writes_within_its_own_bound(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path) -> None:
    leave_orphan(make_run, 5)
    double.script["/ingest/metrics"] = [refused()] * 100
    run = make_run(run_id="run_new", spool_max_bytes=250, **FAST)
    run.log({"x": 1.0}, step=0)
    run._worker.cycle()  # the own queue goes first and fails: the orphan is never tried
    run.log({"x": 1.0}, step=1)
    run._worker.cycle()
    assert len(writer_files(tmp_path / "spool" / "run_old")) == 5
    assert run.diagnostics().dropped_points_spool_eviction == 0


def test_tried_orphans_are_evicted_under_own_pressure_and_counted_against_their_run(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path) -> None:
    leave_orphan(make_run, 5)
    double.script["/ingest/metrics"] = [refused()] * 100
    run = make_run(run_id="run_new", spool_max_bytes=300, **FAST)  # ~120 bytes a batch
    run._worker.cycle()  # nothing of its own yet: the orphan's first send is tried and fails
    for step in range(2):
        run.log({"x": 1.0}, step=step)
        run._worker.cycle()
    diag = run.diagnostics()
    left = len(writer_files(tmp_path / "spool" / "run_old"))
    assert left < 5
    assert diag.dropped_points_spool_eviction == 0  # not this run's points
    assert diag.dropped["adopted_spool_eviction"] == 2 * (5 - left)
    assert all(r[0] == "run_old" for r in diag.lost_step_ranges)
    assert diag.lost_step_ranges[0][1] == 0


def test_a_runs_adopted_older_writer_is_sent_before_the_live_writer(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """Issue 13 item 16: the orphan of our own run goes first, so our newer values win."""
    old = make_run(mode="offline")
    old.log({"loss": 1.0}, step=0)
    assert old.finish()
    run = make_run()
    run.log({"loss": 2.0}, step=0)
    run._worker.cycle()
    assert [row["loss"] for rid, _s, _t, row in double.rows if rid == "run_test"] == [1.0, 2.0]


def test_replay_sends_a_runs_writers_oldest_first(make_run: MakeRun, double: CollectorDouble,
                                                   tmp_path: Path) -> None:
    """``rundial sync``: two dead writers of one run go oldest first, whatever their names."""
    for value in (1.0, 2.0):
        writer = make_run(run_id="run_same", mode="offline")
        writer.log({"loss": value}, step=0)
        assert writer.finish()
    by_name = sorted(d for d in (tmp_path / "spool" / "run_same").iterdir() if d.is_dir())
    for age, directory in enumerate(by_name):  # the first by name is the newest
        for path in directory.glob("*.json.gz"):
            os.utime(path, (1_600_000_000 - age * 100, 1_600_000_000 - age * 100))
    expected = [json.loads(gzip.decompress(next(d.glob("*.json.gz")).read_bytes()))
                ["rows"][0][2]["loss"] for d in reversed(by_name)]
    result = rd.replay_spool(tmp_path / "spool", endpoint="http://collector.test",
                             transport=MockTransport(double), timeout_s=0)
    assert result.batches_sent == 2
    assert [row["loss"] for _r, _s, _t, row in double.rows] == expected
