"""``--follow``: the initial tail, then live updates over the run WebSocket until the run finishes.

Follow runs as a real subprocess against a real collector; tests wait on the printed output,
never on sleeps. ``--interval-seconds 60`` in a WebSocket test makes sure nothing it sees came
from polling. Without aiohttp (a shadowing package on ``PYTHONPATH``) follow still polls.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rundial.cli._errors import CliError
from rundial.cli._follow import LogsWindow, MetricsWindow
from rundial.cli._follow_ws import WebSocketSource
from rundial.cli._http import ApiClient
from rundial.cli._output import Output
from tests.cli.clirun import CliResult, cli_env
from tests.cli.seeding import add_logs, api, seed_run
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until

LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"]


@dataclass
class Follower:
    """A running ``rundial`` subprocess and the lines it printed so far."""

    proc: subprocess.Popen[str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def wait_out(self, probe: Callable[[str], bool], message: str) -> None:
        """Wait until a stdout line satisfies ``probe``."""
        wait_until(lambda: any(probe(line) for line in list(self.out)), timeout_seconds=15,
                   message=f"{message}; stderr: {self.err}")

    def count(self, suffix: str) -> int:
        return sum(line.endswith(suffix + "\n") for line in self.out)


@contextmanager
def following(home: Path, collector: CollectorProcess, *args: str,
              **env: str) -> Iterator[Follower]:
    """Start ``rundial <args>`` and collect its stdout and stderr lines in background threads."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rundial.cli", *args], text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(home, RUNDIAL_ENDPOINT=collector.url, RUNDIAL_API_KEY=collector.api_key,
                    RUNDIAL_WORKSPACE=collector.workspace, RUNDIAL_PROJECT=collector.project,
                    **env))
    follower = Follower(proc)
    for stream, sink in ((proc.stdout, follower.out), (proc.stderr, follower.err)):
        assert stream is not None
        threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")),
                         daemon=True).start()
    try:
        yield follower
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def live(home: Path, collector: CollectorProcess, *args: str) -> AbstractContextManager[Follower]:
    """:func:`following` ``rundial <args> --follow`` with polling too slow to show anything."""
    return following(home, collector, *args, "--follow", "--interval-seconds", "60")


def finish_run(collector: CollectorProcess, run_id: str) -> None:
    api(collector, "POST", f"/api/v1/runs/{run_id}/status", {"status": "completed"})


def ingest_point(collector: CollectorProcess, run_id: str, step: int, value: float) -> None:
    api(collector, "POST", "/api/v1/ingest/metrics", {"points": [
        {"projectId": collector.project, "runId": run_id, "metricKey": "loss", "step": step,
         "timestampMs": 1, "value": value}]})


def test_logs_tail_follow_prints_only_new_lines(home: Path,
                                                shared_collector: CollectorProcess) -> None:
    """A line logged after the tail started is printed once; SIGINT exits 0 without a word."""
    run_id = seed_run(shared_collector, steps=1, log_lines=2)
    with live(home, shared_collector, "logs", "tail", run_id) as follower:
        follower.wait_out(lambda line: line.endswith("line 2\n"), "first table")
        add_logs(shared_collector, run_id, [3])
        follower.wait_out(lambda line: line.endswith("line 3\n"), "followed line")
        follower.proc.send_signal(signal.SIGINT)
        assert follower.proc.wait(timeout=15) == 0
    assert (follower.count("line 1"), follower.count("line 3")) == (1, 1)
    assert follower.err == []


def test_metrics_tail_follow_json_prints_one_document_per_update(
        home: Path, shared_collector: CollectorProcess) -> None:
    """JSON follow prints one ``{"ok", "series"}`` tail document per update; a new step shows up."""
    run_id = seed_run(shared_collector, steps=3, log_lines=0)
    with live(home, shared_collector, "metrics", "tail", run_id, "--keys", "loss",
              "--points", "3", "--json") as follower:
        follower.wait_out(bool, "first document")
        ingest_point(shared_collector, run_id, 99, 0.5)

        def last_steps() -> list[int]:
            doc = json.loads(follower.out[-1])
            return [p["step"] for p in doc["series"]["series"][0]["points"]]

        wait_until(lambda: last_steps() == [1, 2, 99], timeout_seconds=15, message="new step")
        follower.proc.send_signal(signal.SIGINT)
        assert follower.proc.wait(timeout=15) == 0
    assert len(follower.out) == 2
    assert all(json.loads(line)["ok"] is True for line in follower.out)


def test_metrics_follow_streams_live_points_and_exits_when_run_finishes(
        home: Path, shared_collector: CollectorProcess) -> None:
    """Points ingested after the start are printed live; completing the run exits 0."""
    run_id = seed_run(shared_collector, steps=3, log_lines=0)
    with live(home, shared_collector, "metrics", "tail", run_id, "--keys", "loss") as follower:
        follower.wait_out(lambda line: line.split()[:2] == ["loss", "2"], "first table")
        ingest_point(shared_collector, run_id, 7, 0.125)
        ingest_point(shared_collector, run_id, 8, 0.0625)
        follower.wait_out(lambda line: line.endswith("  0.0625\n"), "live point")
        finish_run(shared_collector, run_id)
        assert follower.proc.wait(timeout=15) == 0
    assert [line.split()[1] for line in follower.out if line.startswith("loss ")] == \
        ["0", "1", "2", "7", "8"]
    assert follower.out[-1] == f"run {run_id} finished (completed)\n"


def test_logs_follow_json_filters_live_lines_by_level_and_text(
        home: Path, shared_collector: CollectorProcess) -> None:
    """Live lines below ``--min-level`` or without ``--text`` are never printed."""
    run_id = seed_run(shared_collector, steps=1, log_lines=2)
    with live(home, shared_collector, "logs", "tail", run_id, "--json", "--min-level", "warn",
              "--text", "line 1") as follower:
        follower.wait_out(bool, "first document")
        add_logs(shared_collector, run_id, [10], level="info")
        add_logs(shared_collector, run_id, [21], level="error")
        add_logs(shared_collector, run_id, [12], level="error")
        follower.wait_out(lambda line: "line 12" in line, "error line")
        finish_run(shared_collector, run_id)
        assert follower.proc.wait(timeout=15) == 0
    docs = [json.loads(line) for line in follower.out]
    assert [[row["message"] for row in doc["logs"]["rows"]] for doc in docs] == [[], ["line 12"]]


def test_follow_with_invalid_key_exits_2(cli: Callable[..., CliResult],
                                         shared_collector: CollectorProcess,
                                         as_admin: dict[str, str]) -> None:
    """An unknown API key ends ``--follow`` with exit code 2."""
    run_id = seed_run(shared_collector, steps=1, log_lines=0)
    result = cli("metrics", "tail", run_id, "--follow",
                 env={**as_admin, "RUNDIAL_API_KEY": "rdk_not_a_key"})
    assert result.code == 2, result.err


@pytest.mark.parametrize(("key", "known_run", "exit_code"), [
    ("rdk_not_a_key", True, 2),  # 4401
    (None, False, 1),  # 4404
])
def test_websocket_refusals_map_to_exit_codes(shared_collector: CollectorProcess,
                                              key: str | None, known_run: bool,
                                              exit_code: int) -> None:
    """The stream's 4401 raises exit code 2 and 4404 exit code 1, before any fetch."""
    run_id = seed_run(shared_collector, steps=1, log_lines=0) if known_run else "run_cli_nope"
    client = ApiClient(shared_collector.url, key or shared_collector.api_key)
    source = WebSocketSource(client, run_id, shared_collector.project, lambda: {},
                             MetricsWindow(["loss"], 5), Output(), fallback=[])
    with pytest.raises(CliError) as refused:
        list(source)
    assert refused.value.exit_code == exit_code


def test_follow_without_aiohttp_polls(home: Path, tmp_path: Path,
                                      shared_collector: CollectorProcess) -> None:
    """Without aiohttp follow says so once on stderr and polls; a finished run does not end it."""
    shadow = tmp_path / "shadow"
    (shadow / "aiohttp").mkdir(parents=True)
    (shadow / "aiohttp" / "__init__.py").write_text("raise ImportError('no aiohttp here')\n")
    run_id = seed_run(shared_collector, steps=1, log_lines=2)
    with following(home, shared_collector, "logs", "tail", run_id, "--follow",
                   "--interval-seconds", "0.1", PYTHONPATH=str(shadow)) as follower:
        follower.wait_out(lambda line: line.endswith("line 2\n"), "first table")
        finish_run(shared_collector, run_id)
        add_logs(shared_collector, run_id, [3])
        follower.wait_out(lambda line: line.endswith("line 3\n"), "polled line")
        assert follower.proc.poll() is None
        follower.proc.send_signal(signal.SIGINT)
        assert follower.proc.wait(timeout=15) == 0
    assert len(follower.err) == 1 and "aiohttp is not installed" in follower.err[0]


def test_follow_reconnects_after_collector_restart(home: Path,
                                                   collector: CollectorProcess) -> None:
    """A collector restart (1001) is survived: data ingested after it still arrives."""
    run_id = seed_run(collector, steps=3, log_lines=0)
    with live(home, collector, "metrics", "tail", run_id, "--keys", "loss") as follower:
        follower.wait_out(lambda line: line.split()[:2] == ["loss", "2"], "first table")
        ingest_point(collector, run_id, 5, 0.25)
        follower.wait_out(lambda line: line.split()[:2] == ["loss", "5"], "live point")
        collector.stop()
        collector.start()
        ingest_point(collector, run_id, 6, 0.125)
        follower.wait_out(lambda line: line.split()[:2] == ["loss", "6"],
                          "point after restart")
        finish_run(collector, run_id)
        assert follower.proc.wait(timeout=15) == 0
    assert any("reconnecting" in line for line in follower.err)
    assert sum(line.split()[:2] == ["loss", "5"] for line in follower.out) == 1


def test_logs_window_prints_a_burst_whole_newest_first() -> None:
    """A burst bigger than ``--lines`` comes out in windows that each keep a known line."""
    window = LogsWindow(3, LEVELS, "info", None)
    window.reset({"rows": [{"timestampMs": 1, "sequence": 1, "level": "info", "message": "a"}],
                  "requestId": "r"})
    lines = [{"timestampMs": 2, "sequence": n, "level": level, "message": f"m{n}"}
             for n, level in enumerate(["info", "debug", "warn", "info", "error"])]
    payloads = window.apply({"type": "logs", "lines": lines})
    assert [[row["message"] for row in p["rows"]] for p in payloads] == [
        ["m2", "m0", "a"], ["m4", "m3", "m2"]]
    assert "requestId" not in payloads[0]
    assert window.apply({"type": "logs", "lines": lines[4:]}) == []  # a duplicate


def test_metrics_window_keeps_last_steps_and_superseding_values() -> None:
    """The metrics window keeps the last N steps per tailed key; a repeated step replaces."""
    window = MetricsWindow(["loss"], 2)
    window.reset({"series": [{"metricKey": "loss", "points": [
        {"step": 1, "timestampMs": 1, "value": 1.0}, {"step": 2, "timestampMs": 2,
                                                      "value": 2.0}]}]})
    message = {"type": "metrics", "series": [
        {"metricKey": "loss", "rank": 0, "steps": [0, 2], "timestampsMs": [0, 3],
         "values": [9.0, 2.5]},
        {"metricKey": "acc", "rank": 0, "steps": [5], "timestampsMs": [5], "values": [1.0]}]}
    [payload] = window.apply(message)
    assert payload["series"] == [{"metricKey": "loss", "points": [
        {"step": 1, "timestampMs": 1, "value": 1.0}, {"step": 2, "timestampMs": 3,
                                                      "value": 2.5}]}]
    assert window.apply({"type": "metrics", "series": message["series"][1:]}) == []
