"""``rundial-spool`` on a spool holding both metric formats: wide rows and columns bodies."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from rundial._wire import columns
from rundial._wire.batch import gzip_bytes
from tests.helpers.collector_proc import CollectorProcess
from tests.spool_tools.conftest import SpoolResult
from tests.spool_tools.spoolmaker import WRITER_ID, add_batch, add_run, rows_body
from tests.spool_tools.test_compact_quarantine_replay import exported, steps_stored

ENDPOINT = "http://127.0.0.1:8787"
KEYS = ("loss", "acc")


def columns_body(run_id: str, steps: range, seq: int) -> bytes:
    """A gzip'd columns body holding what :func:`rows_body` holds for the same arguments."""
    header = {"workspace": "test-ws", "project": "test-proj", "runId": run_id,
              "writerId": WRITER_ID, "seq": seq}
    count = len(steps)
    values = [struct.pack(f"<{count}d", *(s + i / 10 for s in steps)) for i in range(len(KEYS))]
    raw = columns.pack(columns.header_json(header, KEYS, count), struct.pack(f"<{count}q", *steps),
                       struct.pack(f"<{count}q", *(1_700_000_000_000 + s for s in steps)), values)
    return gzip_bytes(raw)


def mixed_run(spool: Path, run_id: str, endpoint: str) -> list[Path]:
    """Six batches of 7 steps, odd seqs wide rows and even seqs columns."""
    add_run(spool, run_id, endpoint)
    paths = []
    for seq in range(1, 7):
        steps = range((seq - 1) * 7, seq * 7)
        body = (rows_body(run_id, steps, seq, KEYS) if seq % 2
                else columns_body(run_id, steps, seq))
        paths.append(add_batch(spool, run_id, seq, body))
    return paths


def expected() -> list[tuple[str, int, float]]:
    return [(key, s, s + i / 10) for s in range(42) for i, key in enumerate(KEYS)]


def test_verify_and_export_read_both_formats(spool_cli: Callable[..., SpoolResult],
                                             spool: Path) -> None:
    paths = mixed_run(spool, "run_mixed", ENDPOINT)
    assert sum(columns.is_columns_body(p.read_bytes()) for p in paths) == 3
    verified = spool_cli("verify", "--spool-dir", str(spool), "--json").json()
    assert verified["ok"] is True and verified["checked"] == 6
    assert exported(spool_cli, spool) == expected()
    lines = spool_cli("export", "--spool-dir", str(spool)).out.splitlines()
    first_columns = [r for r in map(json.loads, lines) if r["step"] == 7]
    assert {r["runId"] for r in first_columns} == {"run_mixed"}
    assert {r["timestampMs"] for r in first_columns} == {1_700_000_000_007}


def test_a_damaged_columns_body_is_named_and_skipped_whole(spool_cli: Callable[..., SpoolResult],
                                                           spool: Path) -> None:
    paths = mixed_run(spool, "run_damaged", ENDPOINT)
    raw = zlib.decompress(paths[1].read_bytes(), wbits=31)
    paths[1].write_bytes(gzip_bytes(raw[:-8]))  # one value short: a length mismatch
    verified = spool_cli("verify", "--spool-dir", str(spool), "--json")
    assert verified.code == 1
    (bad,) = verified.json()["bad"]
    assert bad["path"] == str(paths[1]) and "does not match" in bad["error"]
    records = exported(spool_cli, spool)
    assert {step for _k, step, _v in records} == set(range(42)) - set(range(7, 14))


def test_compact_merges_both_formats_into_rows_keeping_every_record(
        spool_cli: Callable[..., SpoolResult], spool: Path) -> None:
    mixed_run(spool, "run_compact_mixed", ENDPOINT)
    done = spool_cli("compact", "--spool-dir", str(spool), "--json").json()
    assert done["filesMerged"] == 6 and done["filesWritten"] == 1
    (merged,) = spool.rglob("*.json.gz")
    assert not columns.is_columns_body(merged.read_bytes())
    assert exported(spool_cli, spool) == expected()


def test_replay_uploads_a_mixed_spool_exactly_once(spool_cli: Callable[..., SpoolResult],
                                                   spool: Path,
                                                   shared_collector: CollectorProcess) -> None:
    """Every step arrives once, whether the collector takes columns bodies or (an older one)
    refuses them and gets the equivalent wide rows."""
    mixed_run(spool, "run_mixed_replay", shared_collector.url)
    result = spool_cli("replay", "--spool-dir", str(spool), "--endpoint", shared_collector.url,
                       "--api-key", shared_collector.api_key, "--json")
    assert result.code == 0, result.err
    assert steps_stored(shared_collector, "run_mixed_replay") == list(range(42))
    assert not list(spool.rglob("*.json.gz"))
