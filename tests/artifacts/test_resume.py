"""Crash safety: a journaled upload killed mid-way is finished by the next process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rundial._artifacts.journal import sha256_file
from rundial._artifacts.uploader import ArtifactUploader, resume_journal
from tests.artifacts.conftest import SMALL_PART_BYTES, target, versions, write_random
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until

PARTS = 24
# The child slows every PUT down so that it is reliably killed in the middle of the upload.
CHILD = r"""
import sys, time
from rundial._artifacts import http
from rundial._artifacts.uploader import ArtifactUploader

slow_put = http.BlobHttp.put_file
def put_file(self, *args, **kwargs):
    time.sleep(0.2)
    return slow_put(self, *args, **kwargs)
http.BlobHttp.put_file = put_file

url, key, ws, proj, spool, path = sys.argv[1:7]
uploader = ArtifactUploader(url, key, {"workspace": ws, "project": proj}, "run-crash", spool,
                            concurrency=1)
assert uploader.checkpoint(path, step=7, keep_last=3)
print("queued", flush=True)
time.sleep(120)
"""


def _staged_parts(collector: CollectorProcess) -> int:
    staging = collector.data_dir / "blobs" / "staging"
    if not staging.exists():
        return 0
    return sum(name.isdigit() for p in staging.glob("*.parts") for name in os.listdir(p))


def _crash_mid_upload(collector: CollectorProcess, spool: Path, source: Path) -> None:
    """Start the upload in a child process and SIGKILL it once a few parts have arrived."""
    args = [collector.url, collector.api_key, collector.workspace, collector.project,
            str(spool), str(source)]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_until(lambda: _staged_parts(collector) >= 3, timeout_seconds=30,
                   message="the child to upload a few parts")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert _staged_parts(collector) < PARTS
    assert len(list((spool / "artifacts" / "journal").glob("*.json"))) == 1


def test_sync_resumes_an_upload_interrupted_by_a_crash(
        small_parts_collector: CollectorProcess, tmp_path: Path) -> None:
    """``resume_journal`` (rundial sync) finishes the job, re-sending only the missing parts."""
    c = small_parts_collector
    source = tmp_path / "model.pt"
    digest = write_random(source, PARTS * SMALL_PART_BYTES)
    spool = tmp_path / "spool"
    _crash_mid_upload(c, spool, source)
    assert resume_journal(spool, c.url, c.api_key, timeout_s=60) == 1
    published = versions(c, "checkpoint")
    assert [(v["version"], v["runId"], v["metadata"]["step"]) for v in published] == [
        (1, "run-crash", 7)]
    assert published[0]["files"][0]["sha256"] == digest
    assert not list((spool / "artifacts" / "journal").glob("*.json"))


def test_next_run_adopts_and_finishes_the_orphaned_job(
        small_parts_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """A new uploader on the same spool adopts the dead process's job and uploads only the rest."""
    c = small_parts_collector
    source = tmp_path / "model.pt"
    write_random(source, PARTS * SMALL_PART_BYTES)
    spool = tmp_path / "spool"
    _crash_mid_upload(c, spool, source)
    already = _staged_parts(c)
    uploader = make_uploader(c, run_id="run-next", spool_dir=spool)
    assert uploader.flush(60), uploader.diagnostics()
    stats = uploader.diagnostics()
    assert stats["adopted_jobs"] == 1 and stats["completed_jobs"] == 1
    assert stats["uploaded_bytes"] == (PARTS - already) * SMALL_PART_BYTES
    handle = uploader.use_artifact("checkpoint:latest")
    assert handle.run_id == "run-crash" and handle.version == 1
    out = handle.download(tmp_path / "restored")
    assert sha256_file(out / "model.pt") == sha256_file(source)


def test_a_live_owner_keeps_its_jobs(small_parts_collector: CollectorProcess,
                                     tmp_path: Path) -> None:
    """Jobs of a process that is still alive are never adopted by another uploader."""
    c = small_parts_collector
    spool = tmp_path / "spool"
    source = tmp_path / "f.bin"
    write_random(source, 1000)
    dead = ArtifactUploader("http://127.0.0.1:9", c.api_key, target(c), "run-live", spool,
                            adopt_orphans=False)
    try:
        assert dead.log_artifact(source)
        other = ArtifactUploader(c.url, c.api_key, target(c), "run-x", spool)
        assert other.flush(10)
        assert other.diagnostics()["adopted_jobs"] == 0
        other.close(5)
    finally:
        dead.close(0.1)
    assert resume_journal(spool, "http://127.0.0.1:9", c.api_key, timeout_s=0.5) == 0
