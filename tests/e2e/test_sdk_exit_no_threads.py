"""A run whose worker was never started, used where no thread can start (an atexit hook from
Python 3.12 on): logging does not raise and the finish runs inline, losing nothing (issue
13.13's class: exit paths that need a new thread)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.e2e_support import point_count, run_details


def test_a_lazy_run_finishes_inline_when_no_thread_can_start(
        shared_collector: CollectorProcess, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    c = shared_collector
    run = rd.init(workspace=c.workspace, project=c.project, endpoint=c.url, api_key=c.api_key,
                  spool_directory=str(tmp_path / "spool"), start_worker_on_init=False,
                  system_metrics=True)
    assert isinstance(run, rd.Run)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert run.log({"loss": 0.5}, step=0) is True  # the first log starts a lazy worker
    assert run.finish(timeout_s=20) is True
    monkeypatch.undo()
    assert point_count(c, run.id, "loss") == 1
    status, details = run_details(c, run.id)
    assert status == 200 and details["status"] == "completed"
