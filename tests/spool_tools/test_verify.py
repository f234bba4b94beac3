"""``rundial-spool verify`` on intact, corrupted and truncated files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rundial._spool.verify import BadBatch, parse_batch
from rundial._spool.writer_queue import try_lock
from rundial._wire.batch import gzip_bytes
from tests.spool_tools.conftest import SpoolResult
from tests.spool_tools.spoolmaker import add_batch, make_run, rows_body

ENDPOINT = "http://127.0.0.1:8787"


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: flip_byte(p, len(p.read_bytes()) // 2), "corrupt gzip data"),
    (lambda p: flip_byte(p, len(p.read_bytes()) - 6), "corrupt gzip data"),
    (lambda p: p.write_bytes(p.read_bytes()[:-6]), "truncated"),
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated"),
    (lambda p: p.write_bytes(p.read_bytes() + b"junk"), "unexpected bytes"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(gzip_bytes(b"{not json")), "not JSON"),
    (lambda p: p.write_bytes(gzip_bytes(b'{"runId": "r", "rows": [[1, 2]]}')), "rows[0]"),
    (lambda p: p.write_bytes(gzip_bytes(b'{"runId": "r", "nothing": []}')), "no single"),
])
def test_verify_names_each_kind_of_damage(spool_cli: Callable[..., SpoolResult], spool: Path,
                                          damage: Callable[[Path], object], message: str) -> None:
    """Each damaged file is reported with its reason; intact files pass; exit code is 1."""
    files = make_run(spool, "run_v", ENDPOINT, batches=3)
    damage(files[1])
    result = spool_cli("verify", "--spool-dir", str(spool), "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["ok"] is False and doc["checked"] == 3
    bad, = doc["bad"]
    assert bad["path"] == str(files[1]) and message in bad["error"]


def test_intact_spool_verifies_and_tmp_files_are_ignored(spool_cli: Callable[..., SpoolResult],
                                                         spool: Path) -> None:
    """A clean spool exits 0; a half-written ``.tmp`` file is listed, never checked or loaded."""
    files = make_run(spool, "run_ok", ENDPOINT, batches=2)
    partial = files[0].with_name("." + files[0].name + ".tmp")
    partial.write_bytes(files[0].read_bytes()[:10])
    doc = spool_cli("verify", "--spool-dir", str(spool), "--json").json()
    assert doc["ok"] is True and doc["checked"] == 2 and doc["inProgressFiles"] == [str(partial)]


def test_a_body_for_another_run_is_structurally_bad(spool_cli: Callable[..., SpoolResult],
                                                    spool: Path) -> None:
    """A batch whose runId differs from its directory is reported (it would be misfiled)."""
    make_run(spool, "run_a", ENDPOINT, batches=1)
    add_batch(spool, "run_a", 2, rows_body("run_b", range(3), 2))
    result = spool_cli("verify", "--spool-dir", str(spool))
    assert result.code == 1 and "not 'run_a'" in result.out


def test_quarantine_moves_bad_files_of_idle_writers_only(spool_cli: Callable[..., SpoolResult],
                                                         spool: Path) -> None:
    """--quarantine moves a bad file to corrupt/ with a reason, but never touches a live writer."""
    idle = make_run(spool, "run_idle", ENDPOINT, batches=2)
    live = make_run(spool, "run_live", ENDPOINT, batches=2)
    idle[0].write_bytes(idle[0].read_bytes()[:-3])
    live[0].write_bytes(live[0].read_bytes()[:-3])
    fd = try_lock(live[0].parent)  # a running process holds this writer
    assert fd is not None
    try:
        doc = spool_cli("verify", "--spool-dir", str(spool), "--quarantine", "--json").json()
    finally:
        os.close(fd)
    assert doc["quarantined"] == 1 and len(doc["bad"]) == 2
    moved = spool / "corrupt" / f"run_idle-{idle[0].parent.name}-{idle[0].name}"
    assert moved.exists() and not idle[0].exists() and live[0].exists()
    assert "truncated" in moved.with_name(moved.name + ".reason").read_text()
    listed = spool_cli("quarantine", "ls", "--spool-dir", str(spool), "--json").json()["files"]
    assert [(f["folder"], f["runId"], f["seq"]) for f in listed] == [("corrupt", "run_idle", 1)]


def test_parse_batch_never_returns_part_of_a_file() -> None:
    """Every strict prefix of a valid body is rejected: partial files are never loaded."""
    body = rows_body("run_p", range(20), 1)
    assert parse_batch(body)["runId"] == "run_p"
    for cut in range(len(body)):
        with pytest.raises(BadBatch):
            parse_batch(body[:cut])
