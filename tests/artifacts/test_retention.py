"""Retention: keep-last N per (run, name) at finalize, aliases protect, blobs really go away."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rundial._artifacts.uploader import ArtifactUploader
from tests.artifacts.conftest import api, blob_files, target, versions, write_random
from tests.artifacts.test_bad_input import entry
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.both_stores  # retention and GC are store behaviour: SQLite, PostgreSQL
MiB = 1024 * 1024


def _checkpoints(uploader: ArtifactUploader, tmp_path: Path, count: int, keep_last: int | None,
                 size: int = MiB) -> list[Path]:
    """Log ``count`` distinct checkpoints (one at a time, in order) and wait for them."""
    paths = []
    for step in range(count):
        path = tmp_path / f"ckpt-{step}" / "model.pt"
        write_random(path, size + step)
        assert uploader.checkpoint(path, step=step, keep_last=keep_last)
        assert uploader.flush(30), uploader.diagnostics()
        paths.append(path)
    return paths


def test_keep_last_deletes_old_versions_and_their_blobs(
        collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """With keep_last=2, only the two newest checkpoints of the run survive, on disk too."""
    uploader = make_uploader(collector, run_id="run-retain")
    _checkpoints(uploader, tmp_path, 5, keep_last=2)
    live = versions(collector, "checkpoint")
    assert [v["version"] for v in live] == [4, 5]
    assert live[-1]["aliases"] == ["latest"]
    deleted = [v for v in versions(collector, "checkpoint", include_deleted=True)
               if v["state"] == "deleted"]
    assert [v["version"] for v in deleted] == [1, 2, 3]
    assert {p.name for p in blob_files(collector)} == {
        f["sha256"] for v in live for f in v["files"]}
    status, _, payload = api(collector, "POST", "/api/v1/artifacts/use",
                             {**target(collector), "runId": "r", "artifactRef": "checkpoint:v2"})
    assert status == 404, payload


def test_aliased_versions_and_other_runs_are_never_deleted(
        collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """A version holding a user alias survives retention; other runs' versions are untouched."""
    other = make_uploader(collector, run_id="run-other")
    _checkpoints(other, tmp_path / "other", 1, keep_last=1)
    uploader = make_uploader(collector, run_id="run-main")
    best = tmp_path / "best.pt"
    write_random(best, MiB)
    assert uploader.log_artifact(best, name="checkpoint", type="checkpoint",
                                 aliases=["best"], retention_policy={"strategy": "keep_last",
                                                                     "keepLast": 1})
    assert uploader.flush(30)
    _checkpoints(uploader, tmp_path / "main", 3, keep_last=1)
    live = {v["version"]: v for v in versions(collector, "checkpoint")}
    assert sorted(live) == [1, 2, 5]
    assert live[1]["runId"] == "run-other" and live[2]["aliases"] == ["best"]
    assert uploader.use_artifact("checkpoint:best").version == 2


def test_finalize_reports_reclaimed_bytes(collector: CollectorProcess) -> None:
    """The finalize that triggers retention reports the deleted versions and freed bytes."""
    answers = [_publish(collector, bytes([i]) * 4096, keep_last=1) for i in range(3)]
    assert answers[0]["retention"] == {"deletedVersions": [], "deletedBlobs": 0,
                                       "reclaimedBytes": 0}
    assert answers[2]["retention"] == {"deletedVersions": [2], "deletedBlobs": 1,
                                       "reclaimedBytes": 4096}
    assert len(blob_files(collector)) == 1


def test_checkpoints_keep_five_without_a_hint(collector: CollectorProcess) -> None:
    """A checkpoint finalized without a retention hint keeps the default last five."""
    for i in range(7):
        _publish(collector, bytes([i]) * 100, keep_last=None)
    assert [v["version"] for v in versions(collector, "ck")] == [3, 4, 5, 6, 7]


def test_shared_blobs_survive_while_any_version_uses_them(collector: CollectorProcess) -> None:
    """Deleting a version whose content another live version shares frees nothing."""
    shared = b"s" * 2048
    _publish(collector, shared, keep_last=1, name="left")
    _publish(collector, shared, keep_last=1, name="right")
    answer = _publish(collector, b"new" * 10, keep_last=1, name="left")
    assert answer["retention"]["deletedVersions"] == [1]
    assert answer["retention"]["reclaimedBytes"] == 0
    assert len(blob_files(collector)) == 2


def _publish(c: CollectorProcess, data: bytes, keep_last: int | None,
             name: str = "ck") -> dict[str, Any]:
    """initiate → PUT → finalize of one checkpoint file; the finalize answer."""
    body: dict[str, Any] = {**target(c), "runId": "run-raw", "name": name,
                            "artifactType": "checkpoint", "aliases": ["latest"],
                            "files": [entry(data, "model.pt")]}
    if keep_last is not None:
        body["retentionPolicy"] = {"strategy": "keep_last", "keepLast": keep_last}
    status, _, started = api(c, "POST", "/api/v1/artifacts/initiate", body)
    assert status == 200, started
    for plan in started["files"]:
        assert request("PUT", plan["url"], raw=data)[0] == 200
    status, _, done = api(c, "POST", "/api/v1/artifacts/finalize", {
        **target(c), "runId": "run-raw", "artifactId": started["artifactId"],
        "uploadId": started["uploadId"]})
    assert status == 200, done
    return dict(done)


@pytest.fixture
def short_ttl_collector(tmp_path: Path, database_url: str) -> Iterator[CollectorProcess]:
    """A collector that expires unfinalized uploads after one second."""
    proc = CollectorProcess(tmp_path / "ttl-data", database_url=database_url,
                            extra_env={"RUNDIAL_COLLECTOR_ARTIFACT_PENDING_TTL_SECONDS": "1"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_gc_collects_blobs_of_abandoned_uploads(short_ttl_collector: CollectorProcess) -> None:
    """An upload never finalized expires, and the gc route deletes its blob and says how much."""
    c = short_ttl_collector
    data = b"abandoned" * 1000
    status, _, started = api(c, "POST", "/api/v1/artifacts/initiate", {
        **target(c), "runId": "run-gc", "name": "orphan", "files": [entry(data)]})
    assert request("PUT", started["files"][0]["url"], raw=data)[0] == 200
    assert len(blob_files(c)) == 1

    def collect() -> int:
        status, _, swept = api(c, "POST", "/api/v1/artifacts/gc")
        assert status == 200, swept
        return int(swept["reclaimedBytes"])

    assert wait_until(collect, timeout_seconds=10, interval_seconds=0.2) == len(data)
    assert blob_files(c) == []
