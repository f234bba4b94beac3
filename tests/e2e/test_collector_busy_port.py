"""A busy port is one line and a non-zero exit, before any admin key is generated (issue 13,
CLI defects: "A busy port in make run or rundial-collector serve prints a 25-line traceback")."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on, for the duration of the test."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        yield int(other.getsockname()[1])


def test_serve_on_a_busy_port_says_so_in_one_line_and_creates_no_key(
        busy_port: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "rundial_collector", "serve", "--host",
                           "127.0.0.1", "--port", str(busy_port), "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"rundial-collector: cannot listen on 127.0.0.1:{busy_port}: "
                                   "the port is already in use (stop the other process, or pick "
                                   "another port with --port / RUNDIAL_COLLECTOR_PORT)")
    assert "rdk_" not in done.stdout and not (data / "admin_api_key").exists()


def test_make_run_on_a_busy_port_says_so_in_one_line(busy_port: int, tmp_path: Path) -> None:
    """examples/run_local.py (what `make run` starts) checks the port before the collector."""
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, str(REPO / "examples" / "run_local.py"), "--port",
                           str(busy_port), "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"cannot start the collector: 127.0.0.1:{busy_port} is already in use (and it is not a "
        f"rundial collector); pick another port, e.g. make run PORT={busy_port + 1}"]
    assert "rdk_" not in done.stdout and not (data / "admin_api_key").exists()
