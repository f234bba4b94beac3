"""End to end against the real collector: exact delivery, offline upload, disabled mode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.e2e_support import read_points, run_details, series_stats

KEYS = [f"m{i}" for i in range(10)]


@pytest.mark.serial
def test_100k_steps_of_10_metrics_arrive_exactly_once(shared_collector: CollectorProcess,
                                                      tmp_path: Path) -> None:
    """1,000,000 points logged as fast as Python can: every one stored, none twice, none dropped."""
    proc = shared_collector
    started = time.monotonic()
    with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                 api_key=proc.api_key, spool_directory=str(tmp_path / "spool"),
                 queue_capacity=100_000, system_metrics=False) as run:
        for step in range(100_000):
            run.log({key: step + i / 10 for i, key in enumerate(KEYS)})
    diag = run.diagnostics()
    elapsed = time.monotonic() - started
    assert diag.dropped == {} and diag.accepted_points == 1_000_000, diag
    assert diag.spool_segments == 0 and run.state == "completed"
    stats = series_stats(proc, run.id, KEYS)
    assert stats == {key: (100_000, 0) for key in KEYS}
    points = read_points(proc, run.id, KEYS)
    for i, key in enumerate(KEYS):
        assert points[key] == {step: step + i / 10 for step in range(100_000)}, key
    print(f"100k x 10 logged and delivered in {elapsed:.2f} s")


@pytest.mark.serial
def test_a_tight_loop_of_500k_calls_loses_nothing_with_default_options(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """#13.8: 500k calls of 5 keys, default queue options: the loop is slowed to the worker's
    pace instead of losing points, and every one of the 2.5M points is stored."""
    proc = shared_collector
    keys = KEYS[:5]
    calls = 500_000
    started = time.monotonic()
    with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                 api_key=proc.api_key, spool_directory=str(tmp_path / "spool"),
                 system_metrics=False, finish_timeout_seconds=120) as run:
        for step in range(calls):
            run.log({key: step + i / 10 for i, key in enumerate(keys)})
    diag = run.diagnostics()
    elapsed = time.monotonic() - started
    assert diag.dropped == {} and diag.lost_step_ranges == (), diag
    assert diag.accepted_points == 5 * calls and diag.queue_full_wait_timeouts == 0, diag
    assert series_stats(proc, run.id, keys) == {key: (calls, 0) for key in keys}
    print(f"500k x 5 delivered in {elapsed:.2f} s, {diag.queue_full_waits} waits "
          f"({diag.queue_full_wait_seconds:.2f} s)")


def test_keys_the_collector_refuses_are_dropped_by_the_sdk_with_a_warning(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """#13.6: the SDK's key limits are the collector's: a 512-character key is stored; the empty
    key and a 513-character one are dropped (and warned about) before sending, so the server
    refuses nothing."""
    proc = shared_collector
    longest = "k" * 512
    with pytest.warns(RuntimeWarning, match="collector"):
        with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                     api_key=proc.api_key, spool_directory=str(tmp_path / "spool"),
                     system_metrics=False) as run:
            run.log({"": 1.0, "k" * 513: 2.0, longest: 3.0, "ok": 4.0})
    diag = run.diagnostics()
    assert diag.dropped == {"invalid": 2} and diag.accepted_points == 2, diag
    assert read_points(proc, run.id, [longest, "ok"]) == {longest: {0: 3.0}, "ok": {0: 4.0}}


def test_offline_run_uploads_later_with_replay(shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """mode="offline" never calls the collector; replay_spool uploads data and the final status."""
    proc = shared_collector
    spool = tmp_path / "spool"
    with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                 api_key=proc.api_key, spool_directory=str(spool), mode="offline",
                 name="offline-run", config={"lr": 0.1}) as run:
        for step in range(500):
            run.log({"loss": 1.0 / (step + 1)})
    assert run_details(proc, run.id)[0] == 404
    result = rd.replay_spool(spool, endpoint=proc.url, api_key=proc.api_key, timeout_s=20)
    assert result.batches_pending == 0 and result.batches_sent >= 1, result
    assert read_points(proc, run.id, ["loss"])["loss"] == {s: 1.0 / (s + 1) for s in range(500)}
    status, details = run_details(proc, run.id)
    assert status == 200 and details["status"] == "completed" and details["runName"] == "offline-run"
    assert not (spool / run.id).exists()


def test_disabled_mode_sends_nothing(shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """mode="disabled": the same API, no run on the collector, no spool files."""
    proc = shared_collector
    with rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                 api_key=proc.api_key, spool_directory=str(tmp_path / "spool"), mode="disabled") as run:
        run.log({"a": 1.0})
        run.update_config({"x": 1})
    assert run_details(proc, run.id)[0] == 404
    assert not (tmp_path / "spool").exists()
