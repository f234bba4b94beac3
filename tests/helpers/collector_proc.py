"""Start and stop the real collector as a subprocess, the way a user would.

The collector is launched as ``python -m rundial_collector serve --port 0 --port-file F`` with
bootstrap credentials in the environment; the bound port is read from the port file. Nothing is
mocked: tests talk to it over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


class CollectorProcess:
    """A collector subprocess bound to an ephemeral port on 127.0.0.1.

    Attributes after :meth:`start`: ``url``, ``port``, ``api_key`` (global admin),
    ``workspace`` and ``project`` (slugs created at bootstrap), ``data_dir``.
    :meth:`stop` then :meth:`start` restarts on the same port and data dir.
    """

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None,
                 database_url: str = "") -> None:
        self.data_dir = data_dir
        self.database_url = database_url  # "" runs on SQLite under data_dir
        self.api_key = "rdk_test_" + secrets.token_urlsafe(24)
        self.workspace = "test-ws"
        self.project = "test-proj"
        self.port = 0
        self.extra_env = dict(extra_env or {})
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Launch the collector and wait until ``/health/ready`` answers 2xx."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir.parent / f"{self.data_dir.name}.port"
        port_file.unlink(missing_ok=True)
        env = {**os.environ, **self._bootstrap_env(), **self.extra_env}
        cmd = [sys.executable, "-m", "rundial_collector", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--data-dir", str(self.data_dir),
               "--port-file", str(port_file)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.port = self._wait_for_port(port_file)
        self._wait_ready()

    def stop(self) -> None:
        """SIGTERM (graceful drain), then SIGKILL after a deadline."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL without draining: a crash."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _bootstrap_env(self) -> dict[str, str]:
        return {"RUNDIAL_BOOTSTRAP_API_KEY": self.api_key,
                "RUNDIAL_BOOTSTRAP_WORKSPACE": self.workspace,
                "RUNDIAL_BOOTSTRAP_PROJECT": self.project}

    def _wait_for_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._check_alive()
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text.isdigit():
                return int(text)
            time.sleep(0.02)
        raise RuntimeError(f"collector did not write its port:\n{self.log_text()}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.url + "/health/ready", timeout=2) as resp:
                    if 200 <= resp.status < 300:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"collector never became ready:\n{self.log_text()}")

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"collector exited with {self._proc.returncode}:\n{self.log_text()}")
