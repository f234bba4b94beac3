"""``rundial-spool inspect`` and ``export``: offline views of what a spool holds."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from rundial._artifacts.journal import ArtifactJob, Journal
from rundial._spool.writer_queue import try_lock
from tests.spool_tools.conftest import SpoolResult
from tests.spool_tools.spoolmaker import make_run, write_offline_run

ENDPOINT = "http://127.0.0.1:8787"


def test_inspect_counts_runs_batches_bytes_and_ages(spool_cli: Callable[..., SpoolResult],
                                                    spool: Path) -> None:
    """inspect sums batches and bytes per run and overall, with oldest/newest and live writers."""
    first = make_run(spool, "run_one", ENDPOINT, batches=3)
    second = make_run(spool, "run_two", ENDPOINT, batches=1, finalStatus={"status": "completed"})
    os.utime(first[0], (1_600_000_000, 1_600_000_000))
    (spool / "rejected").mkdir()
    (spool / "rejected" / "run_one-w_0123456789ab-0000000000000009-x.json.gz").write_bytes(b"x")
    fd = try_lock(second[0].parent)
    try:
        doc = spool_cli("inspect", "--spool-dir", str(spool), "--json").json()
    finally:
        os.close(fd)  # type: ignore[arg-type]
    runs = {r["runId"]: r for r in doc["runs"]}
    assert runs["run_one"]["batches"] == 3
    assert runs["run_one"]["bytes"] == sum(p.stat().st_size for p in first)
    assert runs["run_one"]["oldestMs"] == 1_600_000_000_000
    assert runs["run_two"]["liveWriters"] == 1 and runs["run_two"]["finalStatus"] == {
        "status": "completed"}
    assert doc["totals"]["batches"] == 4 and doc["totals"]["runs"] == 2
    assert doc["totals"]["oldestMs"] == 1_600_000_000_000
    assert doc["quarantine"] == {"rejected": 1, "corrupt": 0, "artifactJobsRejected": 0}
    human = spool_cli("inspect", "--spool-dir", str(spool))
    assert "total: 2 runs, 4 batches" in human.out


def test_inspect_of_a_missing_spool_is_empty(spool_cli: Callable[..., SpoolResult],
                                             tmp_path: Path) -> None:
    """A spool directory that does not exist is simply empty (exit 0)."""
    doc = spool_cli("inspect", "--spool-dir", str(tmp_path / "nope"), "--json").json()
    assert doc["exists"] is False and doc["totals"]["batches"] == 0


def test_export_jsonl_of_a_real_sdk_spool(spool_cli: Callable[..., SpoolResult],
                                          spool: Path) -> None:
    """Records written by the real SDK in offline mode come back point for point."""
    run_id = write_offline_run(spool, ENDPOINT, 25)
    result = spool_cli("export", "--spool-dir", str(spool))
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 50 and {r["runId"] for r in records} == {run_id}
    loss = sorted((r["step"], r["value"]) for r in records if r["metricKey"] == "loss")
    assert loss == [(step, 1.0 / (step + 1)) for step in range(25)]


def test_export_csv_to_a_file_skips_corrupt_batches_whole(spool_cli: Callable[..., SpoolResult],
                                                          spool: Path, tmp_path: Path) -> None:
    """A truncated batch contributes no row at all; the others are exported; exit code is 1."""
    files = make_run(spool, "run_csv", ENDPOINT, batches=3, steps_per_batch=4)
    files[1].write_bytes(files[1].read_bytes()[:-1])
    out = tmp_path / "spool.csv"
    result = spool_cli("export", "--spool-dir", str(spool), "--format", "csv",
                       "--out", str(out), "--json")
    assert result.code == 1 and "skipped" in result.err
    doc = result.json()
    assert doc["records"] == 8 and len(doc["skipped"]) == 1
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3, 8, 9, 10, 11]


def test_export_filters_by_run(spool_cli: Callable[..., SpoolResult], spool: Path) -> None:
    """--run limits the export to one run's records."""
    make_run(spool, "run_x", ENDPOINT, batches=1, steps_per_batch=2)
    make_run(spool, "run_y", ENDPOINT, batches=1, steps_per_batch=3)
    result = spool_cli("export", "--spool-dir", str(spool), "--run", "run_y")
    assert [json.loads(line)["runId"] for line in result.out.splitlines()] == ["run_y"] * 3


def test_inspect_lists_pending_artifact_jobs(spool_cli: Callable[..., SpoolResult], spool: Path,
                                             tmp_path: Path) -> None:
    """Journaled artifact jobs are counted per run and in total; their folder is not a run."""
    make_run(spool, "run_art", ENDPOINT, batches=1)
    journal = Journal(spool)
    journal.open()
    journal.add(ArtifactJob(project={"projectId": "p"}, run_id="run_art", name="ckpt",
                            endpoint=ENDPOINT, source=str(tmp_path)))
    doc = spool_cli("inspect", "--spool-dir", str(spool), "--json").json()
    journal.close()
    assert [r["runId"] for r in doc["runs"]] == ["run_art"]
    assert doc["runs"][0]["artifactJobs"] == 1 and doc["totals"]["artifactJobs"] == 1
    job, = doc["artifactJobs"]["jobs"]
    assert (job["runId"], job["name"], job["endpoint"]) == ("run_art", "ckpt", ENDPOINT)
