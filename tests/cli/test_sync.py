"""``rundial sync``: upload what crashed or offline runs left behind, exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rundial._artifacts.journal import ArtifactJob, Journal
from tests.cli.clirun import CliResult, cli_env
from tests.cli.seeding import api
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.spool_tools.spoolmaker import OFFLINE_WRITER, make_run, write_offline_run

STEPS = 300


def series(collector: CollectorProcess, run_id: str, key: str = "loss") -> dict[str, Any]:
    """Every resolved point of one series, with the collector's superseded-row count."""
    status, _, body = request("POST", collector.url + "/api/v1/query/series",
                              {"projectId": collector.project, "runId": run_id,
                               "metricKeys": [key], "maxPointsPerSeries": 10_000, "mode": "tail"},
                              api_key=collector.api_key)
    assert status in (200, 404), body
    if status == 404 or not body["series"]:
        return {"points": [], "supersededPoints": 0}
    return body["series"][0]


def batch_files(root: Path) -> list[Path]:
    """Every spooled batch under ``root``; a directory the SDK removes mid-walk is skipped.

    ``Path.rglob`` raises when a directory vanishes between listing and scanning it, which the
    syncing CLI does as it finishes runs; ``os.walk`` skips such directories.
    """
    return sorted(Path(folder) / name for folder, _, names in os.walk(root)
                  for name in names if name.endswith(".json.gz"))


def start_offline_writer(spool: Path, endpoint: str, steps: int,
                         env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """An offline SDK run that logs ``steps`` steps, spools them and then waits on stdin."""
    writer = subprocess.Popen([sys.executable, "-c", OFFLINE_WRITER, endpoint, str(spool),
                               str(steps), "hold"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    assert writer.stdout is not None
    run_id = writer.stdout.readline().strip()
    assert writer.stdout.readline().strip() == "SPOOLED"
    return writer, run_id


def test_sync_after_kill_9_uploads_everything_once(cli: Callable[..., CliResult],
                                                   shared_collector: CollectorProcess,
                                                   home: Path, tmp_path: Path) -> None:
    """An offline run SIGKILLed mid-way loses nothing; a second sync uploads nothing."""
    spool = tmp_path / "spool"
    writer, run_id = start_offline_writer(spool, shared_collector.url, STEPS, cli_env(home))
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert batch_files(spool)
    env = {"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": shared_collector.api_key}
    first = cli("sync", str(spool), "--json", env=env)
    assert first.code == 0, first.err
    assert first.json()["uploaded"] >= 1 and first.json()["pending"] == 0
    second = cli("sync", str(spool), "--json", env=env)
    assert second.code == 0 and second.json()["uploaded"] == 0
    assert batch_files(spool) == []
    for key in ("loss", "acc"):
        got = series(shared_collector, run_id, key)
        assert [p["step"] for p in got["points"]] == list(range(STEPS))
        assert got["supersededPoints"] == 0  # no row was stored twice


def test_resending_already_uploaded_files_stores_nothing_twice(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess,
        tmp_path: Path) -> None:
    """Files that reappear after upload (crash before delete) are answered as duplicates."""
    spool, backup = tmp_path / "spool", tmp_path / "backup"
    run_id = write_offline_run(spool, shared_collector.url, 50)
    shutil.copytree(spool, backup)
    env = {"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": shared_collector.api_key}
    assert cli("sync", "--spool-dir", str(spool), env=env).code == 0
    shutil.rmtree(spool)
    shutil.copytree(backup, spool)
    again = cli("sync", "--spool-dir", str(spool), "--json", env=env)
    assert again.code == 0 and again.json()["uploaded"] >= 1
    got = series(shared_collector, run_id)
    assert len(got["points"]) == 50 and got["supersededPoints"] == 0
    assert api(shared_collector, "GET", f"/api/v1/workspaces/test-ws/projects/test-proj/runs/"
                                        f"{run_id}")["status"] == "completed"


def test_a_wrong_key_exits_2_and_moves_nothing(cli: Callable[..., CliResult],
                                               shared_collector: CollectorProcess,
                                               tmp_path: Path) -> None:
    """A rejected key is caught before any upload: exit 2, every file still in place."""
    files = make_run(tmp_path, "run_sync_badkey", shared_collector.url)
    result = cli("sync", str(tmp_path), "--json",
                 env={"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": "rdk_nope"})
    assert result.code == 2
    assert batch_files(tmp_path) == sorted(files)


def test_collector_down_exits_1_and_keeps_the_files(cli: Callable[..., CliResult],
                                                    tmp_path: Path) -> None:
    """No collector: exit 1 with a one-line error; nothing is deleted."""
    files = make_run(tmp_path, "run_sync_down", "http://127.0.0.1:9")
    result = cli("sync", str(tmp_path),
                 env={"RUNDIAL_ENDPOINT": "http://127.0.0.1:9", "RUNDIAL_API_KEY": "k"})
    assert result.code == 1 and "cannot reach" in result.err
    assert batch_files(tmp_path) == sorted(files)


def test_dry_run_sends_nothing_and_names_other_endpoints(cli: Callable[..., CliResult],
                                                         shared_collector: CollectorProcess,
                                                         tmp_path: Path) -> None:
    """--dry-run reports batches for this endpoint and runs recorded for another one."""
    spool = tmp_path / "spool"
    make_run(spool, "run_sync_dry", shared_collector.url, batches=2)
    make_run(spool, "run_sync_elsewhere", "http://elsewhere:1", batches=1)
    result = cli("sync", str(spool), "--dry-run", "--json",
                 env={"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": "unused"})
    doc = result.json()
    assert result.code == 0 and doc["dryRun"] is True and doc["batches"] == 2
    assert doc["otherEndpointRuns"] == [{"runId": "run_sync_elsewhere",
                                         "endpoint": "http://elsewhere:1"}]
    assert len(batch_files(spool)) == 3


def test_sync_watch_uploads_while_an_offline_run_is_still_writing(
        home: Path, shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """--watch uploads a live writer's batches before it exits, then the rest and its status."""
    spool = tmp_path / "spool"
    env = cli_env(home, RUNDIAL_ENDPOINT=shared_collector.url,
                  RUNDIAL_API_KEY=shared_collector.api_key)
    writer, run_id = start_offline_writer(spool, shared_collector.url, 40, env)
    watcher = subprocess.Popen([sys.executable, "-m", "rundial.cli", "sync", str(spool),
                                "--watch", "--interval-seconds", "0.1", "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(series(shared_collector, run_id)["points"]) == 40,
                   timeout_seconds=30, message="live upload")
        assert writer.poll() is None  # the offline run is still alive and holding its lock
        assert writer.stdin is not None
        writer.stdin.close()  # the script returns; the SDK's exit hook finishes the run
        writer.wait(timeout=30)
        wait_until(lambda: batch_files(spool) == [], timeout_seconds=30, message="drained")
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=30)
    finally:
        for proc in (writer, watcher):
            if proc.poll() is None:
                proc.kill()
    assert watcher.returncode == 0, err
    assert '"liveUploaded": 1' in out or '"liveUploaded": 2' in out
    got = series(shared_collector, run_id)
    assert len(got["points"]) == 40 and got["supersededPoints"] == 0


def test_sync_resumes_an_interrupted_artifact_upload(cli: Callable[..., CliResult],
                                                     shared_collector: CollectorProcess,
                                                     tmp_path: Path) -> None:
    """A journaled artifact job left by a dead process is uploaded by sync and counted."""
    spool, source = tmp_path / "spool", tmp_path / "model.bin"
    source.write_bytes(b"weights" * 1000)
    journal = Journal(spool)
    journal.open()
    journal.add(ArtifactJob(project={"workspace": "test-ws", "project": "test-proj"},
                            run_id="run_sync_artifact", name="model", endpoint=shared_collector.url,
                            source=str(source), artifact_type="model"))
    journal.close()  # the owning process is gone: its job is adoptable
    env = {"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": shared_collector.api_key}
    result = cli("sync", str(spool), "--json", env=env)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["artifactJobsUploaded"] == 1 and doc["artifactJobsPending"] == 0
    versions = api(shared_collector, "GET", "/api/v1/artifacts/versions?projectId=test-proj"
                                            "&name=model")
    version, = versions["versions"]
    assert (version["runId"], version["state"], version["sizeBytes"]) == \
        ("run_sync_artifact", "ready", 7000)
    assert not list((spool / "artifacts" / "journal").glob("*.json"))
