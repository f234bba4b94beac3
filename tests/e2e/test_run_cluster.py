"""End to end: ``make run-cluster`` (examples/run_cluster.py) brings up PostgreSQL, two
collectors and nginx, serves an SDK run through nginx, and stops every part on Ctrl+C."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers.cluster import assert_exactly_once, sdk_run
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.nginx import nginx_available
from tests.helpers.postgres import free_port, postgres_available
from tests.helpers.waiting import wait_until

# PostgreSQL, two collectors and nginx started by one script: `make test` runs it alone.
pytestmark = [pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available())),
              pytest.mark.serial]

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_make_run_cluster_serves_through_nginx_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """examples/run_cluster.py (``make run-cluster``): PostgreSQL, two collectors and nginx come
    up, an SDK run through nginx arrives, Ctrl+C stops every part."""
    reason = postgres_available()
    if reason is not None:
        pytest.fail(reason)
    port = free_port()
    # The postgres user must reach the data dir: pytest's temp dirs are private to root.
    root = Path(tempfile.mkdtemp(prefix="rundial-run-cluster-"))
    root.chmod(0o711)
    base = root / "data-cluster"
    log = tmp_path / "run-cluster.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "examples" / "run_cluster.py"),
                                 "--port", str(port), "--data-dir", str(base), "--no-example"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO)

    def guide_printed() -> bool:
        assert proc.poll() is None, log.read_text()
        return "rundial cluster is running" in log.read_text()

    try:
        wait_until(guide_printed, 200, 0.1, "the cluster's guide")
        front = CollectorProcess(base / "shared")
        front.port = port
        front.api_key = (base / "shared" / "admin_api_key").read_text().strip()
        front.workspace, front.project = "default-workspace", "default-project"
        run = sdk_run(front, tmp_path)
        for step in range(100):
            run.log({"a": float(step)}, step=step)
        assert run.finish(timeout_s=30) is True
        assert_exactly_once(front, run.id, 100)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)
        text = log.read_text()
        pg_running = (base / "pg" / "data" / "postmaster.pid").exists()
        shutil.rmtree(root, ignore_errors=True)
    assert proc.returncode == 0, text
    assert "cluster stopped" in text
    assert not pg_running  # PostgreSQL was stopped too
    with socket.socket() as sock:  # nginx let go of its port (TIME_WAIT aside)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
