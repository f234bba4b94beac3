"""The uploader when threads or executors are unavailable, as at interpreter exit (#13.13)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rundial._artifacts import upload_worker
from rundial._artifacts.part_pool import PartPool
from rundial._artifacts.uploader import ArtifactUploader
from tests.artifacts.conftest import versions, write_random
from tests.helpers.collector_proc import CollectorProcess


def _refuse_new_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``Thread.start`` fail as it does from Python 3.12 on during interpreter shutdown."""
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")
    monkeypatch.setattr(threading.Thread, "start", refuse)


def test_with_no_thread_available_close_uploads_on_the_calling_thread(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An uploader first started at exit (no thread can start) still uploads within close()."""
    path = tmp_path / "at-exit.bin"
    write_random(path, 3 << 20)
    _refuse_new_threads(monkeypatch)
    uploader = make_uploader(shared_collector, run_id="run-no-threads")
    assert uploader.checkpoint(path, name="no-threads")
    assert uploader.close(30.0), uploader.diagnostics()
    stats = uploader.diagnostics()
    assert (stats["completed_jobs"], stats["rejected_jobs"], stats["journaled_jobs"]) == (1, 0, 0)
    assert [v["version"] for v in versions(shared_collector, "no-threads")] == [1]


def test_a_failure_of_ours_keeps_the_job_journaled_for_the_next_process(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error that is not the server's verdict (here the one concurrent.futures raises at
    exit) never moves the job to rejected/: the next uploader on the spool uploads it."""
    path, spool = tmp_path / "kept.bin", tmp_path / "spool"
    write_random(path, 4096)
    real = upload_worker.execute

    def shutting_down(*args: Any) -> Any:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr("rundial._artifacts.upload_worker.execute", shutting_down)
    first = make_uploader(shared_collector, run_id="run-kept", spool_dir=spool)
    assert first.checkpoint(path, name="kept")
    assert first.flush(30.0)
    stats = first.diagnostics()
    assert (stats["kept_jobs"], stats["rejected_jobs"], stats["journaled_jobs"]) == (1, 0, 1)
    assert "interpreter shutdown" in stats["last_error"]
    first.close(5.0)
    assert list((spool / "artifacts" / "rejected").glob("*.json")) == []
    monkeypatch.setattr("rundial._artifacts.upload_worker.execute", real)
    second = make_uploader(shared_collector, run_id="run-kept", spool_dir=spool)
    assert second.flush(30.0) and second.diagnostics()["completed_jobs"] == 1
    assert [v["version"] for v in versions(shared_collector, "kept")] == [1]


def test_part_pool_runs_calls_inline_without_threads_or_after_shutdown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PartPool never refuses work: inline when no thread started, and after shutdown."""
    pool = PartPool(2, "test-pool")
    assert pool.threads == 2 and pool.submit(pow, 2, 10).result(timeout=10) == 1024
    pool.shutdown(wait=True)
    done = pool.submit(threading.current_thread)
    assert done.done() and done.result() is threading.current_thread()
    _refuse_new_threads(monkeypatch)
    inline = PartPool(4, "test-inline")
    assert inline.threads == 0
    failed = inline.submit(int, "x")
    assert failed.done() and isinstance(failed.exception(), ValueError)
