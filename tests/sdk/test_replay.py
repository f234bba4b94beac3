"""``rundial.replay_spool``: the reusable replay behind ``rundial sync``."""

from __future__ import annotations

from pathlib import Path

import rundial as rd
from rundial import MockTransport
from tests.sdk.conftest import CollectorDouble, MakeRun, refused


def leave_spooled(make_run: MakeRun, double: CollectorDouble, run_id: str, steps: int, **options: object) -> None:
    double.script["/ingest/metrics"] = [refused()] * 10
    double.script["/runs/start"] = [refused()] * 10
    run = make_run(run_id=run_id, **options)
    for step in range(steps):
        run.log({"a": step}, step=step)
    run.finish(timeout_s=0)
    double.script.clear()


def test_replay_uploads_everything_and_cleans_up(make_run: MakeRun, double: CollectorDouble,
                                                 tmp_path: Path) -> None:
    """Offline data is registered, sent FIFO, finished, and its directory removed."""
    leave_spooled(make_run, double, "run_off", 5, mode="offline")
    result = rd.replay_spool(tmp_path / "spool", endpoint="http://collector.test",
                             transport=MockTransport(double), timeout_s=0)
    assert result.batches_sent == 1 and result.batches_pending == 0 and result.last_error is None
    assert double.steps("run_off") == [0, 1, 2, 3, 4]
    assert double.paths() == ["/api/v1/runs/start", "/api/v1/ingest/metrics",
                              "/api/v1/runs/run_off/status"]
    assert not (tmp_path / "spool" / "run_off").exists()


def test_replay_retries_with_backoff_and_reports_pending(make_run: MakeRun, double: CollectorDouble,
                                                         tmp_path: Path) -> None:
    """Retryable failures are retried (sleep injected) until success or the deadline."""
    leave_spooled(make_run, double, "run_r", 2)
    sleeps: list[float] = []
    double.script["/runs/start"] = [refused(), (503, {"retry-after": "2"}, b"")]
    result = rd.replay_spool(tmp_path / "spool", endpoint="http://collector.test",
                             transport=MockTransport(double), timeout_s=30, sleep=sleeps.append)
    assert result.batches_pending == 0 and double.steps("run_r") == [0, 1]
    assert len(sleeps) == 2 and sleeps[1] >= 2.0


def test_replay_single_pass_leaves_files_when_down(make_run: MakeRun, double: CollectorDouble,
                                                   tmp_path: Path) -> None:
    """With the collector down and timeout 0, nothing is deleted and the count is reported."""
    leave_spooled(make_run, double, "run_d", 2)
    double.script["/runs/start"] = [refused()]
    result = rd.replay_spool(tmp_path / "spool", endpoint="http://collector.test",
                             transport=MockTransport(double), timeout_s=0)
    assert result.batches_pending == 1 and result.batches_sent == 0
    assert (tmp_path / "spool" / "run_d").exists()


def test_replay_counts_the_batches_of_a_run_it_could_not_register_as_pending(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path) -> None:
    """Issue 13 item 4: a run aimed at a missing project stays; it is pending, not 0."""
    leave_spooled(make_run, double, "run_lost", 3, mode="offline")
    double.script["/runs/start"] = [(404, {}, b'{"error":{"code":"NOT_FOUND","message":"no project"}}')]
    result = rd.replay_spool(tmp_path / "spool", endpoint="http://collector.test",
                             transport=MockTransport(double), timeout_s=0, include_blocked=True)
    assert result.batches_sent == 0 and result.batches_pending == 1
    assert result.last_error is not None and "404" in result.last_error
