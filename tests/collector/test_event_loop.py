"""``rundial-collector serve --event-loop``: the served collector runs on the loop chosen
(uvloop by default where installed), ingests, reads back and drains on SIGTERM on it; a bad
or unavailable choice exits 2 before anything starts."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from rundial_collector.__main__ import main
from rundial_collector.eventloop import loop_factory
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import series_stats

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None
V1 = "/api/v1"


def _served_loop(proc: CollectorProcess) -> str:
    found = re.findall(r"listening on http://\S+ \(.*; event loop: (\w+)\)", proc.log_text())
    assert found, proc.log_text()
    return str(found[-1])


def _stored(proc: CollectorProcess, run_id: str) -> int:
    return sum(total for total, _ in series_stats(proc, run_id, ["loss", "acc"]).values())


def _ingest_and_read_back(proc: CollectorProcess, run_id: str) -> int:
    rows = [[step, 1_700_000_000_000 + step, {"loss": step * 0.5, "acc": 1.0}]
            for step in range(100)]
    status, _, body = request("POST", f"{proc.url}{V1}/ingest/metrics", api_key=proc.api_key,
                              body={"workspace": proc.workspace, "project": proc.project,
                                    "runId": run_id, "rows": rows}, gzip_body=True)
    assert status == 202 and body["accepted"] == 200, body
    return _stored(proc, run_id)


@pytest.mark.parametrize("choice", [None, "asyncio", "uvloop"])
def test_the_served_collector_runs_ingests_and_drains_on_the_chosen_loop(
        tmp_path: Path, choice: str | None) -> None:
    if choice == "uvloop" and not HAS_UVLOOP:
        pytest.skip("uvloop is not installed")
    env = {} if choice is None else {"RUNDIAL_COLLECTOR_EVENT_LOOP": choice}
    proc = CollectorProcess(tmp_path / "data", env)
    proc.start()
    try:
        expected = choice or ("uvloop" if HAS_UVLOOP else "asyncio")
        assert _served_loop(proc) == expected
        assert _ingest_and_read_back(proc, "loop-run") == 200
    finally:
        proc.stop()
    log = proc.log_text()
    assert "shutting down: draining the write queue" in log and log.rstrip().endswith("stopped")
    proc.start()  # what was answered 202 before SIGTERM is there after the restart
    try:
        assert _stored(proc, "loop-run") == 200
    finally:
        proc.stop()


def test_an_unknown_event_loop_exits_2_before_binding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    monkeypatch.setenv("RUNDIAL_COLLECTOR_EVENT_LOOP", "trio")
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path / "data")]) == 2
    assert "event loop must be one of auto, uvloop, asyncio, got 'trio'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
    with pytest.raises(SystemExit) as exited:  # the flag is checked by argparse
        main(["serve", "--event-loop", "trio", "--data-dir", str(tmp_path / "data")])
    assert exited.value.code == 2


def test_uvloop_asked_for_but_missing_is_a_clear_error_and_auto_falls_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # importing it now raises ImportError
    with pytest.raises(ValueError, match="the uvloop package is not installed"):
        loop_factory("uvloop")
    assert loop_factory("auto") is None and loop_factory("asyncio") is None
