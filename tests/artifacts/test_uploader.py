"""The SDK uploader's contract: non-blocking calls, bounded queue, retries, rejects."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import numpy as np

from rundial._artifacts import upload_job, upload_worker
from rundial._artifacts.journal import ManifestFile, sha256_file
from rundial._artifacts.uploader import ArtifactUploader
from rundial._media import Image
from tests.artifacts.conftest import target, versions, write_random
from tests.helpers.collector_proc import CollectorProcess

UNREACHABLE = "http://127.0.0.1:9"


@pytest.mark.serial
def test_calls_return_at_once_and_hash_on_the_worker(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """checkpoint() of a 256 MB file returns in milliseconds; hashing runs on the worker."""
    seen: list[str] = []
    real = upload_job.build_manifest

    def spy(source: Path, skipped: list[str] | None = None) -> list[ManifestFile]:
        seen.append(threading.current_thread().name)
        return real(source, skipped)

    monkeypatch.setattr(upload_job, "build_manifest", spy)
    big = tmp_path / "sparse.bin"
    with open(big, "wb") as fh:
        fh.truncate(256 * 1024 * 1024)
    uploader = make_uploader(shared_collector, run_id="run-nonblocking")
    started = time.perf_counter()
    assert uploader.checkpoint(big, step=1, name="sparse")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.05, elapsed
    assert uploader.flush(60), uploader.diagnostics()
    assert seen == ["rundial-artifacts"]


def test_missing_paths_and_bad_arguments_raise(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """A missing path, keep_last < 1 and an empty ref raise at once, queueing nothing."""
    uploader = make_uploader(shared_collector)
    with pytest.raises(ValueError):
        uploader.log_artifact(tmp_path / "nope")
    (tmp_path / "x").write_bytes(b"x")
    with pytest.raises(ValueError):
        uploader.checkpoint(tmp_path / "x", keep_last=0)
    with pytest.raises(ValueError):
        uploader.use_artifact(" ")
    with pytest.raises(TypeError):
        uploader.log_media("k", 0, 1.5, 0)
    assert uploader.diagnostics()["queued_jobs"] == 0


def test_a_full_queue_drops_and_counts(shared_collector: CollectorProcess,
                                       tmp_path: Path) -> None:
    """Beyond queue_capacity jobs, log_artifact returns False and counts the drop."""
    (tmp_path / "x").write_bytes(b"x")
    uploader = ArtifactUploader(UNREACHABLE, "k", target(shared_collector), "run-full",
                                tmp_path / "spool", queue_capacity=2)
    try:
        assert [uploader.log_artifact(tmp_path / "x") for _ in range(3)] == [True, True, False]
        assert uploader.diagnostics()["dropped_queue_full"] == 1
        assert uploader.diagnostics()["journaled_jobs"] == 2
    finally:
        assert uploader.close(0.2) is False
    assert len(list((tmp_path / "spool" / "artifacts" / "journal").glob("*.json"))) == 2


def test_media_values_have_their_own_budget(shared_collector: CollectorProcess,
                                            tmp_path: Path) -> None:
    """A logged table of many images is queued whole while the uploader is behind: media values
    do not count against ``queue_capacity`` (found by W&B's example that logs a 32-image table:
    with 64 job slots the table itself was dropped, silently)."""
    uploader = ArtifactUploader(UNREACHABLE, "k", target(shared_collector), "run-media",
                                tmp_path / "spool", queue_capacity=2)
    pixels = np.zeros((28, 28, 3), dtype=np.uint8)
    try:
        accepted = [uploader.log_media("preds/image", 1, Image(pixels), 0) for _ in range(200)]
        assert all(accepted) and uploader.diagnostics()["dropped_queue_full"] == 0
        (tmp_path / "x").write_bytes(b"x")
        assert [uploader.log_artifact(tmp_path / "x") for _ in range(3)] == [True, True, False]
    finally:
        with pytest.warns(RuntimeWarning, match="media values were not uploaded"):
            uploader.close(0.2)


def test_a_spent_media_budget_drops_counts_and_warns(shared_collector: CollectorProcess,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """When the media budget is spent (a long outage), a media value is dropped, counted, and
    the first drop is warned about."""
    monkeypatch.setattr(upload_worker, "MEDIA_QUEUE_MAX_BYTES", 28 * 28 * 3 * 3)
    uploader = ArtifactUploader(UNREACHABLE, "k", target(shared_collector), "run-media-full",
                                tmp_path / "spool")
    pixels = np.zeros((28, 28, 3), dtype=np.uint8)
    try:
        with pytest.warns(RuntimeWarning, match="media upload queue is full"):
            accepted = [uploader.log_media("img", step, Image(pixels), 0) for step in range(5)]
        assert accepted == [True, True, True, False, False]
        assert uploader.diagnostics()["dropped_queue_full"] == 2
    finally:
        with pytest.warns(RuntimeWarning, match="media values were not uploaded"):
            uploader.close(0.2)


def test_media_still_queued_at_close_are_counted_and_warned(shared_collector: CollectorProcess,
                                                            tmp_path: Path) -> None:
    """Media values are not journaled: those a close's deadline cuts off are lost, so the user
    is told, not only the counter."""
    uploader = ArtifactUploader(UNREACHABLE, "k", target(shared_collector), "run-media-close",
                                tmp_path / "spool")
    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
    assert all(uploader.log_media("img", step, Image(pixels), 0) for step in range(3))
    with pytest.warns(RuntimeWarning, match=r"\d logged media values were not uploaded") as seen:
        assert uploader.close(0.1) is False
    lost = uploader.diagnostics()["dropped_media_on_close"]
    assert 1 <= lost <= 3 and f"{lost} logged media values" in str(seen[0].message)


def test_a_file_changed_during_upload_is_rehashed(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the source changes after hashing, the 409 leads to a re-hash and the new content."""
    path = tmp_path / "ckpt.bin"
    write_random(path, 4096)
    real = upload_job.build_manifest
    calls: list[int] = []

    def overwrite_after_hashing(source: Path, skipped: list[str] | None = None
                                ) -> list[ManifestFile]:
        manifest = real(source, skipped)
        if not calls:
            path.write_bytes(os.urandom(4096))
        calls.append(1)
        return manifest

    monkeypatch.setattr(upload_job, "build_manifest", overwrite_after_hashing)
    uploader = make_uploader(shared_collector, run_id="run-changed")
    assert uploader.log_artifact(path, name="changing")
    assert uploader.flush(30), uploader.diagnostics()
    assert len(calls) == 2 and uploader.diagnostics()["retried_attempts"] == 1
    (published,) = versions(shared_collector, "changing")
    assert published["files"][0]["sha256"] == sha256_file(path)


def test_rejected_jobs_are_kept_aside_with_the_reason(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """A job the collector refuses (400) is not retried; its journal entry moves to rejected/."""
    (tmp_path / "x").write_bytes(b"x")
    spool = tmp_path / "spool"
    uploader = make_uploader(shared_collector, spool_dir=spool)
    assert uploader.log_artifact(tmp_path / "x", name="bad:name")
    assert uploader.flush(30)
    stats = uploader.diagnostics()
    assert (stats["rejected_jobs"], stats["journaled_jobs"]) == (1, 0)
    assert "HTTP 400" in stats["last_error"]
    (kept,) = (spool / "artifacts" / "rejected").glob("*.json")
    assert "INVALID_REQUEST" in orjson.loads(kept.read_bytes())["rejectedReason"]


def test_a_collector_outage_is_retried_until_it_returns(
        collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """Uploads queued while the collector is down complete once it is back."""
    path = tmp_path / "during-outage.bin"
    write_random(path, 10_000)
    collector.stop()
    uploader = make_uploader(collector, run_id="run-outage")
    assert uploader.log_artifact(path, name="outage")
    assert not uploader.flush(1.5)
    collector.start()
    assert uploader.flush(30), uploader.diagnostics()
    assert uploader.diagnostics()["retried_attempts"] >= 1
    assert len(versions(collector, "outage")) == 1
