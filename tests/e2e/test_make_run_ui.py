"""``make run`` (examples/run_local.py) prints the web UI's URL and a one-time login link that
opens a session once (issue 15: "make run prints the UI's URL, with a one-time login link")."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.helpers.http import request
from tests.helpers.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_make_run(tmp_path: Path, port: int
                    ) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """``examples/run_local.py`` on ``port`` with its output lines collected as they come."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")}
    proc = subprocess.Popen([sys.executable, str(REPO / "examples" / "run_local.py"), "--port",
                             str(port), "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=tmp_path)
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    return proc, lines, reader


def test_make_run_prints_the_ui_url_and_a_working_one_time_link(tmp_path: Path) -> None:
    port = _free_port()
    proc, lines, reader = _start_make_run(tmp_path, port)
    try:
        link_line = wait_until(lambda: next((x for x in lines if "/login?once=" in x), None),
                               timeout_seconds=60, message="the one-time login link line")
        url = f"http://127.0.0.1:{port}"
        assert any(f"web UI:   {url}/" in x for x in lines), lines
        match = re.search(rf"{re.escape(url)}/login\?once=(rdo_\S+)", link_line)
        assert match, link_line
        link = match.group(0)
        status, headers, _ = request("GET", link, follow_redirects=False)
        assert status == 303 and headers["Location"] == "/" and "rundial_session=" in \
            headers["Set-Cookie"]
        status, headers, _ = request("GET", link, follow_redirects=False)
        assert status == 303 and headers["Location"] == "/login?link=invalid"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    log = "".join(lines)
    assert match.group(1) not in log.replace(link_line, ""), "the token was logged elsewhere"


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_to_make_run_stops_its_collector(tmp_path: Path) -> None:
    """The collector runs in its own session; a SIGTERM to the script must not orphan it."""
    port = _free_port()
    proc, lines, reader = _start_make_run(tmp_path, port)
    try:
        wait_until(lambda: any("Press Ctrl+C" in x for x in lines), timeout_seconds=60,
                   message="the collector's guide")
        assert _answers(port)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        wait_until(lambda: not _answers(port), timeout_seconds=30,
                   message="the collector to stop after the script's SIGTERM")
        assert any("collector stopped" in x for x in lines), lines[-5:]
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=10)
