"""``rundial-spool compact``, ``quarantine restore`` and ``replay`` (against the real collector)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from rundial._spool.writer_queue import try_lock
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.spool_tools.conftest import SpoolResult
from tests.spool_tools.spoolmaker import make_run, rows_body

ENDPOINT = "http://127.0.0.1:8787"


def exported(spool_cli: Callable[..., SpoolResult], spool: Path) -> list[tuple[str, int, float]]:
    out = spool_cli("export", "--spool-dir", str(spool)).out.splitlines()
    return [(r["metricKey"], r["step"], r["value"]) for r in map(json.loads, out)]


def steps_stored(collector: CollectorProcess, run_id: str) -> list[int]:
    status, _, body = request("POST", collector.url + "/api/v1/query/series",
                              {"projectId": collector.project, "runId": run_id,
                               "metricKeys": ["loss"], "maxPointsPerSeries": 10_000},
                              api_key=collector.api_key)
    assert status == 200, body
    series, = body["series"]
    assert series["supersededPoints"] == 0
    return [p["step"] for p in series["points"]]


def test_compact_merges_small_files_without_changing_the_records(
        spool_cli: Callable[..., SpoolResult], spool: Path) -> None:
    """Ten small batches become one file holding the same records in the same order."""
    make_run(spool, "run_c", ENDPOINT, batches=10, steps_per_batch=5, keys=("loss", "acc"))
    before = exported(spool_cli, spool)
    dry = spool_cli("compact", "--spool-dir", str(spool), "--dry-run", "--json").json()
    assert dry["filesMerged"] == 10 and len(list(spool.rglob("*.json.gz"))) == 10
    done = spool_cli("compact", "--spool-dir", str(spool), "--json").json()
    assert done["filesMerged"] == 10 and done["filesWritten"] == 1
    assert len(list(spool.rglob("*.json.gz"))) == 1
    assert exported(spool_cli, spool) == before
    assert spool_cli("verify", "--spool-dir", str(spool)).code == 0


def test_compact_leaves_live_writers_and_corrupt_files_alone(
        spool_cli: Callable[..., SpoolResult], spool: Path) -> None:
    """A locked writer is skipped; a corrupt file splits the merge and stays as it is."""
    live = make_run(spool, "run_live", ENDPOINT, batches=3)
    idle = make_run(spool, "run_idle", ENDPOINT, batches=5)
    idle[2].write_bytes(b"garbage")
    fd = try_lock(live[0].parent)
    try:
        doc = spool_cli("compact", "--spool-dir", str(spool), "--json").json()
    finally:
        os.close(fd)  # type: ignore[arg-type]
    assert doc["skippedLiveWriters"] == 1 and doc["skippedCorrupt"] == [str(idle[2])]
    assert doc["filesMerged"] == 4 and doc["filesWritten"] == 2
    assert all(p.exists() for p in live) and idle[2].read_bytes() == b"garbage"


def test_compacted_spool_replays_every_point(spool_cli: Callable[..., SpoolResult], spool: Path,
                                             shared_collector: CollectorProcess) -> None:
    """After compaction, replay uploads every step exactly once."""
    make_run(spool, "run_compact_replay", shared_collector.url, batches=6, steps_per_batch=7)
    assert spool_cli("compact", "--spool-dir", str(spool)).code == 0
    result = spool_cli("replay", "--spool-dir", str(spool), "--endpoint", shared_collector.url,
                       "--api-key", shared_collector.api_key, "--json")
    assert result.code == 0, result.err
    assert steps_stored(shared_collector, "run_compact_replay") == list(range(42))


def test_replay_dry_run_and_bad_key(spool_cli: Callable[..., SpoolResult], spool: Path,
                                    shared_collector: CollectorProcess) -> None:
    """--dry-run reports and sends nothing; a bad key exits 2 and leaves every file."""
    files = make_run(spool, "run_replay_checks", shared_collector.url, batches=2)
    dry = spool_cli("replay", "--spool-dir", str(spool), "--endpoint", shared_collector.url,
                    "--dry-run", "--json").json()
    assert dry["dryRun"] is True and dry["batches"] == 2
    bad = spool_cli("replay", "--spool-dir", str(spool), "--endpoint", shared_collector.url,
                    "--api-key", "rdk_wrong", "--json")
    assert bad.code == 2 and all(p.exists() for p in files)


def test_rejected_batches_can_be_restored_and_replayed(spool_cli: Callable[..., SpoolResult],
                                                       spool: Path,
                                                       shared_collector: CollectorProcess) -> None:
    """A batch in rejected/ whose run dir is gone is restored with --endpoint and uploaded."""
    body = rows_body("run_restored", range(5), 3)
    name = "run_restored-w_0123456789ab-0000000000000003-abc123.json.gz"
    (spool / "rejected").mkdir()
    (spool / "rejected" / name).write_bytes(body)
    (spool / "rejected" / (name + ".reason")).write_text("HTTP 403 (FORBIDDEN: was wrong key)\n")
    listed = spool_cli("quarantine", "ls", "--spool-dir", str(spool), "--json").json()["files"]
    assert listed[0]["reason"].startswith("HTTP 403") and listed[0]["batchId"] == "abc123"
    refused = spool_cli("quarantine", "restore", "--spool-dir", str(spool), "--json")
    assert refused.code == 1 and "--endpoint" in refused.out
    restored = spool_cli("quarantine", "restore", "--spool-dir", str(spool),
                         "--endpoint", shared_collector.url, "--json")
    assert restored.code == 0 and len(restored.json()["restored"]) == 1
    assert not (spool / "rejected" / name).exists()
    result = spool_cli("replay", "--spool-dir", str(spool), "--endpoint", shared_collector.url,
                       "--api-key", shared_collector.api_key)
    assert result.code == 0, result.err
    assert steps_stored(shared_collector, "run_restored") == list(range(5))


def test_restore_refuses_corrupt_files_unless_forced(spool_cli: Callable[..., SpoolResult],
                                                     spool: Path) -> None:
    """A corrupt quarantined file is not put back (it would only be quarantined again)."""
    make_run(spool, "run_q", ENDPOINT, batches=0)
    name = "run_q-w_0123456789ab-0000000000000001-deadbeef.json.gz"
    (spool / "corrupt").mkdir()
    (spool / "corrupt" / name).write_bytes(b"\x1f\x8b broken")
    refused = spool_cli("quarantine", "restore", "--spool-dir", str(spool), "--json")
    assert refused.code == 1 and "--force" in refused.json()["refused"][0]["error"]
    forced = spool_cli("quarantine", "restore", "--spool-dir", str(spool), "--force")
    assert forced.code == 0
    assert (spool / "run_q" / "w_0123456789ab" / "0000000000000001-deadbeef.json.gz").exists()


def test_restore_never_writes_into_a_live_writer(spool_cli: Callable[..., SpoolResult],
                                                 spool: Path) -> None:
    """Restoring into a writer held by a running process goes to ``<writer>-restored``."""
    files = make_run(spool, "run_lw", ENDPOINT, batches=1)
    name = "run_lw-w_0123456789ab-0000000000000007-feed.json.gz"
    (spool / "rejected").mkdir()
    (spool / "rejected" / name).write_bytes(rows_body("run_lw", range(2), 7))
    fd = try_lock(files[0].parent)
    try:
        assert spool_cli("quarantine", "restore", "--spool-dir", str(spool)).code == 0
    finally:
        os.close(fd)  # type: ignore[arg-type]
    assert (spool / "run_lw" / "w_0123456789ab-restored" / "0000000000000007-feed.json.gz").exists()
