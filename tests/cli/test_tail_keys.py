"""``metrics tail``: keys logged after the tail started are shown, a run with no keys yet is
waited for under ``--follow``, and a tail that leaves keys out says so (issue 13, CLI defects)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from rundial.cli._follow import MetricsWindow
from tests.cli.clirun import CliResult
from tests.cli.seeding import api, seed_run
from tests.cli.test_follow import finish_run, following
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until


def _ingest(collector: CollectorProcess, run_id: str, key: str, step: int, value: float) -> None:
    api(collector, "POST", "/api/v1/ingest/metrics", {"points": [
        {"projectId": collector.project, "runId": run_id, "metricKey": key, "step": step,
         "timestampMs": 1, "value": value}]})


def _keys_in(line: str) -> set[str]:
    return {s["metricKey"] for s in json.loads(line)["series"]["series"] if s["points"]}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_follow_on_a_run_without_metrics_waits_and_shows_keys_as_they_appear(
        home: Path, tmp_path: Path, shared_collector: CollectorProcess, transport: str) -> None:
    run_id = seed_run(shared_collector, steps=0, log_lines=0)
    env: dict[str, str] = {}
    if transport == "polling":
        shadow = tmp_path / "shadow" / "aiohttp"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text("raise ImportError('no aiohttp here')\n")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(shadow.parent), os.environ.get("PYTHONPATH")) if p)
    with following(home, shared_collector, "metrics", "tail", run_id, "--follow", "--json",
                   "--interval-seconds", "0.1" if transport == "polling" else "60",
                   **env) as follower:
        follower.wait_out(bool, "the first (empty) tail")
        assert follower.proc.poll() is None, follower.err
        _ingest(shared_collector, run_id, "loss", 0, 0.5)
        wait_until(lambda: _keys_in(follower.out[-1]) == {"loss"}, timeout_seconds=15,
                   message=f"loss shown; stderr {follower.err}")
        _ingest(shared_collector, run_id, "acc", 1, 0.25)
        wait_until(lambda: _keys_in(follower.out[-1]) == {"loss", "acc"}, timeout_seconds=15,
                   message=f"acc shown; stderr {follower.err}")
        if transport == "websocket":
            finish_run(shared_collector, run_id)
            assert follower.proc.wait(timeout=15) == 0
        else:
            follower.proc.send_signal(signal.SIGINT)
            assert follower.proc.wait(timeout=15) == 0


def test_tail_without_follow_on_a_run_without_metrics_explains(
        cli: Callable[..., CliResult], as_admin: dict[str, str],
        shared_collector: CollectorProcess) -> None:
    run_id = seed_run(shared_collector, steps=0, log_lines=0)
    result = cli("metrics", "tail", run_id, env=as_admin)
    assert result.code == 1
    assert result.err.strip() == (f"error: run {run_id} has no metric keys yet "
                                  "(--follow waits for them)")


def test_tail_says_when_it_leaves_keys_out(cli: Callable[..., CliResult],
                                           as_admin: dict[str, str],
                                           shared_collector: CollectorProcess) -> None:
    run_id = seed_run(shared_collector, steps=0, log_lines=0)
    for index in range(10):
        _ingest(shared_collector, run_id, f"k{index:02d}", 0, float(index))
    result = cli("metrics", "tail", run_id, "--json", env=as_admin)
    assert result.code == 0, result.err
    assert len(result.json()["series"]["series"]) == 8
    assert result.err.strip() == (f"warning: run {run_id} has 10 keys; showing the first 8 "
                                  "(choose them with --keys)")


def test_metrics_window_without_keys_takes_new_keys_up_to_the_limit() -> None:
    skipped: list[str] = []
    window = MetricsWindow(None, 3, max_keys=2, on_skipped=skipped.append)
    window.reset({"series": []})

    def live(key: str, step: int) -> list[dict[str, object]]:
        return window.apply({"type": "metrics", "series": [
            {"metricKey": key, "steps": [step], "timestampsMs": [1], "values": [0.5]}]})

    assert live("loss", 0) and live("acc", 0) and live("loss", 1)
    assert live("lr", 0) == [] and skipped == ["lr"]
    assert [s["metricKey"] for s in window.payload()["series"]] == ["loss", "acc"]
