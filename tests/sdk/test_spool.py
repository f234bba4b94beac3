"""The disk spool: layout, bounds, eviction ranges, quarantine, locks and replay by a later process."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from rundial._spool.layout import LOCK_NAME, parse_entry_name
from rundial._spool.writer_queue import try_lock
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun, refused


def writer_files(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.glob("w_*/*.json.gz"))


def test_layout_is_one_gzip_body_per_batch(make_run: MakeRun, double: CollectorDouble,
                                           tmp_path: Path) -> None:
    """``<spool>/<run>/<writer>/<seq:016d>-<batch_id>.json.gz`` holds the exact HTTP body."""
    double.script["/ingest/metrics"] = [refused()]
    run = make_run()
    run.log({"a": 1})
    run._worker.cycle()
    files = writer_files(tmp_path / "spool" / "run_test")
    assert len(files) == 1
    seq, batch_id = parse_entry_name(files[0].name)  # type: ignore[misc]
    assert seq == 1 and files[0].name == f"{1:016d}-{batch_id}.json.gz"
    body = json.loads(gzip.decompress(files[0].read_bytes()))
    assert body["rows"][0][2] == {"a": 1} and body["writerId"] == files[0].parent.name
    assert (files[0].parent / LOCK_NAME).exists()
    assert not list(files[0].parent.glob("*.tmp"))


def test_byte_bound_evicts_oldest_and_records_lost_steps(make_run: MakeRun, double: CollectorDouble,
                                                         tmp_path: Path) -> None:
    """Over ``spool_max_bytes`` the oldest files go; steps and points lost are recorded."""
    double.script["/ingest/metrics"] = [refused()] * 100
    run = make_run(spool_max_bytes=600, retry_base_delay_seconds=1e-3, retry_max_delay_seconds=1e-3)
    for step in range(20):
        run.log({"a": float(step), "b": 1.0}, step=step)
        run._worker.cycle()
    diag = run.diagnostics()
    assert diag.spool_bytes <= 600
    assert diag.dropped_points_spool_eviction > 0
    lost = diag.lost_step_ranges
    assert lost[0][0] == "run_test" and lost[0][1] == 0
    assert diag.dropped_points_spool_eviction == 2 * (lost[-1][2] - lost[0][1] + 1)
    kept = [json.loads(gzip.decompress(p.read_bytes()))["rows"][0][0]
            for p in writer_files(tmp_path / "spool" / "run_test")]
    assert kept == list(range(lost[-1][2] + 1, 20))


def test_age_bound_evicts_old_files(make_run: MakeRun, double: CollectorDouble, wall: FakeClock) -> None:
    """Files older than ``spool_max_age_seconds`` are evicted."""
    double.script["/ingest/metrics"] = [refused()] * 10
    run = make_run(spool_max_age_seconds=60)
    run.log({"a": 1}, step=0)
    run._worker.cycle()
    wall.advance(120)
    run.log({"a": 1}, step=1)
    run._worker.cycle()
    diag = run.diagnostics()
    assert diag.lost_step_ranges == (("run_test", 0, 0),) and diag.spool_segments == 1


def test_corrupt_file_is_quarantined(make_run: MakeRun, double: CollectorDouble, tmp_path: Path,
                                     clock: FakeClock) -> None:
    """A spooled file that fails its gzip check moves to ``corrupt/`` and the rest is sent."""
    double.script["/ingest/metrics"] = [refused()]
    run = make_run()
    run._worker.spool.cache_bytes = 1 << 40  # force read-back from disk
    run.log({"a": 1}, step=0)
    run._worker.cycle()
    run.log({"a": 1}, step=1)
    run._worker.cycle()
    first = writer_files(tmp_path / "spool" / "run_test")[0]
    first.write_bytes(first.read_bytes()[:-6])
    run._worker.spool.own.entries[0].body = None
    clock.advance(61)
    run._worker.cycle()
    assert double.steps() == [1]
    assert len(os.listdir(tmp_path / "spool" / "corrupt")) == 2


def test_live_writer_is_never_adopted(tmp_path: Path) -> None:
    """A held flock makes another open+flock fail (so a live writer is skipped)."""
    fd = try_lock(tmp_path)
    assert fd is not None
    assert try_lock(tmp_path) is None
    os.close(fd)
    again = try_lock(tmp_path)
    assert again is not None
    os.close(again)


def test_next_process_replays_orphans_fifo_with_the_same_keys(make_run: MakeRun, double: CollectorDouble,
                                                              tmp_path: Path) -> None:
    """An exited writer's batches are adopted by the next run, sent in order, then deleted."""
    double.script["/ingest/metrics"] = [refused()] * 3
    double.script["/runs/start"] = [refused()] * 3
    first = make_run(run_id="run_old")
    for step in range(3):
        first.log({"a": step}, step=step)
        first._worker.drain()
    first.finish(timeout_s=0)
    spooled_keys = [parse_entry_name(p.name)[1]  # type: ignore[index]
                    for p in writer_files(tmp_path / "spool" / "run_old")]
    (tmp_path / "spool" / "run_old" / "w_stray").mkdir()
    (tmp_path / "spool" / "run_old" / "w_stray" / ".x.json.gz.tmp").write_bytes(b"partial")
    double.script.clear()
    second = make_run(run_id="run_new")
    second._worker.cycle()
    assert double.steps("run_old") == [0, 1, 2]
    assert double.keys[:3] == spooled_keys
    starts = [d for _m, p, d in double.calls if p.endswith("/runs/start")]
    assert {s["runId"] for s in starts} == {"run_old", "run_new"}
    statuses = [p for _m, p, _d in double.calls if p.endswith("/status")]
    assert statuses == ["/api/v1/runs/run_old/status"]
    assert not (tmp_path / "spool" / "run_old").exists()


def test_other_endpoints_and_blocked_runs_are_left_alone(make_run: MakeRun, double: CollectorDouble,
                                                          tmp_path: Path) -> None:
    """Orphans recorded for another endpoint are not touched."""
    double.script["/ingest/metrics"] = [refused()]
    old = make_run(run_id="run_elsewhere", endpoint="http://other.test")
    old.log({"a": 1})
    old._worker.cycle()
    old.finish(timeout_s=0)
    double.script.clear()
    new = make_run(run_id="run_here")
    new._worker.cycle()
    assert double.steps("run_elsewhere") == []
    assert writer_files(tmp_path / "spool" / "run_elsewhere")


def test_disabled_spool_keeps_batches_in_bounded_memory(make_run: MakeRun, double: CollectorDouble,
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """spool_enabled=False: failed batches wait in memory (bounded), nothing touches the disk."""
    double.script["/ingest/metrics"] = [refused()] * 50
    run = make_run(spool_enabled=False, queue_capacity=3, retry_base_delay_seconds=1e-3,
                   retry_max_delay_seconds=1e-3)
    for step in range(6):
        run.log({"a": 1}, step=step)
        run._worker.cycle()
    assert run.diagnostics().dropped_points_spool_eviction == 3
    assert not (tmp_path / "spool").exists()
    run.finish(timeout_s=0)
    assert "dropped" in capsys.readouterr().err


def test_run_file_is_written_once_and_restored_when_missing(tmp_path: Path) -> None:
    """run.json is written with the writer directory, not again per batch, and is written back
    before the next batch if something deleted it."""
    from rundial._wire.batch import Batch
    from rundial._diagnostics import Counters
    from rundial._spool.runfile import run_file_path, write_run_file
    from rundial._spool.disk import DiskSpool

    calls: list[Path] = []

    def on_own_dir(writer_dir: Path) -> None:
        calls.append(writer_dir)
        write_run_file(writer_dir.parent, {"runId": "r1"})

    spool = DiskSpool(tmp_path, "r1", "w1", Counters(), max_bytes=1 << 20, max_age_s=3600,
                      memory_max_records=100, on_own_dir=on_own_dir)

    def send_one(seq: int) -> None:
        entry = spool.append(Batch(f"b{seq}", seq, b"\x1f\x8b body", 1, 1, seq, seq))
        spool.remove(spool.own, entry)

    send_one(1)
    send_one(2)
    assert len(calls) == 1
    run_file_path(tmp_path / "r1").unlink()
    send_one(3)
    assert len(calls) == 2 and run_file_path(tmp_path / "r1").exists()
