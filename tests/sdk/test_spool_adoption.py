"""Adopted orphans: never evicted before a send was tried, evicted only under the adopter's own
space pressure and counted against the run that wrote them (issue 13 item 22)."""

from __future__ import annotations

from pathlib import Path

from tests.sdk.conftest import CollectorDouble, MakeRun, refused
from tests.sdk.test_spool import writer_files

FAST = {"retry_base_delay_seconds": 1e-3, "retry_max_delay_seconds": 1e-3}


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
