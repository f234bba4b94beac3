"""The data directory is private: 0700 directories, 0600 files (issue 14, leaks).

Before: the data directory was 0755 and the SQLite file 0644 (readable by every local user:
API-key hashes, every metric and log line).
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from tests.collector.control import V1
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _publish_blob(proc: CollectorProcess, data: bytes) -> Path:
    """Upload ``data`` as a one-file artifact; return the published blob's path."""
    digest = hashlib.sha256(data).hexdigest()
    body = {"workspace": proc.workspace, "project": proc.project, "runId": "perm-run",
            "name": "perm", "files": [{"path": "f", "sizeBytes": len(data), "sha256": digest}]}
    status, _, started = request("POST", f"{proc.url}{V1}/artifacts/initiate", body,
                                 api_key=proc.api_key)
    assert status == 200, started
    for plan in started["files"]:
        assert request("PUT", plan["url"], raw=data)[0] == 200
    return proc.data_dir / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest


def test_a_fresh_data_dir_is_private(collector: CollectorProcess) -> None:
    """Directories 0700; database, WAL, SHM, signing secret and blob files 0600."""
    data = collector.data_dir
    blob = _publish_blob(collector, b"private bytes")
    dirs = [data, data / "blobs", data / "blobs" / "sha256", blob.parent, blob.parent.parent,
            data / "blobs" / "staging", data / "blobs" / "tmp"]
    files = [data / "rundial.sqlite3", data / "rundial.sqlite3-wal",
             data / "rundial.sqlite3-shm", data / "artifact-signing.key", blob]
    assert {str(d): _mode(d) for d in dirs} == {str(d): 0o700 for d in dirs}
    assert {str(f): _mode(f) for f in files} == {str(f): 0o600 for f in files}


def test_an_existing_loose_data_dir_is_tightened_with_a_warning(tmp_path: Path) -> None:
    """A data dir left 0755 with a 0644 database by an older collector is made private at
    start, and each change is logged."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "rundial.sqlite3").touch(mode=0o644)
    (data / "rundial.sqlite3").chmod(0o644)
    (data / "admin_api_key").write_text("rdk_old\n")
    (data / "admin_api_key").chmod(0o644)
    proc = CollectorProcess(data)
    proc.start()
    try:
        assert _mode(data) == 0o700
        assert _mode(data / "rundial.sqlite3") == 0o600
        assert _mode(data / "admin_api_key") == 0o600
        assert _mode(data / "rundial.sqlite3-wal") == 0o600
        assert proc.log_text().count("tightened") == 3
    finally:
        proc.stop()
